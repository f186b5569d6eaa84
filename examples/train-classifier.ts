// The README example: trains a small MLP on two spirals and logs params, per-step metrics, a PNG of the
// decision boundary (made with sharp), a Plotly ROC curve, a polars table and the trained weights (an artifact,
// registered as a model version) into the embedded store.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import pl from 'nodejs-polars';
import { openStore, ErrorHandlerType } from 'lablog';
import { Mlp, evaluate, rng, roc, spirals, type Dataset } from './mlp.js';

const defaults = { learning_rate: 0.2, batch_size: 32, hidden_units: 48, epochs: 60, weight_decay: 1e-5, seed: 7 };
// Launched by `lablog run --param …` or store.launch({ params }) (examples/launch-runs.ts), the script gets
// its params in $LABLOG_PARAMS; run by hand, it uses the defaults.
const params: typeof defaults = { ...defaults, ...(JSON.parse(process.env['LABLOG_PARAMS'] ?? '{}') as Partial<typeof defaults>) };

const random = rng(params.seed);
const train = spirals(2000, 0.04, random);
const val = spirals(500, 0.04, random);
const model = new Mlp(params.hidden_units, random);

const store = openStore(); // ./.lablog/lablog.db, or $LABLOG_DIR/lablog.db
const exp = store.createExperiment({
  name: 'spirals-mlp',
  project: 'examples',
  tags: ['mlp', 'spirals'],
  errorHandler: ErrorHandlerType.FAIL,
});
exp.logParams({ ...params, model: 'mlp-tanh', started: new Date() });

const order = Array.from({ length: train.n }, (_, i) => i);
for (let epoch = 0; epoch < params.epochs; epoch++) {
  shuffle(order, random);
  for (let start = 0; start < train.n; start += params.batch_size) {
    const loss = model.step(train, order.slice(start, start + params.batch_size), params.learning_rate, params.weight_decay);
    exp.logMetric('train/loss', loss); // step auto-increments per series
  }
  const { loss, accuracy } = evaluate(model.predict(val), val);
  exp.logMetrics({ 'val/loss': loss, 'val/acc': accuracy }, { step: epoch });
  if (epoch % 20 === 19) {
    await exp.logImage('val/decision_boundary', await decisionBoundary(model, val), { caption: `epoch ${epoch + 1}`, step: epoch });
  }
}

const p = model.predict(val);
const curve = roc(p, val);
exp.logMetric('val/auc', curve.auc);
exp.logPlot('val/roc', {
  data: [
    { x: curve.fpr, y: curve.tpr, type: 'scatter', mode: 'lines', name: `ROC (AUC ${curve.auc.toFixed(3)})` },
    { x: [0, 1], y: [0, 1], type: 'scatter', mode: 'lines', line: { dash: 'dash' }, name: 'chance' },
  ],
  layout: {
    title: { text: 'Validation ROC' },
    xaxis: { title: { text: 'false positive rate' } },
    yaxis: { title: { text: 'true positive rate' } },
  },
});
exp.logTable('val/per_class', perClassTable(p, val));
// The trained weights, kept with the numbers they produced, and registered as a version of the model.
const weights = { hidden: model.hidden, w1: [...model.w1], b1: [...model.b1], w2: [...model.w2], b2: [...model.b2] };
await exp.logArtifact(Buffer.from(JSON.stringify(weights)), { name: 'model', kind: 'model', metadata: { auc: curve.auc } });
await exp.close(); // status 'completed'
const version = store.registerModel('spirals-mlp', { experiment: exp, artifact: 'model', aliases: ['latest'] });
console.log(`Registered model spirals-mlp version ${version.version} (alias latest) from experiment ${exp.id}`);

// What `lablog show` prints for this run:
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
execFileSync(process.execPath, [cli, 'show', exp.id, '--store', store.path], { stdio: 'inherit' });
await store.close();

function shuffle(items: number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/** A 240×240 PNG: the model's class-1 probability as colour, with the validation points on top. */
async function decisionBoundary(model: Mlp, data: Dataset): Promise<Buffer> {
  const size = 240;
  const pixels = Buffer.alloc(size * size * 3);
  const h = new Float64Array(model.hidden);
  const toWorld = (px: number) => (px / (size - 1)) * 2.4 - 1.2;
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const p1 = model.forward(toWorld(col), -toWorld(row), h);
      const o = (row * size + col) * 3;
      pixels[o] = Math.round(255 * (0.35 + 0.6 * p1));
      pixels[o + 1] = 90;
      pixels[o + 2] = Math.round(255 * (0.95 - 0.6 * p1));
    }
  }
  for (let i = 0; i < data.n; i++) {
    const col = Math.round(((data.x[2 * i]! + 1.2) / 2.4) * (size - 1));
    const row = Math.round(((1.2 - data.x[2 * i + 1]!) / 2.4) * (size - 1));
    if (col < 0 || col >= size || row < 0 || row >= size) continue;
    const shade = data.y[i] === 1 ? 255 : 0;
    const o = (row * size + col) * 3;
    pixels[o] = shade;
    pixels[o + 1] = shade;
    pixels[o + 2] = shade;
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

function perClassTable(p: Float64Array, data: Dataset) {
  const rows = [0, 1].map((label) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < data.n; i++) {
      const predicted = p[i]! >= 0.5 ? 1 : 0;
      if (predicted === label && data.y[i] === label) tp++;
      else if (predicted === label) fp++;
      else if (data.y[i] === label) fn++;
    }
    const precision = tp / Math.max(1, tp + fp);
    const recall = tp / Math.max(1, tp + fn);
    return {
      label: `spiral ${label}`,
      precision,
      recall,
      f1: (2 * precision * recall) / Math.max(1e-12, precision + recall),
      support: tp + fn,
    };
  });
  return pl.DataFrame(rows);
}
