// Lower vs higher is better, through the CLI and the UI: a latency is best when lowest and an accuracy when
// highest on every surface, and a goal the user states wins over the name.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage } from './support/browser.js';
import { CLI } from './support/server-process.js';
import { startUi, type UiProcess } from './support/ui-process.js';

function lablog(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Two runs of a study: `fast` has the lower latency and the lower accuracy, `slow` the higher of both. */
async function fill(path: string): Promise<{ fast: string; slow: string }> {
  const store = openStore({ path });
  const study = store.createStudy({ name: 'serving' });
  const ids: Record<string, string> = {};
  for (const [name, latency, acc] of [
    ['fast', 10, 0.8],
    ['slow', 20, 0.9],
  ] as const) {
    const exp = store.createExperiment({ name, study });
    exp.logMetric('latency', latency);
    exp.logMetric('val/acc', acc);
    await exp.close();
    ids[name] = exp.id;
  }
  await store.close();
  return { fast: ids['fast']!, slow: ids['slow']! };
}

describe('metric goals in the CLI', () => {
  it('picks the best experiment by the goal the name suggests, or the one stated', async () => {
    const path = join(tempDir(), 'lablog.db');
    await fill(path);
    const byLatency = lablog(['study', 'show', 'serving', '--metric', 'latency', '--store', path]);
    expect(byLatency.stderr).toBe('');
    expect(byLatency.stdout).toMatch(/^best {8}fast: latency 10$/m);
    const byAcc = lablog(['study', 'show', 'serving', '--metric', 'val/acc', '--store', path]);
    expect(byAcc.stdout).toMatch(/^best {8}slow: val\/acc 0\.9$/m);
    // A stated goal wins over the name.
    expect(lablog(['study', 'show', 'serving', '--metric', 'latency:max', '--store', path]).stdout).toMatch(/^best {8}slow: latency 20$/m);

    // `lablog show`: the best value of each series, by its goal; --goal states one.
    expect(lablog(['show', 'fast', '--store', path]).stdout).toMatch(/^ {2}latency\s+1\s+0\s+10\s+10 \(min\)$/m);
    expect(lablog(['show', 'fast', '--store', path]).stdout).toMatch(/^ {2}val\/acc\s+1\s+0\s+0\.8\s+0\.8 \(max\)$/m);
    expect(lablog(['show', 'fast', '--goal', 'latency:max', '--store', path]).stdout).toMatch(/^ {2}latency\s+1\s+0\s+10\s+10 \(max\)$/m);
    const bad = lablog(['show', 'fast', '--goal', 'latency', '--store', path]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--goal takes NAME:min or NAME:max, got 'latency'");
  });
});

describe.skipIf(!CHROMIUM_AVAILABLE)('metric goals in the compare view', () => {
  let browser: Browser;
  let ui: UiProcess;
  let ids: { fast: string; slow: string };

  beforeAll(async () => {
    const path = join(tempDir(), 'lablog.db');
    ids = await fill(path);
    ui = await startUi(path);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
  });

  it('marks the lowest latency and the highest accuracy best, and lets the user flip a goal', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${ui.url}/#/compare?ids=${ids.fast},${ids.slow}`);
    const bestOf = async (metric: string) => {
      const cell = page.locator(`[data-testid="compare-table"] td.best[data-col="metric:${metric}:last"]`);
      await cell.waitFor();
      return cell.locator('xpath=..').getAttribute('data-id');
    };
    expect(await bestOf('latency')).toBe(ids.fast);
    expect(await bestOf('val/acc')).toBe(ids.slow);
    const latencySwitch = page.locator('[data-testid="goal-switch"][data-metric="latency"]');
    expect(await latencySwitch.getAttribute('data-goal')).toBe('minimize');

    // Stated: higher latency is better; the best cell moves, the table is not sorted, the URL keeps it.
    await latencySwitch.click();
    await page.waitForSelector('[data-testid="goal-switch"][data-metric="latency"][data-goal="maximize"]');
    expect(await bestOf('latency')).toBe(ids.slow);
    expect(await page.locator('[data-testid="compare-table"] th[aria-sort]').count()).toBe(0);
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain('goals={"latency":"max"}');

    // A reload keeps the stated goal; the study panel's goal for latency follows it.
    await page.reload();
    expect(await bestOf('latency')).toBe(ids.slow);
    await page.waitForSelector('[data-testid="study-goal"][data-metric="latency"]');
    expect(await page.locator('[data-testid="study-goal"][data-metric="latency"]').inputValue()).toBe('maximize');
    expect(await page.locator('[data-testid="study-goal"][data-metric="val/acc"]').inputValue()).toBe('maximize');
    expect(errors).toEqual([]);
    await page.close();
  });
});
