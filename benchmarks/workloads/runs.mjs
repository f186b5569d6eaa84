// Runs: the supervisor's overhead on the wall time of a CPU-bound child (launched by lablog vs spawned
// bare, same work, interleaved), and how fast lablog captures a child's output into the store (vs the
// same output read from a bare pipe and discarded), with the supervisor's RSS growth while it does.
// Plain JavaScript, run by plain node, so that no TypeScript loader shares the supervising process.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setInterval, clearInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { openStore } from 'lablog';

const CHILD = fileURLToPath(new URL('./runs-child.mjs', import.meta.url));
/** Wall time of the CPU-bound child (calibrated to it), and how many times each way it runs. */
const CPU_SECONDS = Number(process.env.LABLOG_BENCH_RUN_SECONDS ?? 30);
const CPU_REPS = 2;
/** Output captured per flood, and the line lengths tried (typical training log lines, and short ones). */
const FLOOD_MB = 100;
const LINE_BYTES = [100, 40];
const log = (m) => process.stderr.write(`  ${m}\n`);

/** The child run bare: output read from a pipe and discarded; resolves with its wall time (ms). */
function bare(args) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', () => {});
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`child exited ${code}`))));
  });
}

/** The child launched as a run; resolves with its wall time (ms), its final record and the peak RSS growth (MB). */
async function launched(args, logCap) {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-bench-'));
  const store = openStore({ path: join(dir, 'lablog.db') });
  try {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const t0 = performance.now();
    const run = store.launch({ command: process.execPath, args: [CHILD, ...args], logCap });
    const record = await run.wait();
    const ms = performance.now() - t0;
    clearInterval(sampler);
    if (record.status !== 'completed') throw new Error(`run ended ${record.status}: ${record.errorMessage}`);
    return { ms, record, rssGrowthMb: (peak - rss0) / 1e6 };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Calibrate the CPU work to about CPU_SECONDS of this machine.
const probe = 20_000_000;
const probeMs = await bare(['cpu', String(probe)]);
const iterations = Math.round((probe * CPU_SECONDS * 1000) / probeMs);
log(`supervisor overhead: ${iterations.toExponential(2)} iterations (~${CPU_SECONDS} s), ${CPU_REPS} runs each way, interleaved`);
const bareMs = [];
const launchedMs = [];
for (let i = 0; i < CPU_REPS; i++) {
  bareMs.push(await bare(['cpu', String(iterations)]));
  launchedMs.push((await launched(['cpu', String(iterations)])).ms);
}
const best = (xs) => Math.min(...xs);

const capture = {};
for (const lineBytes of LINE_BYTES) {
  const args = ['flood', String(FLOOD_MB), String(lineBytes)];
  const pipeMs = await bare(args);
  const { ms, record, rssGrowthMb } = await launched(args, 2 * FLOOD_MB * 1024 * 1024);
  const expected = Math.ceil((FLOOD_MB * 1e6) / (Math.floor(65_536 / lineBytes) * lineBytes)) * Math.floor(65_536 / lineBytes) * lineBytes;
  // Every line stored whole: its text without the newline.
  const keptAll = record.logBytes === (expected / lineBytes) * (lineBytes - 1) && record.logLinesDropped === 0;
  log(
    `capture of ${lineBytes}-byte lines: ${((expected / ms) * 1e-3).toFixed(1)} MB/s (bare pipe ${((expected / pipeMs) * 1e-3).toFixed(0)} MB/s)`,
  );
  capture[lineBytes] = {
    bytes: expected,
    ms,
    mbPerSecond: (expected / ms) * 1e-3,
    pipeMbPerSecond: (expected / pipeMs) * 1e-3,
    rssGrowthMb,
    keptAll,
    storedTextBytes: record.logBytes,
  };
}

process.stdout.write(
  `RESULT ${JSON.stringify({
    cpuSeconds: CPU_SECONDS,
    bareMs,
    launchedMs,
    overheadFraction: best(launchedMs) / best(bareMs) - 1,
    capture,
  })}\n`,
);
