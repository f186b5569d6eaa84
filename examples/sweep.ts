// A hyperparameter sweep: TPE over the MLP example's learning rate, width, batch size and weight decay, with
// median pruning, 30 trials two at a time; every trial an experiment of the sweep's study. Then the best
// params, the optimization history and the param importances. Run it again and it goes on where it stopped.

import { openStore } from 'lablog';
import { Mlp, evaluate, rng, spirals } from './mlp.js';

const EPOCHS = 15;
const store = openStore(); // ./.lablog/lablog.db, or $LABLOG_DIR/lablog.db
const sweep = store.createSweep({
  name: 'spirals-mlp-tpe',
  project: 'examples',
  metric: 'val/loss',
  goal: 'min',
  space: {
    learning_rate: { type: 'float', min: 1e-3, max: 1, log: true },
    hidden_units: { type: 'int', min: 4, max: 64, log: true },
    batch_size: { type: 'enum', values: [16, 32, 64] },
    weight_decay: { type: 'float', min: 1e-6, max: 1e-2, log: true },
  },
  sampler: { type: 'tpe', seed: 7 },
  pruner: { type: 'median', warmupSteps: 4 },
  maxTrials: 30,
  parallel: 2,
  loadIfExists: true,
});

const result = await sweep.optimize(async (trial) => {
  const p = trial.params as { learning_rate: number; hidden_units: number; batch_size: number; weight_decay: number };
  const random = rng(trial.number + 1);
  const train = spirals(800, 0.04, random);
  const val = spirals(300, 0.04, random);
  const model = new Mlp(p.hidden_units, random);
  const order = Array.from({ length: train.n }, (_, i) => i);
  let loss = Infinity;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let start = 0; start < train.n; start += p.batch_size) {
      trial.experiment.logMetric(
        'train/loss',
        model.step(train, order.slice(start, start + p.batch_size), p.learning_rate, p.weight_decay),
      );
    }
    const evaluation = evaluate(model.predict(val), val);
    loss = evaluation.loss;
    trial.experiment.logMetrics({ 'val/loss': loss, 'val/acc': evaluation.accuracy }, { step: epoch });
    if (trial.shouldPrune(epoch, loss)) return trial.pruned();
    // Let the other trial of the pair run (the objective is CPU-bound JavaScript).
    await new Promise((resolve) => setImmediate(resolve));
  }
  return loss;
});

const ran = Object.entries(result.ran)
  .filter(([, n]) => n > 0)
  .map(([status, n]) => `${n} ${status}`)
  .join(', ');
console.log(`sweep ${sweep.name}: ${sweep.status}; this run: ${ran || 'nothing left to run'}`);
const best = sweep.best();
if (best !== null) console.log(`best: trial ${best.trial}, val/loss ${best.value.toFixed(4)}, params ${JSON.stringify(best.params)}`);
console.log('\nhistory (best val/loss so far, by trial):');
console.log(
  sweep
    .history()
    .map((h) => `#${h.trial} ${h.best.toFixed(4)}`)
    .join('  '),
);
console.log('\nparam importances (η² of val/loss by param):');
for (const i of sweep.importances()) console.log(`  ${i.param.padEnd(14)} ${(i.importance * 100).toFixed(0)}%`);
await store.close();
