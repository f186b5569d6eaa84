// The UI under its Content-Security-Policy, in Debian's Chromium: every view renders (Plotly's WebGL
// parallel coordinates included) with no CSP violation, and the page refuses to be framed.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { sharedTempDir, waitForExit } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage } from './support/browser.js';
import { startUi, type UiProcess } from './support/ui-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/train-ui.ts', import.meta.url));

describe.skipIf(!CHROMIUM_AVAILABLE)('the UI under its Content-Security-Policy', () => {
  let ui: UiProcess;
  let browser: Browser;
  let ids: string[];
  const shared = sharedTempDir();

  beforeAll(async () => {
    const path = join(shared.dir, 'lablog.db');
    const fill = await waitForExit(spawn(process.execPath, ['--import', 'tsx', FIXTURE, path], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(fill.code, fill.stderr).toBe(0);
    const store = openStore({ path });
    ids = store.listExperiments({ project: 'vision' }).map((e) => e.id);
    await store.close();
    ui = await startUi(path);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    ui?.child.kill();
    shared.remove();
  });

  it('renders every view with no violation, and cannot be framed', async () => {
    const { page, errors } = await openPage(browser);
    // Chromium reports a blocked eval only as this event (the library catches the EvalError).
    const violations: string[] = [];
    await page.exposeFunction('reportViolation', (text: string) => violations.push(text));
    await page.addInitScript({
      content:
        "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });
    const first = await page.goto(`${ui.url}/#/`);
    expect(first?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.waitForSelector('[data-testid="experiments"] tbody tr[data-id]');
    await page.goto(`${ui.url}/#/compare?ids=${ids.join(',')}`);
    // Plotly's parallel coordinates draw on WebGL canvases (regl compiles its glue with Function()).
    await expect.poll(() => page.locator('[data-testid="parallel"] canvas').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('[data-testid="scatter"] .main-svg, [data-testid="scatter"] canvas').count(), { timeout: 30_000 })
      .toBeGreaterThan(0);
    await page.goto(`${ui.url}/#/experiments/${ids[0]}`);
    await page.waitForSelector('.uplot', { timeout: 30_000 });
    await page.goto(`${ui.url}/#/studies`);
    await page.waitForLoadState('networkidle');
    expect(violations).toEqual([]);
    expect(errors).toEqual([]);

    // Another site framing the UI gets an empty frame: frame-ancestors 'none' (and X-Frame-Options DENY).
    const framed = await page.context().newPage();
    const blocked: string[] = [];
    framed.on('console', (m) => blocked.push(m.text()));
    await framed.setContent(`<iframe id="f" src="${ui.url}/"></iframe>`);
    await expect
      .poll(() => blocked.join('\n'), { timeout: 10_000 })
      .toMatch(/frame-ancestors|X-Frame-Options|refused to connect|Refused to display/i);
    await page.close();
  }, 90_000);
});
