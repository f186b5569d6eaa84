// Many experiments: 1,000 experiments × 1,000 points, then listing them and reading one metric's last value across all.

import { join } from 'node:path';
import { openStore } from 'lablog';
import { log, median, report, tempDir } from '../measure.js';

const EXPERIMENTS = 1_000;
const POINTS = 1_000;
const { dir, remove } = tempDir();
const path = join(dir, 'lablog.db');
const writer = openStore({ path });
log(`${EXPERIMENTS} experiments × ${POINTS} points`);
const t0 = performance.now();
for (let e = 0; e < EXPERIMENTS; e++) {
  const exp = writer.createExperiment({ name: 'sweep', project: 'many', tags: [e % 2 ? 'odd' : 'even'] });
  exp.logParams({ lr: 10 ** -(1 + (e % 4)), seed: e });
  for (let i = 0; i < POINTS; i++) exp.logMetric('val/loss', 1 / (i + 1 + e));
  await exp.close();
}
const writeMs = performance.now() - t0;
await writer.close();

const listMs: number[] = [];
const lastValueMs: number[] = [];
for (let r = 0; r < 5; r++) {
  const store = openStore({ path });
  let t = performance.now();
  const experiments = store.listExperiments({ project: 'many' });
  listMs.push(performance.now() - t);
  if (experiments.length !== EXPERIMENTS) throw new Error(`listed ${experiments.length}`);
  t = performance.now();
  let sum = 0;
  for (const exp of experiments) sum += exp.listSeries().find((s) => s.name === 'val/loss')!.lastValue!;
  lastValueMs.push(performance.now() - t);
  if (!(sum > 0)) throw new Error('no last values');
  await store.close();
}
remove();
report({ experiments: EXPERIMENTS, points: POINTS, writeMs, listMs: median(listMs), lastValueAcrossAllMs: median(lastValueMs) });
