// UI: first useful paint of the compare view over 100 experiments × 100,000 points (Debian's Chromium,
// `lablog ui` on loopback), against downloading those series whole as JSON (what a UI without server-side
// downsampling would fetch); and the experiments page of a 1,000-experiment store.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { openStore } from 'lablog';
import { log, median, report, tempDir } from '../measure.js';

const EXPERIMENTS = 100;
const POINTS = 100_000;
const TABLE_EXPERIMENTS = 1_000;
const REPS = 3;
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

const { dir, remove } = tempDir();

async function fill(path: string, experiments: number, points: number): Promise<string[]> {
  const store = openStore({ path });
  const ids: string[] = [];
  for (let e = 0; e < experiments; e++) {
    const exp = store.createExperiment({ name: `run-${e}`, project: 'bench', limits: { maxMetricValues: 2 * points + 1_000 } });
    exp.logParams({ learning_rate: 0.001 * (1 + (e % 10)), width: 16 << (e % 4), seed: e });
    for (let i = 0; i < points; i++)
      exp.logMetric('train/loss', Math.exp(-i / (points / 5)) * (1 + 0.3 * Math.sin(i / 50 + e)) + e * 0.001);
    if (points >= 100)
      for (let i = 0; i < 100; i++) exp.logMetric('val/acc', 1 - Math.exp(-i / 20) * 0.9 - e * 0.0001, { step: i * (points / 100) });
    ids.push(exp.id);
    await exp.close();
  }
  await store.close();
  return ids;
}

async function startUi(store: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'ui', '--store', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /lablog ui on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`lablog ui exited ${code}`)));
  });
  return { url, child };
}

const big = join(dir, 'big.db');
let t0 = performance.now();
const ids = await fill(big, EXPERIMENTS, POINTS);
log(`filled ${EXPERIMENTS} × ${POINTS.toLocaleString()} points in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const ui = await startUi(big);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, headless: true });
try {
  const paints: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${ui.url}/#/compare?ids=${ids.join(',')}`);
    await page.waitForSelector('body[data-compare-painted="1"]', { timeout: 60_000 });
    paints.push(await page.evaluate(() => performance.getEntriesByName('lablog:compare-painted')[0]?.startTime ?? Number.NaN));
    await context.close();
  }
  log(`compare view painted in ${paints.map((p) => p.toFixed(0)).join(', ')} ms`);

  // The same curves as the page draws them (one request, downsampled on the server)…
  t0 = performance.now();
  const down = await fetch(`${ui.url}/api/v1/ui/series?key=train%2Floss&experiments=${ids.join(',')}&points=2000`);
  const downBytes = (await down.arrayBuffer()).byteLength;
  const downMs = performance.now() - t0;
  // …against the series whole, as JSON (the read API), in parallel requests.
  t0 = performance.now();
  const whole = await Promise.all(
    ids.map((id) => fetch(`${ui.url}/api/v1/experiments/${id}/metrics?key=train%2Floss&limit=100000`).then((r) => r.arrayBuffer())),
  );
  const wholeMs = performance.now() - t0;
  const wholeBytes = whole.reduce((a, b) => a + b.byteLength, 0);
  log(
    `series: downsampled ${(downBytes / 1e6).toFixed(2)} MB in ${downMs.toFixed(0)} ms; whole ${(wholeBytes / 1e6).toFixed(1)} MB in ${wholeMs.toFixed(0)} ms`,
  );
  ui.child.kill();

  const wide = join(dir, 'wide.db');
  await fill(wide, TABLE_EXPERIMENTS, 10);
  const ui2 = await startUi(wide);
  const tables: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    t0 = performance.now();
    await page.goto(`${ui2.url}/#/experiments?project=bench`);
    await page.waitForSelector('[data-testid="experiments"] tbody tr', { timeout: 60_000 });
    tables.push(performance.now() - t0);
    await context.close();
  }
  ui2.child.kill();
  log(`experiments page (${TABLE_EXPERIMENTS}) shown in ${tables.map((p) => p.toFixed(0)).join(', ')} ms`);

  report({
    experiments: EXPERIMENTS,
    points: POINTS,
    comparePaintMs: median(paints),
    comparePaints: paints,
    downsampled: { bytes: downBytes, ms: downMs },
    whole: { bytes: wholeBytes, ms: wholeMs },
    tableExperiments: TABLE_EXPERIMENTS,
    tableMs: median(tables),
  });
} finally {
  await browser.close();
  ui.child.kill();
  if (process.env['LABLOG_BENCH_KEEP'] === undefined) remove();
  else log(`kept ${dir}`);
}
