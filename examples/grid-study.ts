// A study: a small grid of real training runs (learning rate × hidden units, three seeds each) grouped
// under a hypothesis, then compared with statistics: rankings, Welch t-tests between configurations,
// correlations and the Pareto frontier of validation loss against training time.

import { openStore } from 'lablog';
import { Mlp, evaluate, rng, spirals } from './mlp.js';

const store = openStore(); // ./.lablog/lablog.db, or $LABLOG_DIR/lablog.db
const study = store.createStudy({
  name: `spirals-grid-${new Date().toISOString().slice(0, 19)}`,
  project: 'examples',
  hypothesis: 'A larger learning rate reaches a lower validation loss within 25 epochs',
  template: 'grid_search',
  templateParameters: { search_space: { learning_rate: [0.05, 0.2], hidden_units: [16, 48] }, objective: 'minimize', metric: 'val/loss' },
});

const SEEDS = [1, 2, 3];
const EPOCHS = 25;
const BATCH = 32;
for (const config of study.plan().runs as { learning_rate: number; hidden_units: number }[]) {
  for (const seed of SEEDS) {
    const random = rng(seed);
    const train = spirals(1000, 0.04, random);
    const val = spirals(300, 0.04, random);
    const model = new Mlp(config.hidden_units, random);
    const exp = store.createExperiment({ name: `lr${config.learning_rate}-h${config.hidden_units}-s${seed}`, project: 'examples', study });
    exp.logParams({ ...config, seed, epochs: EPOCHS, batch_size: BATCH });
    const started = performance.now();
    const order = Array.from({ length: train.n }, (_, i) => i);
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let start = 0; start < train.n; start += BATCH) {
        exp.logMetric('train/loss', model.step(train, order.slice(start, start + BATCH), config.learning_rate, 1e-5));
      }
      const { loss, accuracy } = evaluate(model.predict(val), val);
      exp.logMetrics({ 'val/loss': loss, 'val/acc': accuracy }, { step: epoch });
    }
    exp.logMetric('train_seconds', (performance.now() - started) / 1000);
    await exp.close();
  }
}

const metrics = [
  { name: 'val/loss', goal: 'minimize' },
  { name: 'train_seconds', goal: 'minimize' },
] as const;
const comparison = study.compare({ metrics: [...metrics] });
console.log(`study ${study.name}: ${comparison.experiments.length} runs\n`);
const names = new Map(study.experiments().map((e) => [e.id, e.name]));
console.log('val/loss ranking (final values):');
for (const [i, id] of comparison.rankings['val/loss']!.slice(0, 5).entries()) {
  console.log(`  ${i + 1}. ${names.get(id)}  ${comparison.values['val/loss']![id]!.final.toFixed(4)}`);
}
console.log('\ninsights:');
for (const insight of comparison.insights) console.log(`  - ${insight}`);
study.update({ status: 'completed', conclusion: comparison.insights[0] ?? 'no conclusion' });
await store.close();
