// Hot path: the cost of each logMetric call while 1,000,000 points flow, and the longest stall.
// Plain JavaScript, run by plain node, so that no TypeScript loader shares the process being timed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from 'lablog';

const POINTS = 1_000_000;
const NAMES = Array.from({ length: 10 }, (_, i) => `train/metric_${i}`);

function percentile(sorted, p) {
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * One run. `warm`: as a training script does, the experiment is set up and its params written before the
 * loop starts, so the writer thread is running; cold: the loop starts right after createExperiment.
 */
async function run(timed, warm = true) {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-bench-'));
  const store = openStore({ path: join(dir, 'lablog.db') });
  const exp = store.createExperiment({ name: 'hot', limits: { maxMetricValues: 2 * POINTS } });
  if (warm) {
    exp.logParams({ lr: 0.01, batch_size: 32 });
    await exp.flush();
  }
  const durations = new Float64Array(timed ? POINTS : 0);
  const t0 = performance.now();
  if (timed) {
    for (let i = 0; i < POINTS; i++) {
      const t = performance.now();
      exp.logMetric(NAMES[i % 10], i);
      durations[i] = performance.now() - t;
    }
  } else {
    for (let i = 0; i < POINTS; i++) exp.logMetric(NAMES[i % 10], i);
  }
  const loopMs = performance.now() - t0;
  await exp.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  durations.sort();
  return { loopMs, durations };
}

// The cost of the timer itself, measured alike around an empty statement.
function timerOverheadNs() {
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

process.stderr.write('  a timed run in the fresh process (cold), untimed runs ×5 (amortized cost), a timed run (warm)\n');
const cold = await run(true, false);
const amortized = [];
for (let r = 0; r < 5; r++) amortized.push(((await run(false)).loopMs * 1e6) / POINTS);
amortized.sort((a, b) => a - b);
const { durations } = await run(true);
process.stdout.write(
  `RESULT ${JSON.stringify({
    points: POINTS,
    amortizedNsPerCall: amortized[2],
    amortizedRuns: amortized,
    p50Ns: percentile(durations, 50) * 1e6,
    p99Ns: percentile(durations, 99) * 1e6,
    p999Ns: percentile(durations, 99.9) * 1e6,
    maxStallMs: durations[durations.length - 1],
    coldMaxStallMs: cold.durations[cold.durations.length - 1],
    coldP99Ns: percentile(cold.durations, 99) * 1e6,
    timerOverheadNs: timerOverheadNs(),
  })}\n`,
);
