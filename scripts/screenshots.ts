// npm run screenshots: the README's pictures, taken for real. Runs the two examples (one classifier with
// images, a figure and a table; a 12-run grid study) into a fresh store, serves it with `lablog ui`, and
// saves the experiment and compare views from Debian's Chromium into docs/screenshots/.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { openStore } from '../src/index.js';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const OUT = 'docs/screenshots';
const dir = mkdtempSync(join(tmpdir(), 'lablog-screenshots-'));
const env = { ...process.env, LABLOG_DIR: dir };
for (const example of ['examples/train-classifier.ts', 'examples/grid-study.ts']) {
  execFileSync(process.execPath, ['--import', 'tsx', example], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}
const store = openStore({ path: join(dir, 'lablog.db') });
const experiments = store.listExperiments({ project: 'examples' });
const classifier = experiments.find((e) => e.name === 'spirals-mlp')!;
const members = experiments.filter((e) => e.name.startsWith('lr')).map((e) => e.id);
await store.close();

const ui = spawn(process.execPath, ['dist/cli/main.js', 'ui', '--store', join(dir, 'lablog.db'), '--port', '0'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  ui.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const match = /lablog ui on (\S+)/.exec(out);
    if (match) resolve(match[1]!);
  });
  ui.once('exit', (code) => reject(new Error(`lablog ui exited ${code}`)));
});
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS, headless: true });
try {
  mkdirSync(OUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${url}/#/experiments/${classifier.id}`);
  await page.waitForSelector('.chart[data-metric="train/loss"][data-ready="1"]');
  await page.waitForSelector('[data-testid="plot"] .main-svg');
  await page.screenshot({ path: `${OUT}/experiment.png` });
  await page.goto(`${url}/#/compare?ids=${members.join(',')}&metric=val/loss`);
  await page.waitForSelector('.chart[data-metric="val/loss"][data-ready="1"]');
  await page.waitForSelector('[data-testid="parallel"] .main-svg', { timeout: 30_000 });
  await page.setViewportSize({ width: 1280, height: 1300 });
  await page.screenshot({ path: `${OUT}/compare.png` });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${url}/#/experiments?project=examples`);
  await page.waitForSelector('[data-testid="experiments"] tbody tr[data-id]');
  await page.screenshot({ path: `${OUT}/experiments.png` });
  process.stdout.write(`saved ${OUT}/experiment.png, compare.png, experiments.png\n`);
} finally {
  await browser.close();
  ui.kill();
  rmSync(dir, { recursive: true, force: true });
}
