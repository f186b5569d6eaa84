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
  let sunkId = '';
  let longId = '';
  /** A long run the chart downsamples (more points than an answer holds): one NaN in the middle. */
  const LONG_POINTS = 20_000;
  const LONG_NAN_STEP = 12_345;

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
    // In a project of its own (the tables above stay as they are): a series that falls to -Infinity.
    const sunk = store.createExperiment({ name: 'sunk', project: 'q' });
    for (const v of [2, -Infinity, 1]) sunk.logMetric('loss', v);
    await sunk.close();
    sunkId = sunk.id;
    const long = store.createExperiment({ name: 'long', project: 'r' });
    for (let step = 0; step < LONG_POINTS; step++) long.logMetric('loss', step === LONG_NAN_STEP ? Number.NaN : 1 / (step + 1), { step });
    await long.close();
    longId = long.id;
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
    // A chart's answer: no y where the value is not finite, and the points listed with their tokens, in x
    // order, also inside a range (and when a range leaves them out, not listed).
    const series = async (range: string) =>
      (await (await fetch(`${ui.url}/api/v1/ui/series?key=loss&experiments=${ids.join(',')}${range}`)).json()) as {
        series: { values: unknown[]; nonFinite: unknown[] }[];
      };
    const whole = await series('');
    expect(whole.series.map((s) => s.values)).toEqual([
      [1, null, null],
      [1, 0.5, 0.25],
    ]);
    expect(whole.series.map((s) => s.nonFinite)).toEqual([
      [
        { x: 1, value: 'Infinity' },
        { x: 2, value: 'NaN' },
      ],
      [],
    ]);
    expect((await series('&from=2&to=2')).series[0]!.nonFinite).toEqual([{ x: 2, value: 'NaN' }]);
    expect((await series('&from=0&to=0')).series[0]!.nonFinite).toEqual([]);
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

  it.skipIf(!CHROMIUM_AVAILABLE)(
    'marks NaN and ±Infinity on the chart at their steps, with their value in the legend and tooltip',
    async () => {
      const { page, errors } = await openPage(browser!);
      // The chart of `diverged`: steps 0, 1, 2 hold 1, Infinity, NaN.
      await page.goto(`${ui.url}/#/experiments/${ids[0]}`);
      const chart = page.locator('.chart[data-metric="loss"]');
      await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
      const markers = chart.locator('[data-testid="nonfinite-marker"]');
      await expect.poll(() => markers.count()).toBe(2);
      expect(await markers.evaluateAll((els) => els.map((e) => [e.dataset['x'], e.dataset['value'], e.className]))).toEqual([
        ['1', '+Infinity', 'nonfinite-marker nonfinite-top'],
        ['2', 'NaN', 'nonfinite-marker nonfinite-top'],
      ]);
      expect(await markers.first().getAttribute('title')).toContain('+Infinity at 1');
      // Each marker sits at its step's x (the x axis spans steps 0 to 2), on the plot's top edge.
      const over = (await chart.locator('.u-over').boundingBox())!;
      for (const [index, step] of [
        [0, 1],
        [1, 2],
      ] as const) {
        const box = (await markers.nth(index).boundingBox())!;
        expect(Math.abs(box.x + box.width / 2 - (over.x + (over.width * step) / 2))).toBeLessThan(3);
        expect(Math.abs(box.y - over.y)).toBeLessThan(2);
      }
      // The legend follows the cursor: the value at each step, named where it is not finite.
      const legendValue = chart.locator('.u-legend .u-series').nth(1).locator('.u-value');
      for (const [step, shown] of [
        [0, '1'],
        [1, '+Infinity'],
        [2, 'NaN'],
      ] as const) {
        await page.mouse.move(over.x + Math.min(over.width - 1, (over.width * step) / 2), over.y + over.height / 2);
        await expect.poll(() => legendValue.textContent()).toBe(shown);
      }

      // -Infinity: marked on the bottom edge.
      await page.goto(`${ui.url}/#/experiments/${sunkId}`);
      const sunkChart = page.locator('.chart[data-metric="loss"]');
      await expect.poll(() => sunkChart.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
      const sunkMarkers = sunkChart.locator('[data-testid="nonfinite-marker"]');
      await expect.poll(() => sunkMarkers.count()).toBe(1);
      expect(await sunkMarkers.evaluateAll((els) => els.map((e) => [e.dataset['x'], e.dataset['value'], e.className]))).toEqual([
        ['1', '-Infinity', 'nonfinite-marker nonfinite-bottom'],
      ]);
      const sunkOver = (await sunkChart.locator('.u-over').boundingBox())!;
      const sunkBox = (await sunkMarkers.first().boundingBox())!;
      expect(Math.abs(sunkBox.y + sunkBox.height - (sunkOver.y + sunkOver.height))).toBeLessThan(2);
      expect(errors).toEqual([]);
      await page.close();
    },
  );

  it.skipIf(!CHROMIUM_AVAILABLE)('names a NaN in the legend of a downsampled chart, whose points are buckets that skip it', async () => {
    const { page, errors } = await openPage(browser!);
    await page.goto(`${ui.url}/#/experiments/${longId}`);
    const chart = page.locator('.chart[data-metric="loss"]');
    await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 20_000 }).toBe('1');
    const markers = chart.locator('[data-testid="nonfinite-marker"]');
    await expect.poll(() => markers.count()).toBe(1);
    expect(await markers.first().getAttribute('data-x')).toBe(String(LONG_NAN_STEP));
    const over = (await chart.locator('.u-over').boundingBox())!;
    const box = (await markers.first().boundingBox())!;
    const legendValue = chart.locator('.u-legend .u-series').nth(1).locator('.u-value');
    // At the marker: the bucket point nearest the NaN names it.
    await page.mouse.move(box.x + box.width / 2, over.y + over.height / 2);
    await expect.poll(() => legendValue.textContent()).toBe('NaN');
    // Far from it (a quarter of the run): a finite value.
    await page.mouse.move(over.x + over.width / 4, over.y + over.height / 2);
    await expect.poll(() => legendValue.textContent()).not.toBe('NaN');
    expect(Number.isFinite(Number((await legendValue.textContent())!.replace(/[^0-9.e-]/g, '')))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
