// Hot path: the cost of each logMetric call while 1,000,000 points flow, and the longest stall.

import { join } from 'node:path';
import { openStore } from 'lablog';
import { log, percentile, report, tempDir } from '../measure.js';

const POINTS = 1_000_000;
const NAMES = Array.from({ length: 10 }, (_, i) => `train/metric_${i}`);

async function run(timed: boolean) {
  const { dir, remove } = tempDir();
  const store = openStore({ path: join(dir, 'lablog.db') });
  const exp = store.createExperiment({ name: 'hot', limits: { maxMetricValues: 2 * POINTS } });
  const durations = new Float64Array(timed ? POINTS : 0);
  const t0 = performance.now();
  if (timed) {
    for (let i = 0; i < POINTS; i++) {
      const t = performance.now();
      exp.logMetric(NAMES[i % 10]!, i);
      durations[i] = performance.now() - t;
    }
  } else {
    for (let i = 0; i < POINTS; i++) exp.logMetric(NAMES[i % 10]!, i);
  }
  const loopMs = performance.now() - t0;
  await exp.close();
  await store.close();
  remove();
  return { loopMs, durations };
}

// The cost of the timer itself, measured alike around an empty call.
function timerOverheadNs(): number {
  const d = new Float64Array(POINTS);
  let sink = 0;
  for (let i = 0; i < POINTS; i++) {
    const t = performance.now();
    sink += i;
    d[i] = performance.now() - t;
  }
  d.sort();
  return percentile(d, 50) * 1e6 + (sink < 0 ? 1 : 0);
}

log('a timed run in the fresh process (cold), untimed runs ×3 (amortized cost), a timed run (warm)');
const cold = await run(true);
cold.durations.sort();
const amortized: number[] = [];
for (let r = 0; r < 3; r++) amortized.push(((await run(false)).loopMs * 1e6) / POINTS);
const { durations } = await run(true);
durations.sort();
report({
  points: POINTS,
  amortizedNsPerCall: amortized.sort((a, b) => a - b)[1],
  amortizedRuns: amortized,
  p50Ns: percentile(durations, 50) * 1e6,
  p99Ns: percentile(durations, 99) * 1e6,
  p999Ns: percentile(durations, 99.9) * 1e6,
  maxStallMs: durations[durations.length - 1],
  coldMaxStallMs: cold.durations[cold.durations.length - 1],
  coldP99Ns: percentile(cold.durations, 99) * 1e6,
  timerOverheadNs: timerOverheadNs(),
});
