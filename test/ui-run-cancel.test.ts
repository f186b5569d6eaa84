// Cancelling a run from the web UI on the team server: a run published live by its supervisor shows a Cancel
// button; a click reaches the supervisor, which stops the child; `lablog ui` (read-only) shows no button.

import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { sharedTempDir, tempDir } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { nodeFixture } from './support/runs.js';
import { api, createKey, keepAlive, startServer, type ServerProcess } from './support/server-process.js';
import { startUi } from './support/ui-process.js';
import { waitFor } from './support/wait-for.js';

describe.skipIf(!CHROMIUM_AVAILABLE)('cancelling a run from the UI', () => {
  const shared = sharedTempDir();
  let server: ServerProcess;
  let key: string;
  let browser: Browser;

  beforeAll(async () => {
    const db = join(shared.dir, 'server.db');
    key = await createKey(db, 'jobs');
    server = await startServer(db);
    keepAlive(server.child);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill();
    shared.remove();
  });

  it('on lablog server: the Cancel button of a live run stops it through its supervisor', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const run = store.launch({
        ...nodeFixture('ticker.mjs', '100000', '50'),
        project: 'jobs',
        name: 'long-job',
        grace: 5_000,
        remote: { url: server.url, apiKey: key },
      });
      await waitFor(
        'the run on the server, running',
        async () => {
          const got = await api(server, key, 'GET', `/api/v1/runs/${run.id}`);
          return got.status === 200 && got.data.run.status === 'running';
        },
        20_000,
      );
      const { page, errors } = await openPage(browser);
      await page.goto(`${server.url}/#/login`);
      await page.fill('[data-testid="api-key"]', key);
      await page.press('[data-testid="api-key"]', 'Enter');
      await page.waitForSelector('[data-testid="experiments"]');
      await page.goto(`${server.url}/#/experiments/${run.id}`);
      const button = page.locator('[data-testid="run-cancel"]');
      await button.waitFor({ state: 'visible', timeout: 20_000 });
      await button.click();
      await expect
        .poll(() => page.locator('[data-testid="run-cancel-note"]').textContent(), { timeout: 10_000 })
        .toMatch(/Cancel requested/);
      const final = await run.wait({ timeoutMs: 20_000 });
      expect(final.status).toBe('cancelled');
      await expect.poll(() => page.locator('[data-testid="run-status"]').textContent(), { timeout: 20_000 }).toBe('cancelled');
      expect(await button.isHidden()).toBe(true);
      await screenshot(page, 'run-cancelled');
      // Only the 401s of the pages before the login.
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
      await page.close();
    } finally {
      await store.close();
    }
  }, 90_000);

  it('on lablog ui (read-only): a live run shows no Cancel button', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    store.createExperiment({ name: 'seed', project: 'jobs' });
    const ui = await startUi(path);
    try {
      const run = store.launch({
        ...nodeFixture('ticker.mjs', '100000', '50'),
        project: 'jobs',
        name: 'local-job',
        grace: 5_000,
        remote: false,
      });
      const { page } = await openPage(browser);
      await page.goto(`${ui.url}/#/experiments/${run.id}`);
      await page.locator('[data-testid="run-status"]').waitFor({ timeout: 20_000 });
      await expect.poll(() => page.locator('[data-testid="run-status"]').textContent(), { timeout: 20_000 }).toBe('running');
      // The page has read the server's mode by now (the status came after it): the button stays hidden.
      await page.waitForFunction("document.body.dataset.mode === 'local'", undefined, { timeout: 10_000 });
      expect(await page.locator('[data-testid="run-cancel"]').isHidden()).toBe(true);
      await page.close();
      run.cancel();
      expect((await run.wait({ timeoutMs: 20_000 })).status).toBe('cancelled');
    } finally {
      ui.child.kill();
      await store.close();
    }
  }, 90_000);
});
