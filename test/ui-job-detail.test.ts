// Job detail in the web UI (`lablog ui`, Debian's Chromium): the progress bar follows a live experiment's
// setProgress, datasets show, and the log pane tails a live launched run without a reload (its lines as text).

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/index.js';
import { sharedTempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';
import { waitFor } from './support/wait-for.js';

describe.skipIf(!CHROMIUM_AVAILABLE)('job detail in the web UI', () => {
  const shared = sharedTempDir();
  let store: Store;
  let ui: UiProcess;
  let browser: Browser;
  let pageErrors: string[][] = [];

  beforeAll(async () => {
    const path = join(shared.dir, 'lablog.db');
    store = openStore({ path });
    // The UI's store must exist with its schema before `lablog ui` opens it.
    store.createExperiment({ name: 'seed', project: 'jobs' });
    ui = await startUi(path);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
    await store?.close();
    shared.remove();
  });

  afterEach(() => {
    const errors = pageErrors.flat();
    pageErrors = [];
    expect(errors).toEqual([]);
  });

  async function open(route: string): Promise<Page> {
    const { page, errors } = await openPage(browser);
    pageErrors.push(errors);
    await page.goto(`${ui.url}/#${route}`);
    return page;
  }

  it('shows the progress bar and phase of a live experiment, updated as it calls setProgress, and its datasets', async () => {
    const exp = store.createExperiment({ name: 'training', project: 'jobs' });
    exp.setProgress(12.5, { phase: 'warmup' });
    exp.logDataset({ role: 'train', name: 'mnist', id: 'ds-1', rows: 60_000, uri: 's3://b/<mnist>' });
    await exp.flush();
    const page = await open(`/experiments/${exp.id}`);
    const pct = page.locator('[data-testid="progress-pct"]');
    await expect.poll(() => pct.textContent(), { timeout: 20_000 }).toBe('12.5%');
    expect(await page.locator('[data-testid="progress-phase"]').textContent()).toBe('warmup');
    expect(await page.locator('[data-testid="progress-bar"]').getAttribute('aria-valuenow')).toBe('12.5');
    expect(await page.locator('[data-testid="datasets"] tr[data-dataset="train/mnist"] td').allTextContents()).toEqual([
      'train',
      'mnist',
      'ds-1',
      '60000',
      '—',
      's3://b/<mnist>',
    ]);
    await page.evaluate('window.sameDocument = true');

    exp.setProgress(75, { phase: 'testing' });
    await exp.flush();
    await expect.poll(() => pct.textContent(), { timeout: 20_000 }).toBe('75%');
    expect(await page.locator('[data-testid="progress-phase"]').textContent()).toBe('testing');
    const width = await page.locator('.progress-fill').getAttribute('style');
    expect(width).toBe('width: 75%;');
    expect(await page.evaluate('window.sameDocument')).toBe(true);
    await screenshot(page, 'job-progress');

    // The experiments table shows it beside the status.
    await page.goto(`${ui.url}/#/experiments?project=jobs`);
    const row = page.locator('tr', { has: page.locator(`a[href="#/experiments/${exp.id}"]`) });
    await expect.poll(() => row.locator('[data-testid="row-progress"]').textContent(), { timeout: 20_000 }).toBe(' 75%');
    await page.close();
    await exp.close();
  });

  it('tails the log pane of a live launched run: new lines appear without a reload, as text', async () => {
    const go = join(shared.dir, 'go');
    // Prints, waits (bounded) for the test's go file, prints more, and fails when it never comes.
    const script = `
      const { existsSync } = require('node:fs');
      console.log('before-1'); console.log('<img src=x onerror="window.__xss=1">'); console.error('warn-2');
      const deadline = Date.now() + 30000;
      const timer = setInterval(() => {
        if (existsSync(${JSON.stringify(go)})) { clearInterval(timer); console.log('after-go'); setTimeout(() => process.exit(0), 100); }
        else if (Date.now() > deadline) process.exit(7);
      }, 50);
    `;
    const run = store.launch({ command: process.execPath, args: ['-e', script], project: 'jobs', name: 'tail-me' });
    try {
      await waitFor('the first lines in the store', () => run.logs().lines.length >= 3, 20_000);
      const page = await open(`/experiments/${run.id}`);
      const pane = page.locator('[data-testid="log-pane"]');
      await expect.poll(() => pane.textContent(), { timeout: 20_000 }).toContain('warn-2');
      const text = (await pane.textContent())!;
      expect(text).toContain('before-1');
      expect(text).toContain('<img src=x onerror="window.__xss=1">');
      expect(text).not.toContain('after-go');
      expect(await pane.locator('img').count()).toBe(0);
      expect(await page.locator('[data-testid="run-status"]').textContent()).toContain('running');
      expect(await page.locator('[data-field="command"]').textContent()).toContain(process.execPath);
      await page.evaluate('window.sameDocument = true');

      writeFileSync(go, '');
      await expect.poll(() => pane.textContent(), { timeout: 20_000 }).toContain('after-go');
      expect(await page.evaluate('window.sameDocument')).toBe(true);
      expect(await page.evaluate('window.__xss')).toBeUndefined();
      // A run that never set a progress shows no bar.
      expect(await page.locator('[data-testid="progress-bar"]').isVisible()).toBe(false);
      // Each line once, in order.
      const lines = await pane.locator('.log-line').allTextContents();
      expect(lines.map((l) => l.trim())).toEqual(['before-1', '<img src=x onerror="window.__xss=1">', 'warn-2', 'after-go']);
      expect((await run.wait()).status).toBe('completed');
      await expect.poll(() => page.locator('[data-testid="run-status"]').textContent(), { timeout: 20_000 }).toContain('completed');
      expect(await page.locator('[data-testid="attempts"] tr[data-attempt="1"] td').first().textContent()).toBe('1');
      await screenshot(page, 'job-log-pane');
      await page.close();
    } finally {
      if (!existsSync(go)) writeFileSync(go, '');
      await run.wait();
    }
  });
});
