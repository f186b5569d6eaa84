// The web UI on the team server (`lablog server`): a login with an API key kept in an HttpOnly cookie, the
// key's projects only, and the cookie refused for writes a cross-site form could make.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedTempDir, waitForExit } from './helpers.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage, screenshot } from './support/browser.js';
import { createKey, keepAlive, runCli, startServer, type ServerProcess } from './support/server-process.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/train-ui.ts', import.meta.url));

describe.skipIf(!CHROMIUM_AVAILABLE)('the UI on lablog server', () => {
  let server: ServerProcess;
  let key: string;
  let otherKey: string;
  let browser: Browser;
  const shared = sharedTempDir();

  beforeAll(async () => {
    const { dir } = shared;
    const store = join(dir, 'lablog.db');
    const fill = await waitForExit(spawn(process.execPath, ['--import', 'tsx', FIXTURE, store], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(fill.code, fill.stderr).toBe(0);
    const db = join(dir, 'server.db');
    key = await createKey(db, 'vision');
    otherKey = await createKey(db, 'elsewhere');
    server = await startServer(db);
    keepAlive(server.child);
    const sync = await runCli(['sync', '--remote', server.url, '--api-key', key, '--store', store, '--no-progress']);
    expect(sync.code, sync.stderr).toBe(0);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill();
    shared.remove();
  });

  it("asks for a key, refuses a wrong one, and shows the key's projects after login", async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('[data-testid="login-form"]');
    await page.fill('[data-testid="api-key"]', 'llk_not-a-key');
    await page.press('[data-testid="api-key"]', 'Enter');
    await expect.poll(() => page.locator('[data-testid="login-error"]').textContent()).toMatch(/not valid/);
    await screenshot(page, 'server-login');

    await page.fill('[data-testid="api-key"]', key);
    await page.press('[data-testid="api-key"]', 'Enter');
    await page.waitForSelector('[data-testid="experiments"] tbody tr[data-id]');
    expect(await page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(7);
    // The key is in an HttpOnly cookie: the page's scripts cannot read it.
    expect(await page.evaluate('document.cookie')).not.toContain('llk_');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'lablog_key')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    // Errors the page logged: only the 401s of the pages before the login.
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await page.close();
  });

  it("shows another project's key none of these experiments", async () => {
    const { page } = await openPage(browser);
    await page.goto(`${server.url}/#/login`);
    await page.fill('[data-testid="api-key"]', otherKey);
    await page.press('[data-testid="api-key"]', 'Enter');
    await page.waitForSelector('.empty');
    expect(await page.locator('[data-testid="experiments"] tbody tr[data-id]').count()).toBe(0);
    // Asking for the project by name is forbidden, not answered.
    const answer = await page.evaluate(async () => (await fetch('/api/v1/ui/experiments?project=vision')).status);
    expect(answer).toBe(403);
    await page.close();
  });

  it("accepts the session cookie for GET, and for other methods only with the UI's header", async () => {
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${server.url}/api/v1/ui/overview`, { headers: { cookie } })).status).toBe(200);
    const studies = (await (await fetch(`${server.url}/api/v1/studies?project=vision`, { headers: { cookie } })).json()) as {
      studies: { id: string }[];
    };
    const compare = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/v1/studies/${studies.studies[0]!.id}/compare`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ metrics: [{ name: 'train/loss', goal: 'minimize' }] }),
      });
    expect((await compare({})).status).toBe(401);
    expect((await compare({ 'x-lablog-ui': '1' })).status).toBe(200);
    // Without any key or cookie, data routes stay closed; the UI's files are public.
    expect((await fetch(`${server.url}/api/v1/ui/overview`)).status).toBe(401);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    // Logging out clears the cookie.
    const logout = await fetch(`${server.url}/api/v1/session`, { method: 'DELETE', headers: { cookie } });
    expect(logout.headers.get('set-cookie')).toMatch(/lablog_key=;.*Max-Age=0/);
  });
});
