// The web UI at the edges: every page on an empty store shows a helpful empty state (no error), and a store of
// 1,000 experiments lists, filters, sorts and compares.

import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

/** The loss rank of seeds 0–9 (0 = highest loss): a shuffle, so no other column orders the rows the same way. */
const LOSS_RANK = [4, 7, 0, 3, 6, 9, 2, 5, 8, 1];

describe.skipIf(!CHROMIUM_AVAILABLE)('lablog ui at the edges', () => {
  let browser: Browser;
  const uis: UiProcess[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const ui of uis) ui.child.kill();
  });

  async function visit(ui: UiProcess, route: string): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await openPage(browser);
    await page.goto(`${ui.url}/#${route}`);
    return { page, errors };
  }

  it('shows an empty state, not an error, on every page of an empty store', async () => {
    const ui = await startUi(join(tempDir(), 'empty.db'));
    uis.push(ui);
    for (const route of ['/', '/experiments?project=nothing', '/studies', '/compare', '/compare?ids=a,b']) {
      const { page, errors } = await visit(ui, route);
      await page.waitForSelector('.empty', { timeout: 10_000 });
      expect(await page.locator('.error').count(), route).toBe(0);
      expect(errors, route).toEqual([]);
      if (route === '/') {
        // It tells how to log a first experiment.
        expect(await page.locator('.empty').textContent()).toContain('createExperiment');
        await screenshot(page, 'empty-store');
      }
      await page.close();
    }
    // An experiment that does not exist is a clear "not found", not a crash.
    const { page } = await visit(ui, '/experiments/0d4f1f6e-1111-4aaa-8bbb-123456789abc');
    await page.waitForSelector('.error, .empty');
    expect(await page.locator('main').textContent()).toMatch(/not found|no experiment/i);
    await page.close();
  });

  it('lists, filters, sorts and compares a store of 1,000 experiments', async () => {
    const path = join(tempDir(), 'wide.db');
    const store = openStore({ path });
    for (let i = 0; i < 1_000; i++) {
      const exp = store.createExperiment({
        name: `run-${String(i).padStart(4, '0')}`,
        project: 'wide',
        tags: [i % 2 === 0 ? 'even' : 'odd'],
      });
      exp.logParams({ seed: i, learning_rate: 0.001 * (1 + (i % 10)) });
      // Within each ten seeds the loss is a shuffle of their order (LOSS_RANK), so a sort by loss differs from
      // a sort by name, seed or start time in either direction.
      const rank = Math.floor(i / 10) * 10 + LOSS_RANK[i % 10]!;
      for (let step = 0; step < 5; step++) exp.logMetric('loss', 1 / (1 + step + rank), { step });
      await exp.close();
    }
    await store.close();
    const ui = await startUi(path);
    uis.push(ui);

    const { page, errors } = await visit(ui, '/');
    await page.waitForSelector('[data-testid="experiments"] tbody tr[data-id]');
    expect(await page.locator('[data-testid="row-count"]').textContent()).toMatch(/1,?000/);
    // At most 500 rows are drawn at once; the rest come with "Show more".
    const drawn = await page.locator('[data-testid="experiments"] tbody tr[data-id]').count();
    expect(drawn).toBeLessThanOrEqual(500);
    await page.click('[data-testid="show-more"]');
    await expect.poll(() => page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBeGreaterThan(drawn);

    await page.fill('[data-testid="filter"]', 'seed < 10');
    await page.press('[data-testid="filter"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(10);
    // Clicking the last loss sorts by it ascending, a second click descending: the whole order of the ten rows
    // is checked after each click, and neither is the order of names, seeds or start times.
    const names = () => page.locator('[data-testid="experiments"] tbody tr[data-id] a').allTextContents();
    const header = page.locator('[data-testid="experiments"] th[data-col="metric:loss:last"]');
    const byLoss = (seeds: number[]) => seeds.map((seed) => `run-${String(seed).padStart(4, '0')}`);
    // Lowest last loss = highest rank: LOSS_RANK[5] = 9, LOSS_RANK[8] = 8, … LOSS_RANK[2] = 0.
    const ascending = byLoss([5, 8, 1, 4, 7, 0, 3, 6, 9, 2]);
    await header.click();
    await expect.poll(() => header.getAttribute('data-sort'), { timeout: 10_000 }).toBe('asc');
    await expect.poll(names, { timeout: 10_000 }).toEqual(ascending);
    await header.click();
    await expect.poll(() => header.getAttribute('data-sort'), { timeout: 10_000 }).toBe('desc');
    await expect.poll(names, { timeout: 10_000 }).toEqual([...ascending].reverse());

    await page.fill('[data-testid="filter"]', '');
    await page.selectOption('[data-testid="tag-filter"]', 'even');
    await page.press('[data-testid="filter"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="row-count"]').textContent()).toMatch(/500/);
    await screenshot(page, 'thousand-experiments');

    // Select the visible rows (the first 500 drawn) and compare them all.
    await page.fill('[data-testid="filter"]', 'seed < 40');
    await page.press('[data-testid="filter"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(20);
    for (const box of await page.locator('[data-testid="select-row"]').all()) await box.check();
    await page.click('[data-testid="compare"]');
    const chart = page.locator('.chart[data-metric="loss"]');
    await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
    expect(Number(await chart.getAttribute('data-points'))).toBe(20 * 5);
    expect(errors).toEqual([]);
    await page.close();

    // The other pages of the same store: one experiment, and the studies (there are none).
    const other = await visit(ui, '/');
    await other.page.waitForSelector('[data-testid="experiments"] tbody tr[data-id] a');
    await other.page.locator('[data-testid="experiments"] tbody tr[data-id] a').first().click();
    await other.page.waitForSelector('.chart[data-metric="loss"][data-ready="1"]');
    expect(Number(await other.page.locator('.chart[data-metric="loss"]').getAttribute('data-points'))).toBe(5);
    await other.page.goto(`${ui.url}/#/studies`);
    await other.page.waitForSelector('.empty');
    expect(other.errors).toEqual([]);
    await other.page.close();
  });
});
