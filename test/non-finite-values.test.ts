// NaN and ±Infinity in JSON answers and the UI's tables: carried as 'NaN' / 'Infinity' / '-Infinity', never
// as null (which means no value), and shown as such.

import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromJsonNumber, toJsonNumber } from '../src/model/json-number.js';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

describe('JSON numbers', () => {
  it('round-trip NaN and ±Infinity through their tokens', () => {
    const values = [0, -1.5, Number.NaN, Infinity, -Infinity];
    expect(values.map(toJsonNumber)).toEqual([0, -1.5, 'NaN', 'Infinity', '-Infinity']);
    expect(JSON.parse(JSON.stringify(values.map(toJsonNumber))).map(fromJsonNumber)).toEqual(values);
    expect(fromJsonNumber(null)).toBeNull();
  });
});

describe('non-finite values over lablog ui', () => {
  let ui: UiProcess;
  let browser: Browser | undefined;
  const ids: string[] = [];

  beforeAll(async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    // `diverged` ends on NaN after an Infinity; `fine` is finite; only `fine` logs `val/acc`.
    for (const [name, values] of [
      ['diverged', [1, Infinity, Number.NaN]],
      ['fine', [1, 0.5, 0.25]],
    ] as const) {
      const exp = store.createExperiment({ name, project: 'p' });
      for (const v of values) exp.logMetric('loss', v);
      if (name === 'fine') exp.logMetric('val/acc', 0.9);
      await exp.close();
      ids.push(exp.id);
    }
    await store.close();
    ui = await startUi(path);
    if (CHROMIUM_AVAILABLE) browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
  });

  it('answers tokens where a value is NaN or infinite, and null only where there is none', async () => {
    const table = (await (await fetch(`${ui.url}/api/v1/ui/experiments?project=p`)).json()) as {
      experiments: { name: string; metrics: Record<string, unknown> }[];
    };
    const diverged = table.experiments.find((e) => e.name === 'diverged')!;
    expect(diverged.metrics['loss']).toMatchObject({ last: 'NaN', min: 1, max: 'Infinity' });
    expect(diverged.metrics['val/acc']).toBeUndefined();
    const metric = (await (await fetch(`${ui.url}/api/v1/experiments/${ids[0]}/metrics?key=loss`)).json()) as { values: unknown[] };
    expect(metric.values).toEqual([1, 'Infinity', 'NaN']);
    const page = (await (await fetch(`${ui.url}/api/v1/ui/experiments/${ids[0]}`)).json()) as {
      series: { name: string; lastValue: unknown; maxValue: unknown }[];
    };
    expect(page.series.find((s) => s.name === 'loss')).toMatchObject({ lastValue: 'NaN', maxValue: 'Infinity' });
  });

  it.skipIf(!CHROMIUM_AVAILABLE)('shows NaN in the tables, and a dash only where nothing was logged', async () => {
    const { page, errors } = await openPage(browser!);
    await page.goto(`${ui.url}/#/compare?ids=${ids.join(',')}`);
    const cell = (id: string, metric: string) =>
      page.locator(`[data-testid="compare-table"] tr[data-id="${id}"] td[data-col="metric:${metric}:last"]`);
    await cell(ids[0]!, 'loss').waitFor();
    expect(await cell(ids[0]!, 'loss').textContent()).toBe('NaN');
    expect(await cell(ids[1]!, 'loss').textContent()).toBe('0.25');
    expect(await cell(ids[0]!, 'val/acc').textContent()).toBe('');
    // NaN is never marked best.
    expect(await cell(ids[0]!, 'loss').getAttribute('class')).not.toContain('best');
    expect(errors).toEqual([]);
    await page.close();
  });
});
