// The experiments table's column chooser and selection in Chromium: chosen columns kept in the URL, the default
// columns restored, select-all and the compare button following the selection.

import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

describe.skipIf(!CHROMIUM_AVAILABLE)('the experiments table over lablog ui', () => {
  let ui: UiProcess;
  let browser: Browser;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    for (const [name, lr, losses] of [
      ['a', 0.1, [3, 1, 2]],
      ['b', 0.01, [4, 2.5, 3]],
      ['c', 0.001, [5, 4, 4.5]],
    ] as const) {
      const exp = store.createExperiment({ name, project: 'p' });
      exp.logParams({ lr });
      for (const v of losses) exp.logMetric('loss', v);
      await exp.close();
      ids.set(name, exp.id);
    }
    await store.close();
    ui = await startUi(path);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
  });

  /** A checkbox's checked and indeterminate flags (read in the page). */
  const checkState = (box: unknown): boolean[] => {
    const input = box as { checked: boolean; indeterminate: boolean };
    return [input.checked, input.indeterminate];
  };
  const headers = (page: import('playwright-core').Page) =>
    page.locator('[data-testid="experiments"] thead th[data-col]').evaluateAll((els) => els.map((e) => e.getAttribute('data-col')));

  it('adds a chosen column, keeps it in the URL across a reload, and restores the default columns', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${ui.url}/#/experiments?project=p`);
    await page.locator('[data-testid="experiments"] tbody tr[data-id]').first().waitFor();
    const defaults = ['name', 'status', 'started', 'duration', 'tags', 'param:lr', 'metric:loss:last'];
    expect(await headers(page)).toEqual(defaults);

    await page.locator('[data-testid="columns"] summary').click();
    await page.locator('[data-testid="columns"] input[data-col="metric:loss:min"]').check();
    await expect.poll(() => headers(page)).toEqual([...defaults, 'metric:loss:min']);
    // The min column holds each run's smallest loss.
    const minOf = (name: string) =>
      page.locator(`[data-testid="experiments"] tbody tr[data-id="${ids.get(name)}"] td[data-col="metric:loss:min"]`).textContent();
    expect([await minOf('a'), await minOf('b'), await minOf('c')]).toEqual(['1', '2.5', '4']);
    const chosenUrl = page.url();
    expect(new URL(chosenUrl.replace('#/', '')).searchParams.get('cols')).toBe('param:lr,metric:loss:last,metric:loss:min');

    await page.reload();
    await page.locator('[data-testid="experiments"] tbody tr[data-id]').first().waitFor();
    expect(await headers(page)).toEqual([...defaults, 'metric:loss:min']);

    await page.locator('[data-testid="columns"] summary').click();
    await page.getByRole('button', { name: 'Default columns' }).click();
    await expect.poll(() => headers(page)).toEqual(defaults);
    expect(new URL(page.url().replace('#/', '')).searchParams.get('cols')).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('select-all, one row unselected, and clear: the compare button and the select-all box follow', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${ui.url}/#/experiments?project=p`);
    const compare = page.locator('[data-testid="compare"]');
    const selectAll = page.locator('[data-testid="select-all"]');
    await selectAll.waitFor();
    expect([await compare.textContent(), await compare.isDisabled()]).toEqual(['Compare', true]);

    await selectAll.check();
    await expect.poll(() => compare.textContent()).toBe('Compare 3');
    expect(await compare.isDisabled()).toBe(false);
    expect(await page.locator('[data-testid="experiments"] tbody tr.selected').count()).toBe(3);

    await page.locator(`[data-testid="experiments"] tbody tr[data-id="${ids.get('b')}"] [data-testid="select-row"]`).uncheck();
    await expect.poll(() => compare.textContent()).toBe('Compare 2');
    expect(await selectAll.evaluate(checkState)).toEqual([false, true]);

    await page.getByRole('button', { name: 'clear selection' }).click();
    await expect.poll(() => compare.textContent()).toBe('Compare');
    expect(await compare.isDisabled()).toBe(true);
    expect(await selectAll.evaluate(checkState)).toEqual([false, false]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
