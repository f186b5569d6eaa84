// Sweep overhead: one ask + tell (the TPE sampler over the trials so far, and the store's transactions) in a
// sweep with 1,000 finished trials, timed apart from the trial's 20 reports to the pruner; and the whole
// per-trial cost of optimize() with a trivial objective (which adds creating, logging and durably closing
// the trial's experiment).

import { openStore } from 'lablog';
import { createSampler } from '../../src/core/sampler.js';
import { openStoreBackend } from '../../src/store/open-store-backend.js';
import { log, median, report, tempDir } from '../measure.js';

const FINISHED = 1_000;
const MEASURED = 100;
const REPORTS_PER_TRIAL = 20;
const OPTIMIZE_TRIALS = 50;
const SPACE = {
  lr: { type: 'float', min: 1e-5, max: 1, log: true },
  width: { type: 'int', min: 8, max: 512, log: true },
  optimizer: { type: 'enum', values: ['sgd', 'adam', 'rmsprop'] },
  dropout: { type: 'float', min: 0, max: 0.8 },
} as const;
const loss = (p: Record<string, unknown>) => (Math.log10(p['lr'] as number) + 2) ** 2 + (p['dropout'] as number);

const { dir, remove } = tempDir();
const path = `${dir}/lablog.db`;
const store = openStore({ path });
const created = store.createSweep({
  name: 'overhead',
  metric: 'loss',
  space: SPACE,
  sampler: { type: 'tpe', seed: 1 },
  maxTrials: FINISHED + MEASURED,
});
const backend = openStoreBackend(path);
const sweeps = backend.sweeps();
const record = sweeps.getSweep(created.id)!;
const sampler = createSampler(record.sampler, record.space, record.goal, record.seed);
const worker = { host: 'bench', pid: process.pid };

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
/** Per measured trial: the ask and the tell together, and the reports, in wall and CPU milliseconds. */
const timing = { askTell: [] as number[], reports: [] as number[], askTellCpu: 0, reportsCpu: 0 };

function trial(timed: boolean): void {
  let t0 = performance.now();
  let c0 = process.cpuUsage();
  const outcome = sweeps.askTrial(record.id, worker, (trials, number) => sampler.sample(number, trials), Date.now());
  if (outcome.kind !== 'trial') throw new Error(`ask gave ${outcome.kind}`);
  let askTellMs = performance.now() - t0;
  let askTellCpu = cpuMs(process.cpuUsage(c0));
  const { number, params } = outcome.trial;
  t0 = performance.now();
  c0 = process.cpuUsage();
  for (let step = 0; step < REPORTS_PER_TRIAL; step++)
    sweeps.reportTrial(record.id, number, step, loss(params) + 1 / (step + 1), Date.now());
  const reportsMs = performance.now() - t0;
  const reportsCpu = cpuMs(process.cpuUsage(c0));
  t0 = performance.now();
  c0 = process.cpuUsage();
  sweeps.finishTrial(record.id, number, { status: 'completed', value: loss(params), error: null }, Date.now());
  askTellMs += performance.now() - t0;
  askTellCpu += cpuMs(process.cpuUsage(c0));
  if (!timed) return;
  timing.askTell.push(askTellMs);
  timing.reports.push(reportsMs);
  timing.askTellCpu += askTellCpu;
  timing.reportsCpu += reportsCpu;
}

for (let i = 0; i < FINISHED; i++) trial(false);
for (let i = 0; i < MEASURED; i++) trial(true);
backend.close();
const result = {
  finished: FINISHED,
  measured: MEASURED,
  reportsPerTrial: REPORTS_PER_TRIAL,
  askTellMedianMs: median(timing.askTell),
  askTellMaxMs: Math.max(...timing.askTell),
  askTellCpuMs: timing.askTellCpu / MEASURED,
  reportsMedianMs: median(timing.reports),
  reportsCpuMs: timing.reportsCpu / MEASURED,
  optimizeTrials: OPTIMIZE_TRIALS,
  optimizeMsPerTrial: 0,
};
log(
  `ask + tell with ${FINISHED} finished trials: median ${result.askTellMedianMs.toFixed(2)} ms (CPU ${result.askTellCpuMs.toFixed(2)} ms); ${REPORTS_PER_TRIAL} reports: ${result.reportsMedianMs.toFixed(2)} ms`,
);

const small = store.createSweep({
  name: 'optimize',
  metric: 'loss',
  space: SPACE,
  sampler: { type: 'tpe', seed: 2 },
  maxTrials: OPTIMIZE_TRIALS,
});
const t0 = performance.now();
await small.optimize((t) => loss(t.params));
result.optimizeMsPerTrial = (performance.now() - t0) / OPTIMIZE_TRIALS;
log(`optimize() with a trivial objective: ${result.optimizeMsPerTrial.toFixed(2)} ms per trial`);
await store.close();
remove();
report(result);
