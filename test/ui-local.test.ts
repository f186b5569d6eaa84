// The web UI over a local store (`lablog ui`), in Debian's Chromium: every view over a store filled by a real
// training script, its numbers checked against the store, filter → select → compare, and a live run.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Experiment } from '../src/index.js';
import { sharedTempDir, waitForExit } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/train-ui.ts', import.meta.url));

function runFixture(store: string, ...args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', FIXTURE, store, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What the store says, read through the library (the truth the page is checked against). */
function readStore(path: string) {
  const store = openStore({ path });
  const experiments = store.listExperiments({ project: 'vision' });
  const byName = new Map<string, Experiment>(experiments.map((e) => [e.name, e]));
  const lastLoss = (e: Experiment) => {
    const m = e.getMetric('train/loss');
    return m.values[m.values.length - 1]!;
  };
  return { store, experiments, byName, lastLoss };
}

describe.skipIf(!CHROMIUM_AVAILABLE)('lablog ui over a local store', () => {
  let path: string;
  let ui: UiProcess;
  let browser: Browser;
  let truth: ReturnType<typeof readStore>;
  /** The console errors and failed requests of each page the running test opened (checked after each test). */
  let pageErrors: string[][] = [];
  const shared = sharedTempDir();

  beforeAll(async () => {
    path = join(shared.dir, 'lablog.db');
    const fill = await waitForExit(runFixture(path));
    expect(fill.code, fill.stderr).toBe(0);
    truth = readStore(path);
    ui = await startUi(path);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
    await truth?.store.close();
    shared.remove();
  });

  // Every test's own pages raise no error (each test checks its pages, so it also checks them run alone).
  afterEach(() => {
    const errors = pageErrors.flat();
    pageErrors = [];
    expect(errors, 'errors raised by the pages of this test').toEqual([]);
  });

  async function open(route: string): Promise<Page> {
    const { page, errors } = await openPage(browser);
    pageErrors.push(errors);
    await page.goto(`${ui.url}/#${route}`);
    return page;
  }

  it('lists the experiments with their status, params and last metric values as stored', async () => {
    const page = await open('/');
    await page.waitForSelector('[data-testid="experiments"] tbody tr[data-id]');
    const rows = page.locator('[data-testid="experiments"] tbody tr[data-id]');
    expect(await rows.count()).toBe(7);
    for (const exp of truth.experiments) {
      const row = page.locator(`tr[data-id="${exp.id}"]`);
      await expect.poll(() => row.locator('a').first().textContent()).toBe(exp.name);
      expect(await row.locator('[data-status]').getAttribute('data-status')).toBe(exp.status);
      const loss = row.locator('td[data-col="metric:train/loss:last"]');
      expect(Number(await loss.getAttribute('data-value'))).toBe(truth.lastLoss(exp));
      const lr = row.locator('td[data-col="param:learning_rate"]');
      expect(Number(await lr.getAttribute('data-value'))).toBe(exp.getParams()['learning_rate']);
    }
    expect(await page.locator('tr[data-id] [data-status="failed"]').count()).toBe(1);
    await screenshot(page, 'experiments');
    await page.close();
  });

  it('filters by param and status, selects, and compares the selection (curves, parallel coordinates, scatter, study ranking)', async () => {
    const page = await open('/');
    await page.waitForSelector('[data-testid="experiments"] tbody tr[data-id]');
    await page.fill('[data-testid="filter"]', 'learning_rate >= 0.05');
    await page.press('[data-testid="filter"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(5);
    await page.selectOption('[data-testid="status-filter"]', 'completed');
    await expect.poll(() => page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(4);
    const expected = truth.experiments.filter((e) => e.status === 'completed' && (e.getParams()['learning_rate'] as number) >= 0.05);
    expect(expected).toHaveLength(4);
    // A metric condition on the last value narrows it further, and an error is shown for a bad condition.
    await page.fill('[data-testid="filter"]', 'nonsense <<< 3');
    await page.press('[data-testid="filter"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="filter-error"]').textContent()).not.toBe('');
    await page.fill('[data-testid="filter"]', 'learning_rate >= 0.05');
    await page.press('[data-testid="filter"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(4);

    for (const exp of expected) await page.locator(`tr[data-id="${exp.id}"] [data-testid="select-row"]`).check();
    await page.click('[data-testid="compare"]');
    await page.waitForURL(/#\/compare\?ids=/);
    const ids = new URL(page.url().replace('#/', '')).searchParams.get('ids')!.split(',');
    expect(ids.sort()).toEqual(expected.map((e) => e.id).sort());

    const chart = page.locator('.chart[data-metric="train/loss"]');
    await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
    // Every selected experiment is in the chart's legend, and the points stored are counted.
    const legend = await chart.locator('.u-legend').textContent();
    for (const exp of expected) expect(legend).toContain(exp.name);
    expect(Number(await chart.getAttribute('data-points'))).toBe(expected.reduce((n, e) => n + e.getMetric('train/loss').values.length, 0));

    // The study ranking: best final train/loss first, as the store's numbers say.
    const byLoss = [...expected].sort((a, b) => truth.lastLoss(a) - truth.lastLoss(b));
    const ranking = page.locator('[data-testid="study-comparison"] [data-testid="ranking"][data-id][data-metric="train/loss"]');
    await expect.poll(() => ranking.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    expect(await ranking.first().getAttribute('data-id')).toBe(byLoss[0]!.id);
    await expect.poll(() => page.locator('[data-testid="pareto"]').count()).toBeGreaterThan(0);

    // Plotly draws the parallel coordinates and the scatter once loaded.
    await expect.poll(() => page.locator('[data-testid="parallel"] .main-svg').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('[data-testid="scatter"] .main-svg, [data-testid="scatter"] canvas').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await screenshot(page, 'compare');
    await page.close();
  });

  it('shows an experiment: params, charts with the stored points, images with a slider, the Plotly figure and a paged table', async () => {
    const exp = truth.byName.get('lr0.1-seed1')!;
    const page = await open(`/experiments/${exp.id}`);
    await page.waitForSelector('[data-testid="params"]');
    expect(await page.locator('[data-testid="status"]').textContent()).toContain('completed');
    const params = exp.getParams();
    for (const [key, value] of Object.entries(params)) {
      expect((await page.locator(`[data-testid="params"] [data-param="${key}"]`).textContent())?.trim()).toBe(String(value));
    }
    const chart = page.locator('.chart[data-metric="train/loss"]');
    await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
    expect(Number(await chart.getAttribute('data-points'))).toBe(exp.getMetric('train/loss').values.length);
    expect(Number(await chart.getAttribute('data-last'))).toBe(truth.lastLoss(exp));
    // The table of experiments shows the same last value.
    await expect.poll(() => page.locator('.chart[data-metric="val/acc"]').getAttribute('data-ready')).toBe('1');

    // Images: the slider walks the steps; the caption follows.
    const images = exp.getImages('val/samples');
    const strip = page.locator('[data-testid="image-strip"][data-key="val/samples"]');
    const slider = strip.locator('[data-testid="image-slider"]');
    await slider.fill(String(await slider.getAttribute('max')));
    await expect.poll(() => strip.locator('[data-testid="image-caption"]').textContent()).toContain(images[images.length - 1]!.caption!);

    // The logged Plotly figure, drawn by Plotly.
    await expect
      .poll(() => page.locator('[data-testid="plot"][data-key="val/roc"] .main-svg').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);

    // The table: 120 rows, 50 a page.
    const table = page.locator('[data-testid="table"][data-name="val/per_class"]');
    await expect.poll(() => table.locator('[data-testid="table-range"]').textContent()).toMatch(/1\D+50\D+120/);
    await table.locator('[data-testid="table-next"]').click();
    await expect.poll(() => table.locator('[data-testid="table-range"]').textContent()).toMatch(/51\D+100\D+120/);
    expect(await table.locator('tbody tr').first().textContent()).toContain('class 050');
    await screenshot(page, 'experiment');

    // Zooming into a range fetches that range's points (all of them: 2,000 points, 100 in the range).
    await chart.scrollIntoViewIfNeeded();
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.45, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => chart.getAttribute('data-exact'), { timeout: 10_000 }).toBe('true');
    await page.close();
  });

  it('shows the studies and a study: hypothesis, baseline, conclusion, statistics, members', async () => {
    const page = await open('/studies');
    const row = page.locator('[data-testid="studies"] tr[data-id]');
    await expect.poll(() => row.count()).toBe(1);
    const study = truth.store.listStudies({ project: 'vision' })[0]!;
    expect(await row.first().getAttribute('data-id')).toBe(study.id);
    await row.first().locator('a').first().click();
    await page.waitForSelector('[data-testid="statistics"]');
    expect(await page.locator('[data-testid="hypothesis"]').textContent()).toContain(study.hypothesis!);
    expect(await page.locator('[data-testid="conclusion"]').textContent()).toContain('lr 0.1 reaches the lowest loss');
    expect(await page.locator('[data-testid="baseline"]').textContent()).toContain('paper');
    const stats = study.statistics();
    expect(Number(await page.locator('[data-testid="statistics"] [data-stat="total"]').getAttribute('data-value'))).toBe(stats.total);
    expect(Number(await page.locator('[data-testid="statistics"] [data-stat="completed"]').getAttribute('data-value'))).toBe(
      stats.completed,
    );
    expect(await page.locator('[data-testid="members"] tr[data-id]').count()).toBe(6);
    await screenshot(page, 'study');
    await page.close();
  });

  it('updates a running experiment without reloading the page', async () => {
    const child = runFixture(path, 'live', '400');
    const id = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim().split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`live fixture exited ${code}`)));
    });
    try {
      const page = await open(`/experiments/${id}`);
      const chart = page.locator('.chart[data-metric="train/loss"]');
      await page.waitForSelector('.chart[data-metric="train/loss"][data-ready="1"]', { timeout: 20_000 }).catch(async (error: Error) => {
        throw new Error(`${error.message}\npage: ${await page.locator('main').textContent()}`);
      });
      await page.evaluate('window.sameDocument = true');
      expect(await page.locator('[data-testid="status"] .live-dot').count()).toBe(1);
      const before = Number(await chart.getAttribute('data-points'));
      await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThan(before + 20);
      expect(await page.evaluate('window.sameDocument')).toBe(true);
      await screenshot(page, 'live');
      await page.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
