// The sweep page in Chromium on `lablog ui`: header, optimization history, sortable and filterable trials, parallel coordinates, importances, the list and the study's link, and live updates.

import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store, type Sweep } from '../src/index.js';
import { sharedTempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

const SPACE = {
  lr: { type: 'float', min: 1e-4, max: 1, log: true },
  optimizer: { type: 'enum', values: ['sgd', 'adam'] },
} as const;

/** Longer than two of the sweep page's poll periods (SWEEP_POLL_MS, 2 s): a page still polling would read in it. */
const QUIET_MS = 4_500;

/** A toy loss: best near lr = 0.01 with adam. */
const toy = (p: Record<string, unknown>) => (Math.log10(p['lr'] as number) + 2) ** 2 + (p['optimizer'] === 'adam' ? 0 : 0.5);

/** Trials 2 and 7 fail, 4 and 9 are pruned, the others complete with the toy loss. */
async function objective(trial: Parameters<Parameters<Sweep['optimize']>[0]>[0]) {
  if (trial.number % 5 === 2) throw new RangeError('diverged');
  if (trial.number % 5 === 4) {
    trial.report(0, 9);
    return trial.pruned();
  }
  return toy(trial.params);
}

describe.skipIf(!CHROMIUM_AVAILABLE)('the sweep page', () => {
  const shared = sharedTempDir();
  let store: Store;
  let done: Sweep;
  let live: Sweep;
  let ui: UiProcess;
  let browser: Browser;

  beforeAll(async () => {
    const path = join(shared.dir, 'lablog.db');
    store = openStore({ path });
    done = store.createSweep({
      name: 'tune',
      project: 'mnist',
      metric: 'val/loss',
      space: SPACE,
      sampler: { type: 'random', seed: 3 },
      maxTrials: 12,
    });
    await done.optimize(objective);
    live = store.createSweep({
      name: 'live',
      project: 'mnist',
      metric: 'val/loss',
      space: SPACE,
      sampler: { type: 'random', seed: 4 },
      maxTrials: 20,
    });
    await live.optimize(objective, { trials: 2 });
    ui = await startUi(path);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
    await store?.close();
    shared.remove();
  });

  /** A page at `route`; `errors` collects console errors and Content-Security-Policy violations. */
  async function open(route: string): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage(browser);
    await opened.page.exposeFunction('reportViolation', (text: string) => opened.errors.push(`csp: ${text}`));
    await opened.page.addInitScript({
      content:
        "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });
    await opened.page.goto(`${ui.url}/#${route}`);
    return opened;
  }

  /** The value cells of the trials table, top to bottom (null for an empty cell). */
  const valueColumn = (page: Page) =>
    page
      .locator('[data-testid="sweep-trials"] tbody td[data-col="value"]')
      .evaluateAll((cells) => cells.map((c) => (c.getAttribute('data-value') === null ? null : Number(c.getAttribute('data-value')))));
  const trialNumbers = (page: Page) =>
    page.locator('[data-testid="sweep-trials"] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-trial'))));

  it('shows the header, the history, the trials sorted and filtered, the parallel coordinates and the importances', async () => {
    const trials = done.trials();
    expect(trials.map((t) => t.status)).toEqual([
      'completed',
      'completed',
      'failed',
      'completed',
      'pruned',
      'completed',
      'completed',
      'failed',
      'completed',
      'pruned',
      'completed',
      'completed',
    ]);
    const best = done.best()!;
    const history = done.history();
    const { page, errors } = await open(`/sweeps/${done.id}`);

    // Header: name, status, search, progress, best.
    const header = page.locator('[data-testid="sweep-header"]');
    await header.waitFor();
    expect(await page.locator('h1').textContent()).toContain('tune');
    expect(await header.locator('[data-field="status"]').getAttribute('data-value')).toBe('finished');
    expect(await header.locator('[data-field="sampler"]').textContent()).toBe('random (seed 3)');
    expect(await header.locator('[data-field="pruner"]').textContent()).toBe('none');
    expect(await header.locator('[data-field="objective"]').textContent()).toBe('minimize val/loss');
    expect(await header.locator('[data-field="trials"]').textContent()).toBe('12 / 12');
    expect(Number(await header.locator('[data-field="best"]').getAttribute('data-value'))).toBe(best.value);
    expect(await header.locator('[data-field="best"]').textContent()).toContain(`trial ${best.trial}`);
    expect(JSON.parse((await header.locator('[data-field="best-params"]').getAttribute('data-value'))!)).toEqual(best.params);
    expect(await page.locator('[data-testid="sweep-page"]').getAttribute('data-live')).toBe('0');

    // The history chart: what uPlot drew — one point per completed trial, by number, and the best so far.
    const chart = page.locator('[data-testid="sweep-history"]');
    await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 15_000 }).toBe('1');
    expect(await chart.getAttribute('data-points')).toBe(String(history.length));
    expect(history).toHaveLength(8);
    expect(await chart.getAttribute('data-trials')).toBe(history.map((p) => p.trial).join(','));
    expect(Number(await chart.getAttribute('data-best'))).toBe(best.value);
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);

    // The table: every trial; sorted by value ascending then descending on header clicks (empty values last both ways).
    expect(await trialNumbers(page)).toEqual(trials.map((t) => t.number));
    const completedValues = trials.flatMap((t) => (t.value === null ? [] : [t.value]));
    const empties = trials.filter((t) => t.value === null).map(() => null);
    await page.locator('[data-testid="sweep-trials"] th[data-col="value"]').click();
    expect(await valueColumn(page)).toEqual([...[...completedValues].sort((a, b) => a - b), ...empties]);
    expect(await page.locator('[data-testid="sweep-trials"] th[data-col="value"]').getAttribute('data-sort')).toBe('asc');
    await page.locator('[data-testid="sweep-trials"] th[data-col="value"]').click();
    expect(await valueColumn(page)).toEqual([...[...completedValues].sort((a, b) => b - a), ...empties]);
    expect(page.url()).toContain('sort=value&order=desc');
    // A param column sorts too (an enum as text).
    await page.locator('[data-testid="sweep-trials"] th[data-col="param:optimizer"]').click();
    const optimizers = await page
      .locator('[data-testid="sweep-trials"] tbody td[data-col="param:optimizer"]')
      .evaluateAll((cells) => cells.map((c) => c.textContent));
    expect(optimizers).toEqual([...optimizers].sort());

    // The status filter narrows the rows.
    await page.locator('[data-testid="trial-status-filter"]').selectOption('failed');
    expect(await trialNumbers(page)).toEqual([2, 7]);
    expect(await page.locator('[data-testid="trial-count"]').textContent()).toBe('2 of 12 trials');
    await page.locator('[data-testid="trial-status-filter"]').selectOption('pruned');
    expect((await trialNumbers(page)).sort((a, b) => a - b)).toEqual([4, 9]);
    await page.locator('[data-testid="trial-status-filter"]').selectOption('stopped');
    expect(await trialNumbers(page)).toEqual([]);
    expect(await page.locator('[data-testid="trials-empty"]').isVisible()).toBe(true);
    await page.locator('[data-testid="trial-status-filter"]').selectOption('');
    expect(await trialNumbers(page)).toHaveLength(12);

    // Parallel coordinates: Plotly's trace has one line per completed trial, the objective as the last axis and the line colour.
    const parallel = page.locator('[data-testid="sweep-parallel"]');
    await expect.poll(() => parallel.getAttribute('data-ready'), { timeout: 30_000 }).toBe('1');
    const trace = (await page.evaluate(
      '(() => { const t = document.querySelector(\'[data-testid="sweep-parallel"]\').data[0]; return { type: t.type, labels: t.dimensions.map((d) => d.label), last: Array.from(t.dimensions[t.dimensions.length - 1].values), color: Array.from(t.line.color) }; })()',
    )) as { type: string; labels: string[]; last: number[]; color: number[] };
    expect(trace.type).toBe('parcoords');
    expect(trace.labels).toEqual(['lr', 'optimizer', 'val/loss']);
    expect(trace.last).toEqual(completedValues);
    expect(trace.color).toEqual(completedValues);

    // Importances: one bar per param, the library's numbers, the method named.
    const bars = page.locator('[data-testid="sweep-importances"] li[data-param]');
    expect(await bars.count()).toBe(2);
    const shown = await bars.evaluateAll((items) =>
      items.map((li) => [li.getAttribute('data-param'), Number(li.getAttribute('data-importance'))]),
    );
    expect(shown).toEqual(done.importances().map((i) => [i.param, i.importance]));
    expect(await page.locator('[data-testid="importance-method"]').textContent()).toContain('η²');
    await screenshot(page, 'ui-sweep');
    expect(errors).toEqual([]);
  });

  it('is listed on the sweeps page and linked from its study page', async () => {
    const { page, errors } = await open('/sweeps');
    const rows = page.locator('[data-testid="sweeps"] tbody tr');
    await rows.first().waitFor();
    expect((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))).sort()).toEqual([done.id, live.id].sort());
    await page.locator(`[data-testid="sweeps"] tr[data-id="${done.id}"] a`).click();
    await page.locator('[data-testid="sweep-header"]').waitFor();
    expect(page.url()).toContain(`#/sweeps/${done.id}`);
    await page.goto(`${ui.url}/#/studies/${done.id}`);
    await page.locator('[data-testid="study-sweep"]').click();
    await page.locator('[data-testid="sweep-header"]').waitFor();
    expect(await page.locator('h1').textContent()).toContain('tune');
    // A study that is not a sweep has no link; an id that is no sweep shows the not-found state.
    const plain = store.createStudy({ name: 'plain', project: 'mnist' });
    await page.goto(`${ui.url}/#/studies/${plain.id}`);
    await page.locator('[data-testid="statistics"]').waitFor();
    expect(await page.locator('[data-testid="study-sweep"]').count()).toBe(0);
    await page.goto(`${ui.url}/#/sweeps/${plain.id}`);
    await page.locator('.error h2').waitFor();
    expect(await page.locator('.error h2').textContent()).toBe('Not found');
    // The not-found page's failed request is the only console error.
    expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
  });

  it('shows the empty states of a sweep without trials, and keeps a sort and filter from the address', async () => {
    const empty = store.createSweep({
      name: 'empty',
      project: 'mnist',
      metric: 'val/acc',
      space: SPACE,
      sampler: { type: 'tpe' },
      pruner: { type: 'median', warmupSteps: 3 },
    });
    const { page, errors } = await open(`/sweeps/${empty.id}`);
    const header = page.locator('[data-testid="sweep-header"]');
    await header.waitFor();
    expect(await header.locator('[data-field="trials"]').textContent()).toBe('0 / 100');
    expect(await header.locator('[data-field="best"]').textContent()).toBe('no completed trial yet');
    expect(await header.locator('[data-field="objective"]').textContent()).toBe('maximize val/acc');
    expect(await header.locator('[data-field="pruner"]').textContent()).toBe('median (warmupSteps 3)');
    expect(await page.locator('[data-testid="sweep-page"]').getAttribute('data-live')).toBe('1');
    expect(await page.locator('[data-testid="history-empty"]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="sweep-history"]').isVisible()).toBe(false);
    expect(await page.locator('[data-testid="trials-empty"]').textContent()).toContain('No trials yet');
    await page.locator('[data-testid="sweep-parallel-empty"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid="importances-empty"]').isVisible()).toBe(true);

    // The address keeps the table's sort and filter (a reload, a shared link).
    await page.goto(`${ui.url}/#/sweeps/${done.id}?sort=value&order=desc&status=completed`);
    await page.locator('[data-testid="sweep-trials"] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid="trial-status-filter"]').inputValue()).toBe('completed');
    const values = done.trials().flatMap((t) => (t.value === null ? [] : [t.value]));
    expect(await valueColumn(page)).toEqual([...values].sort((a, b) => b - a));
    await page.goto(`${ui.url}/#/sweeps/${done.id}?status=bogus`);
    await expect.poll(() => trialNumbers(page).then((n) => n.length), { timeout: 15_000 }).toBe(12);
    expect(errors).toEqual([]);
  });

  it('follows a running sweep: a trial completed while the page is open shows without a reload, and it stops when the sweep ends', async () => {
    const { page, errors } = await open(`/sweeps/${live.id}`);
    const chart = page.locator('[data-testid="sweep-history"]');
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 15_000 }).toBe('2');
    expect(await page.locator('[data-testid="sweep-page"]').getAttribute('data-live')).toBe('1');
    expect(await trialNumbers(page)).toEqual([0, 1]);
    // Sort by value descending first: the live re-reads keep the user's sort.
    await page.locator('[data-testid="sweep-trials"] th[data-col="value"]').click();
    await page.locator('[data-testid="sweep-trials"] th[data-col="value"]').click();

    // Trial 2 fails, trial 3 completes.
    await live.optimize(objective, { trials: 2 });
    const values = live.trials().flatMap((t) => (t.value === null ? [] : [t.value]));
    expect(values).toHaveLength(3);
    await expect.poll(() => chart.getAttribute('data-points'), { timeout: 15_000 }).toBe('3');
    expect(await chart.getAttribute('data-trials')).toBe('0,1,3');
    await expect.poll(() => trialNumbers(page).then((n) => n.length), { timeout: 15_000 }).toBe(4);
    expect(await valueColumn(page)).toEqual([...[...values].sort((a, b) => b - a), null]);
    expect(await page.locator('[data-testid="sweep-header"] [data-field="trials"]').textContent()).toBe('4 / 20');
    await expect.poll(() => page.locator('[data-testid="sweep-parallel"]').getAttribute('data-lines'), { timeout: 15_000 }).toBe('3');
    expect(Number(await page.locator('[data-testid="sweep-header"] [data-field="best"]').getAttribute('data-value'))).toBe(
      live.best()!.value,
    );

    // Stopped: the page shows it and stops re-reading.
    live.stop();
    await expect.poll(() => page.locator('[data-testid="sweep-page"]').getAttribute('data-live'), { timeout: 15_000 }).toBe('0');
    expect(await page.locator('[data-testid="sweep-header"] [data-field="status"]').getAttribute('data-value')).toBe('stopped');
    const reads: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes(`/api/v1/sweeps/${live.id}`)) reads.push(request.url());
    });
    // Nothing to wait for here but time: an absence. Over two of the page's poll periods (2 s), no read.
    await page.evaluate(`new Promise((resolve) => setTimeout(resolve, ${QUIET_MS}))`);
    expect(reads).toEqual([]);
    expect(errors).toEqual([]);
  });
});
