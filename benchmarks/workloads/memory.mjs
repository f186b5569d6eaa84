// Memory: 10,000,000 points streamed through one experiment; RSS sampled throughout against its start.
// Plain JavaScript, run by plain node: a TypeScript loader would add memory of its own to what is measured.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from 'lablog';

const POINTS = 10_000_000;
const SAMPLE_EVERY = 100_000;
const NAMES = Array.from({ length: 10 }, (_, i) => `train/metric_${i}`);
const dir = mkdtempSync(join(tmpdir(), 'lablog-bench-'));
const store = openStore({ path: join(dir, 'lablog.db') });
const exp = store.createExperiment({ name: 'memory', limits: { maxMetricValues: 2 * POINTS } });
// Warm the writer up (first flush, writer thread) so the baseline includes fixed costs.
for (let i = 0; i < 20_000; i++) exp.logMetric('warmup', i);
await exp.flush();
const baseline = process.memoryUsage.rss();
let maxGrowth = 0;
let samples = 0;
process.stderr.write(`  ${POINTS} points, RSS every ${SAMPLE_EVERY}\n`);
const t0 = performance.now();
for (let i = 0; i < POINTS; i++) {
  exp.logMetric(NAMES[i % 10], i);
  if (i % SAMPLE_EVERY === 0) {
    maxGrowth = Math.max(maxGrowth, process.memoryUsage.rss() - baseline);
    samples++;
    // Yield now and then, as a training loop awaiting data or a GPU does.
    if (i % (10 * SAMPLE_EVERY) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}
await exp.close();
const seconds = (performance.now() - t0) / 1000;
const stored = exp.listSeries().reduce((n, s) => (s.name === 'warmup' ? n : n + s.count), 0);
await store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `RESULT ${JSON.stringify({
    points: POINTS,
    stored,
    dropped: exp.stats().droppedPoints,
    backpressureWaits: exp.stats().backpressureWaits,
    backpressureMs: exp.stats().backpressureMs,
    baselineRssMb: baseline / 2 ** 20,
    maxRssGrowthMb: maxGrowth / 2 ** 20,
    samples,
    pointsPerSecond: POINTS / seconds,
  })}\n`,
);
