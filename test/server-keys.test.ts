// API keys and UI sessions against real server processes: `lablog keys list|revoke`, revocation effective at
// once on every replica sharing the database, and server-side UI sessions (logout, expiry, death with the key).

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createApiKey } from '../src/server/api-keys.js';
import { openServerBackend } from '../src/store/open-server-backend.js';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage } from './support/browser.js';
import { tempDir } from './helpers.js';
import { SERVER_DATABASES, api, runCli, startServer, type ServerProcess } from './support/server-process.js';

/** Seven days in seconds: the default absolute lifetime of a UI session, as the cookie's Max-Age. */
const DEFAULT_SESSION_LIFETIME_S = 7 * 24 * 3600;

/** Creates a key in this process (quicker than the CLI where the CLI is not what is tested). */
async function quickKey(db: string, name: string, ...projects: string[]): Promise<{ key: string; id: string }> {
  const backend = await openServerBackend(db);
  try {
    const { key, record } = await createApiKey(backend, projects, name);
    return { key, id: record.id };
  } finally {
    await backend.close();
  }
}

/** Creates a key with `lablog keys create --name` and returns it with the id the command reports. */
async function newKey(db: string, name: string, ...projects: string[]): Promise<{ key: string; id: string }> {
  const result = await runCli(['keys', 'create', '--db', db, '--name', name, ...projects.flatMap((p) => ['--project', p])]);
  expect(result.code, result.stderr).toBe(0);
  const id = /API key (\S+) for/.exec(result.stderr)?.[1];
  expect(id, result.stderr).toBeDefined();
  return { key: result.stdout.trim(), id: id! };
}

interface KeyListing {
  id: string;
  name: string | null;
  projects: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

async function listKeys(db: string, ...flags: string[]): Promise<KeyListing[]> {
  const result = await runCli(['keys', 'list', '--db', db, '--json', ...flags]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as KeyListing[];
}

/** POST /api/v1/session with a key: the status, the whole Set-Cookie header and the `name=value` part. */
async function login(server: { url: string }, key: string): Promise<{ status: number; setCookie: string; cookie: string; value: string }> {
  const response = await fetch(`${server.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  await response.arrayBuffer();
  const setCookie = response.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0]!;
  return { status: response.status, setCookie, cookie, value: decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)) };
}

/** GET of the UI's overview with a cookie only: its status and error code. */
async function withCookie(
  server: { url: string },
  cookie: string,
): Promise<{ status: number; error: string | undefined; message: string | undefined }> {
  const response = await fetch(`${server.url}/api/v1/ui/overview`, { headers: { cookie } });
  const body = (await response.json()) as { error?: string; message?: string };
  return { status: response.status, error: body.error, message: body.message };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** The hashes the server's database holds for UI sessions, read directly from it. */
async function storedSessions(db: string): Promise<string[]> {
  const sql = 'SELECT hash FROM ui_sessions ORDER BY id';
  if (!db.startsWith('postgres')) {
    const file = new Database(db, { readonly: true });
    try {
      return file.prepare(sql).pluck().all() as string[];
    } finally {
      file.close();
    }
  }
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    return (await client.query<{ hash: string }>(sql)).rows.map((r) => r.hash);
  } finally {
    await client.end();
  }
}

describe.each(SERVER_DATABASES)('API keys and UI sessions on $kind', ({ create }) => {
  it('lists keys without their secret, revokes by id and by name, and refuses an ambiguous or unknown name', async () => {
    const db = await create();
    const ci1 = await newKey(db, 'ci', 'alice');
    const ci2 = await quickKey(db, 'ci', 'bob');
    const laptop = await quickKey(db, 'laptop', 'alice', 'bob');
    const before = Date.now();

    const listed = await listKeys(db);
    expect(listed.map((k) => k.id).sort()).toEqual([ci1.id, ci2.id, laptop.id].sort());
    const byId = new Map(listed.map((k) => [k.id, k]));
    expect(byId.get(ci1.id)).toEqual({
      id: ci1.id,
      name: 'ci',
      projects: ['alice'],
      createdAt: expect.any(Number),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(byId.get(laptop.id)).toMatchObject({ name: 'laptop', projects: ['alice', 'bob'], lastUsedAt: null, revokedAt: null });
    const text = await runCli(['keys', 'list', '--db', db]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+PROJECTS\s+CREATED\s+LAST USED$/);
    expect(text.stdout).toContain(laptop.id);
    expect(text.stdout).toContain('alice,bob');
    // Neither the keys nor their hashes are ever printed.
    for (const { key } of [ci1, ci2, laptop]) {
      for (const output of [JSON.stringify(listed), text.stdout]) {
        expect(output).not.toContain(key);
        expect(output).not.toContain(sha256(key).toString('hex'));
      }
    }

    // A key used on a server shows when (to the minute at worst: the first use is recorded at once).
    const server = await startServer(db);
    expect((await api(server, laptop.key, 'GET', '/api/v1/experiments')).status).toBe(200);
    const used = (await listKeys(db)).find((k) => k.id === laptop.id)!;
    expect(used.lastUsedAt).toBeGreaterThanOrEqual(before);
    expect(used.lastUsedAt).toBeLessThanOrEqual(Date.now());

    const ambiguous = await runCli(['keys', 'revoke', 'ci', '--db', db]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('[AMBIGUOUS_NAME]');
    expect(ambiguous.stderr).toContain(ci1.id);
    expect(ambiguous.stderr).toContain(ci2.id);
    const unknown = await runCli(['keys', 'revoke', 'nobody', '--db', db]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no API key named or with id 'nobody'.*\[NOT_FOUND\]/);
    // Neither refusal revoked anything.
    for (const { key } of [ci1, ci2]) expect((await api(server, key, 'GET', '/api/v1/experiments')).status).toBe(200);

    const revokedById = await runCli(['keys', 'revoke', ci1.id, '--db', db]);
    expect(revokedById.code, revokedById.stderr).toBe(0);
    expect(revokedById.stdout).toContain(`revoked API key ${ci1.id} (ci)`);
    // The name now names one key.
    const revokedByName = await runCli(['keys', 'revoke', 'ci', '--db', db]);
    expect(revokedByName.code, revokedByName.stderr).toBe(0);
    expect(revokedByName.stdout).toContain(`revoked API key ${ci2.id} (ci)`);
    const again = await runCli(['keys', 'revoke', ci1.id, '--db', db]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[NOT_FOUND]');

    expect((await listKeys(db)).map((k) => k.id)).toEqual([laptop.id]);
    const all = await listKeys(db, '--all');
    expect(all.map((k) => k.id).sort()).toEqual([ci1.id, ci2.id, laptop.id].sort());
    for (const k of all.filter((k) => k.id !== laptop.id)) expect(k.revokedAt).toBeGreaterThanOrEqual(before);
    for (const { key } of [ci1, ci2]) {
      const res = await api(server, key, 'GET', '/api/v1/experiments');
      expect(res.status).toBe(401);
      expect(res.data.error).toBe('UNAUTHENTICATED');
    }
    expect((await api(server, laptop.key, 'GET', '/api/v1/experiments')).status).toBe(200);
  });

  it('refuses a revoked key on the very next request to every server sharing the database', async () => {
    const db = await create();
    const doomed = await quickKey(db, 'doomed', 'alice');
    const kept = await quickKey(db, 'kept', 'alice');
    const replicas: ServerProcess[] = [await startServer(db), await startServer(db)];
    // Used (and so remembered, by a server that caches) on both replicas, several times.
    for (const server of replicas) {
      for (let i = 0; i < 3; i++) expect((await api(server, doomed.key, 'GET', '/api/v1/experiments')).status).toBe(200);
    }
    const revoked = await runCli(['keys', 'revoke', 'doomed', '--db', db]);
    expect(revoked.code, revoked.stderr).toBe(0);
    for (const server of replicas) {
      const res = await api(server, doomed.key, 'GET', '/api/v1/experiments');
      expect(res.status).toBe(401);
      expect(res.data).toMatchObject({ error: 'UNAUTHENTICATED', message: 'the API key is not valid' });
      expect((await api(server, kept.key, 'GET', '/api/v1/experiments')).status).toBe(200);
    }
  });

  it('keeps UI sessions on the server: the cookie is a random id, never the key', async () => {
    const db = await create();
    const { key } = await quickKey(db, 'ui', 'alice');
    const server = await startServer(db);
    const first = await login(server, key);
    const second = await login(server, key);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    for (const { setCookie, value } of [first, second]) {
      expect(setCookie).toMatch(new RegExp(`^lablog_key=[^;]+; Path=/; HttpOnly; SameSite=Strict; Max-Age=${DEFAULT_SESSION_LIFETIME_S}$`));
      expect(setCookie).not.toContain(key);
      expect(setCookie).not.toContain(key.slice(4)); // the key's random part
      expect(setCookie).not.toContain(sha256(key).toString('hex'));
      expect(setCookie).not.toContain(sha256(key).toString('base64url'));
      // At least 256 random bits: 43 base64url characters after the prefix.
      expect(value).toMatch(/^lls_[A-Za-z0-9_-]{43,}$/);
    }
    // Behind a proxy that serves https, the cookie is Secure.
    const proxied = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ key }),
    });
    expect(proxied.headers.get('set-cookie')).toMatch(
      new RegExp(`; HttpOnly; SameSite=Strict; Max-Age=${DEFAULT_SESSION_LIFETIME_S}; Secure$`),
    );
    // Not derivable from the key: two logins with the same key get different ids.
    expect(first.value).not.toBe(second.value);
    expect(await withCookie(server, first.cookie)).toMatchObject({ status: 200 });
    expect(await withCookie(server, second.cookie)).toMatchObject({ status: 200 });
    // The cookie is no key: as a Bearer token it is refused.
    expect((await api(server, first.value, 'GET', '/api/v1/experiments')).status).toBe(401);
    // A made-up session id is refused.
    expect(await withCookie(server, `lablog_key=lls_${'A'.repeat(43)}`)).toMatchObject({ status: 401, error: 'UNAUTHENTICATED' });
    // The CSRF guard stays: a non-GET with the cookie needs the UI's header.
    const missing = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/v1/blobs/missing`, {
        method: 'POST',
        headers: { cookie: first.cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ hashes: [] }),
      });
    expect((await missing({})).status).toBe(401);
    expect((await missing({ 'x-lablog-ui': '1' })).status).toBe(200);
  });

  it('deletes the session on logout, so replaying the old cookie is refused', async () => {
    const db = await create();
    const { key } = await quickKey(db, 'ui', 'alice');
    const server = await startServer(db);
    const session = await login(server, key);
    const other = await login(server, key);
    expect(await withCookie(server, session.cookie)).toMatchObject({ status: 200 });
    const logout = await fetch(`${server.url}/api/v1/session`, { method: 'DELETE', headers: { cookie: session.cookie } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toBe('lablog_key=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    expect(await withCookie(server, session.cookie)).toMatchObject({ status: 401, error: 'UNAUTHENTICATED' });
    // Only that session ended: another login of the same key goes on, and so does the key.
    expect(await withCookie(server, other.cookie)).toMatchObject({ status: 200 });
    expect((await api(server, key, 'GET', '/api/v1/experiments')).status).toBe(200);
  });

  it('ends a session past its absolute lifetime and past its idle limit', async () => {
    const db = await create();
    const { key } = await quickKey(db, 'ui', 'alice');
    const short = await startServer(db, { args: ['--session-lifetime', '2'] });
    const started = Date.now();
    const session = await login(short, key);
    const unused = await login(short, key);
    expect(session.setCookie).toMatch(/; Max-Age=2$/);
    expect(await withCookie(short, session.cookie)).toMatchObject({ status: 200 });
    // The store holds only the ids' sha256.
    expect(await storedSessions(db)).toEqual([session, unused].map((s) => sha256(s.value).toString('hex')));
    await sleep(Math.max(0, started + 2_300 - Date.now()));
    expect(await withCookie(short, session.cookie)).toEqual({
      status: 401,
      error: 'UNAUTHENTICATED',
      message: 'the UI session expired (sessions last 2 s); log in again',
    });
    // The expired session that is never used again is deleted at the next login.
    expect(await storedSessions(db)).toEqual([sha256(unused.value).toString('hex')]);
    const next = await login(short, key);
    expect(await storedSessions(db)).toEqual([sha256(next.value).toString('hex')]);

    const idle = await startServer(db, { args: ['--session-idle', '1'] });
    const kept = await login(idle, key);
    // Used every 0.4 s it lives past the idle limit...
    for (let i = 0; i < 4; i++) {
      await sleep(400);
      expect(await withCookie(idle, kept.cookie)).toMatchObject({ status: 200 });
    }
    // ... and left alone longer than that, it ends.
    await sleep(1_400);
    expect(await withCookie(idle, kept.cookie)).toEqual({
      status: 401,
      error: 'UNAUTHENTICATED',
      message: 'the UI session was idle longer than 1 s; log in again',
    });
  });

  it('ends every session of a key at once when the key is revoked, on every replica', async () => {
    const db = await create();
    const doomed = await quickKey(db, 'doomed', 'alice');
    const kept = await quickKey(db, 'kept', 'alice');
    const replicas = [await startServer(db), await startServer(db)];
    const session = await login(replicas[0]!, doomed.key);
    const keptSession = await login(replicas[1]!, kept.key);
    // Sessions live in the database: one made on either replica works on both.
    for (const server of replicas) {
      expect(await withCookie(server, session.cookie)).toMatchObject({ status: 200 });
      expect(await withCookie(server, keptSession.cookie)).toMatchObject({ status: 200 });
    }
    const revoked = await runCli(['keys', 'revoke', doomed.id, '--db', db]);
    expect(revoked.code, revoked.stderr).toBe(0);
    for (const server of replicas) {
      expect(await withCookie(server, session.cookie)).toMatchObject({ status: 401, error: 'UNAUTHENTICATED' });
      expect(await withCookie(server, keptSession.cookie)).toMatchObject({ status: 200 });
    }
    // Logging in again with the revoked key is refused too.
    expect((await login(replicas[0]!, doomed.key)).status).toBe(401);
  });

  it('keeps at most MAX_SESSIONS_PER_KEY sessions per key: the oldest ends first', async () => {
    const db = await create();
    const { key } = await quickKey(db, 'ui', 'alice');
    const server = await startServer(db);
    const sessions = [];
    for (let i = 0; i < 21; i++) sessions.push(await login(server, key));
    expect(sessions.map((s) => s.status)).toEqual(Array(21).fill(200));
    expect(await withCookie(server, sessions[0]!.cookie)).toMatchObject({ status: 401, error: 'UNAUTHENTICATED' });
    for (const s of [sessions[1]!, sessions[20]!]) expect(await withCookie(server, s.cookie)).toMatchObject({ status: 200 });
  });
});

describe.skipIf(!CHROMIUM_AVAILABLE)("the UI's sign-in and sign-out in Chromium", () => {
  it('signs in to a session whose cookie is no key, and signing out ends it on the server', async () => {
    const db = join(tempDir(), 'server.db');
    const { key } = await quickKey(db, 'ui', 'alice');
    const server = await startServer(db);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPage(browser);
      await page.goto(`${server.url}/#/login`);
      await page.fill('[data-testid="api-key"]', key);
      await page.press('[data-testid="api-key"]', 'Enter');
      await page.waitForSelector('.empty');
      const cookie = (await page.context().cookies()).find((c) => c.name === 'lablog_key');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
      expect(cookie!.value).toMatch(/^lls_[A-Za-z0-9_-]{43,}$/);
      expect(cookie!.value).not.toContain(key.slice(4));
      const replay = `lablog_key=${cookie!.value}`;
      expect(await withCookie(server, replay)).toMatchObject({ status: 200 });

      await page.goto(`${server.url}/#/login`);
      await page.click('[data-testid="sign-out"]');
      await page.waitForSelector('[data-testid="login-form"]:not([hidden])');
      await expect.poll(async () => (await page.context().cookies()).find((c) => c.name === 'lablog_key')).toBeUndefined();
      expect(await page.evaluate(async () => (await fetch('/api/v1/ui/overview')).status)).toBe(401);
      // The cookie the browser had, replayed from elsewhere: the session is gone on the server.
      expect(await withCookie(server, replay)).toMatchObject({ status: 401, error: 'UNAUTHENTICATED' });
      expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
