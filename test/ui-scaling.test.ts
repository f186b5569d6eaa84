// The study page of a progressive_scaling study in Chromium: the scaling-law chart (log size axis, fitted curve, targets), the estimates and the predicted sizes.

import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store, type Study } from '../src/index.js';
import { sharedTempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

const SIZES = [1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9];
const LOSSES = [3.412, 2.853, 2.447, 2.171, 1.995, 1.873, 1.801];

async function fill(store: Store): Promise<{ fitted: Study; early: Study }> {
  const fitted = store.createStudy({
    name: 'scaling',
    template: 'progressive_scaling',
    templateParameters: {
      model_sizes: SIZES,
      metric: 'val/loss',
      objective: 'minimize',
      performance_targets: { 'val/loss': 1.9, 'val/acc': 0.99 },
    },
  });
  for (const [i, size] of SIZES.entries()) {
    const exp = store.createExperiment({ name: `size-${size}`, study: fitted });
    exp.logParams({ model_size: size });
    exp.logMetric('val/loss', LOSSES[i]! + 0.5);
    exp.logMetric('val/loss', LOSSES[i]!);
    exp.logMetric('val/acc', 0.95 - 2 * size ** -0.2);
    await exp.close();
  }
  const early = store.createStudy({
    name: 'early',
    template: 'progressive_scaling',
    templateParameters: { model_sizes: SIZES, metric: 'val/loss', objective: 'minimize' },
  });
  const exp = store.createExperiment({ name: 'first', study: early });
  exp.logParams({ model_size: 1e6 });
  exp.logMetric('val/loss', 3);
  await exp.close();
  return { fitted, early };
}

describe.skipIf(!CHROMIUM_AVAILABLE)('the scaling law on the study page', () => {
  const shared = sharedTempDir();
  let store: Store;
  let studies: { fitted: Study; early: Study };
  let ui: UiProcess;
  let browser: Browser;

  beforeAll(async () => {
    const path = join(shared.dir, 'lablog.db');
    store = openStore({ path });
    studies = await fill(store);
    ui = await startUi(path);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
    await store?.close();
    shared.remove();
  });

  async function open(route: string): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage(browser);
    await opened.page.goto(`${ui.url}/#${route}`);
    return opened;
  }

  it('draws the points, the fitted curve on a log size axis and the targets, with the estimates and predicted sizes of the library', async () => {
    const { page, errors } = await open(`/studies/${studies.fitted.id}`);
    const law = studies.fitted.scalingLaw();
    const chart = page.locator('[data-testid="scaling-chart"]');
    await expect.poll(() => chart.getAttribute('data-ready'), { timeout: 15_000 }).toBe('1');
    expect(await chart.getAttribute('data-points')).toBe('7');
    expect(await chart.getAttribute('data-targets')).toBe('1');
    // uPlot drew a canvas with a legend naming the observed values, the fit and the target line.
    expect(await chart.locator('canvas').count()).toBeGreaterThan(0);
    const legend = (await chart.locator('.u-legend').textContent()) ?? '';
    expect(legend).toContain('val/loss (final)');
    expect(legend).toContain('fit a·N^(−b) + c');
    expect(legend).toContain('target 1.9');
    // The x scale uPlot drew with is logarithmic (distr 3, base 10), and the canvas is painted.
    expect(await chart.getAttribute('data-x-scale')).toBe('log10');
    // Pixels the plot painted on its canvas (the tests' tsconfig has no DOM types: the script is text).
    const painted = Number(
      await page.evaluate(`(() => {
        const canvas = document.querySelector('[data-testid="scaling-chart"] canvas');
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted;
      })()`),
    );
    expect(painted).toBeGreaterThan(1000);
    for (const k of ['a', 'b', 'c'] as const) {
      const cell = page.locator(`[data-testid="scaling-fit"] tr[data-param="${k}"] td[data-value]`);
      expect(Number(await cell.getAttribute('data-value'))).toBe(law.fit[k]);
    }
    const loss = page.locator('[data-testid="scaling-targets"] li[data-metric="val/loss"]');
    expect(Number(await loss.getAttribute('data-size'))).toBe(law.targets[0]!.size);
    expect(await loss.textContent()).toContain('predicted at model_size ≈');
    const acc = page.locator('[data-testid="scaling-targets"] li[data-metric="val/acc"]');
    expect(await acc.textContent()).toContain('unreachable — the target 0.99 is at or above the asymptote');
    await screenshot(page, 'study-scaling-law');
    await page.close();
    expect(errors).toEqual([]);
  });

  it('says the law is not fitted yet while fewer than 3 sizes have completed', async () => {
    const { page, errors } = await open(`/studies/${studies.early.id}`);
    const text = page.locator('[data-testid="scaling-unfitted"]');
    await expect
      .poll(() => text.textContent(), { timeout: 15_000 })
      .toContain('Not fitted yet: a scaling-law fit (a, b and c) needs 3 points');
    expect(await page.locator('[data-testid="scaling-chart"]').count()).toBe(0);
    await page.close();
    // The fit's answer, INSUFFICIENT_RUNS (HTTP 422), is the page's one failed request: Chromium logs it, without its address.
    expect(errors).toEqual(['console: Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)']);
  });
});
