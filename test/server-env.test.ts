// Env vars on the team server, against a real `lablog server` process: project scope, secrets sealed with LABLOG_SECRET_KEY, never in a listing, an error body or the UI's JSON, plain text only from resolve.

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_DATABASES, announcedUrl, api, createKey, startCli } from './support/server-process.js';
import { tempDir, tempStore } from './helpers.js';
import { nodeFixture } from './support/runs.js';
import { openStore } from '../src/index.js';

const SECRET = 'hf_server-s3cret-5a4b3c';

async function serverWith(db: string, env: Record<string, string>) {
  const child = startCli(['server', '--port', '0', '--db', db], env);
  const { url, output } = await announcedUrl(child, /listening on (http:\/\/\S+)/, 'lablog server');
  return { url, output };
}

describe.each(SERVER_DATABASES)('env vars on the server ($kind)', ({ kind, create }) => {
  it("scopes every env route to the key's projects, and keeps secrets out of everything but resolve", async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob');
    const server = await serverWith(db, { LABLOG_SECRET_KEY: randomBytes(32).toString('hex') });
    const seen: string[] = [];
    const call = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await api(server, key, method, path, body);
      seen.push(JSON.stringify(res.data ?? null));
      return res;
    };

    expect((await call(alice, 'PUT', '/api/v1/projects/alice/env/DATA_DIR', { value: '/data' })).data).toMatchObject({
      name: 'DATA_DIR',
      value: '/data',
      secret: false,
      inheritance: 'project',
      project: 'alice',
    });
    const secret = await call(alice, 'PUT', '/api/v1/projects/alice/env/HF_TOKEN', { value: SECRET, secret: true });
    expect(secret.status).toBe(200);
    expect(secret.data).toMatchObject({ name: 'HF_TOKEN', value: null, secret: true });
    const listed = await call(alice, 'GET', '/api/v1/projects/alice/env');
    expect(listed.data.vars.map((v: { name: string; value: string | null }) => [v.name, v.value])).toEqual([
      ['DATA_DIR', '/data'],
      ['HF_TOKEN', null],
    ]);
    const resolved = await api(server, alice, 'POST', '/api/v1/projects/alice/env/resolve');
    expect(resolved.data).toEqual({ env: { DATA_DIR: '/data', HF_TOKEN: SECRET }, secrets: [SECRET] });

    // Bob's key reaches none of alice's env, whatever the route.
    for (const [method, path, body] of [
      ['GET', '/api/v1/projects/alice/env', undefined],
      ['PUT', '/api/v1/projects/alice/env/DATA_DIR', { value: 'bob was here' }],
      ['DELETE', '/api/v1/projects/alice/env/DATA_DIR', undefined],
      ['POST', '/api/v1/projects/alice/env/resolve', undefined],
    ] as const) {
      const res = await call(bob, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.data).toMatchObject({ error: 'FORBIDDEN', details: { project: 'alice' } });
    }
    expect((await call(bob, 'GET', '/api/v1/projects/bob/env')).data).toEqual({ vars: [] });
    expect((await api(server, undefined, 'GET', '/api/v1/projects/alice/env')).status).toBe(401);
    expect((await api(server, alice, 'POST', '/api/v1/projects/alice/env/resolve')).data.env.DATA_DIR).toBe('/data');

    // A UI session of alice's key lists the project's vars, but never gets their plain text.
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: alice }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const ui = { cookie, 'x-lablog-ui': '1' };
    const uiList = await fetch(`${server.url}/api/v1/projects/alice/env`, { headers: ui });
    expect(((await uiList.json()) as { vars: unknown[] }).vars).toHaveLength(2);
    for (const headers of [ui, { ...ui, authorization: 'Basic x' }]) {
      const uiResolve = await fetch(`${server.url}/api/v1/projects/alice/env/resolve`, { method: 'POST', headers });
      const text = await uiResolve.text();
      seen.push(text);
      expect(uiResolve.status).toBe(403);
      expect(text).toContain('takes an API key (Authorization: Bearer), not a UI session');
    }

    // Refusals that could echo a secret do not.
    const downgrade = await call(alice, 'PUT', '/api/v1/projects/alice/env/HF_TOKEN', { value: SECRET });
    expect(downgrade).toMatchObject({ status: 409, data: { error: 'SECRET_DOWNGRADE', details: { key: 'HF_TOKEN' } } });
    const notJson = await call(alice, 'PUT', '/api/v1/projects/alice/env/OTHER', `{"value": ${SECRET}, "secret": true}`);
    expect(notJson).toMatchObject({ status: 400, data: { error: 'INVALID_OPTION', details: { field: 'body' } } });
    const short = await call(alice, 'PUT', '/api/v1/projects/alice/env/PIN', { value: 'abc', secret: true });
    expect(short).toMatchObject({ status: 400, data: { error: 'INVALID_OPTION', details: { limit: 4, actual: 3 } } });
    expect(JSON.stringify(short.data)).not.toContain('abc');
    const badName = await call(alice, 'PUT', '/api/v1/projects/alice/env/_BAD', { value: SECRET });
    expect(badName).toMatchObject({ status: 400, data: { error: 'INVALID_NAME' } });
    expect(badName.data.message).toContain("'_BAD' breaks the rule");

    // The UI's JSON of the project (with a published experiment) holds no env values.
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', project: 'alice' });
    exp.logMetric('m', 1);
    await exp.close();
    await store.publish({ remote: server.url, apiKey: alice });
    for (const path of ['/api/v1/ui/overview', '/api/v1/ui/experiments?project=alice', '/api/v1/experiments?project=alice']) {
      const res = await call(alice, 'GET', path);
      expect(res.status, path).toBe(200);
    }

    expect((await call(alice, 'DELETE', '/api/v1/projects/alice/env/DATA_DIR', undefined)).status).toBe(204);
    expect((await call(alice, 'DELETE', '/api/v1/projects/alice/env/DATA_DIR', undefined)).data.error).toBe('NOT_FOUND');

    for (const text of [...seen, server.output()]) expect(text).not.toContain(SECRET);
    expect(seen.length).toBeGreaterThan(15);
    if (kind === 'sqlite') {
      const bytes = Buffer.concat(
        readdirSync(dirname(db))
          .filter((f) => f.startsWith('server.db'))
          .map((f) => readFileSync(join(dirname(db), f))),
      );
      expect(bytes.includes(Buffer.from('lablog-aes256gcm-v1:'))).toBe(true);
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    }
  });

  it('without LABLOG_SECRET_KEY stores plain vars and refuses secrets clearly; a malformed key stops the server at start', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await serverWith(db, { LABLOG_SECRET_KEY: '' });
    expect(server.output()).toContain('no LABLOG_SECRET_KEY: plain env vars work, secret ones are refused');
    expect((await api(server, key, 'PUT', '/api/v1/projects/p/env/PLAIN', { value: 'ok' })).status).toBe(200);
    const refused = await api(server, key, 'PUT', '/api/v1/projects/p/env/TOKEN', { value: SECRET, secret: true });
    expect(refused).toMatchObject({ status: 503, data: { error: 'SECRET_KEY_ERROR', details: { reason: 'missing' } } });
    expect(refused.data.message).toContain('start it with LABLOG_SECRET_KEY');
    expect(JSON.stringify(refused.data)).not.toContain(SECRET);
    expect((await api(server, key, 'GET', '/api/v1/projects/p/env')).data.vars.map((v: { name: string }) => v.name)).toEqual(['PLAIN']);

    await expect(serverWith(db, { LABLOG_SECRET_KEY: 'not-hex-and-too-short' })).rejects.toThrow(
      /the secret key \(LABLOG_SECRET_KEY\) must be 64 hex digits .*SECRET_KEY_ERROR/,
    );
  });

  it("a launch with LABLOG_REMOTE gets the server's project vars below the local ones, its secrets redacted; a key without the project fails the run clearly", async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const other = await createKey(db, 'elsewhere');
    const server = await serverWith(db, { LABLOG_SECRET_KEY: randomBytes(32).toString('hex') });
    await api(server, key, 'PUT', '/api/v1/projects/mnist/env/SERVER_ONLY', { value: 'from-server' });
    await api(server, key, 'PUT', '/api/v1/projects/mnist/env/DATA_DIR', { value: '/server/data' });
    await api(server, key, 'PUT', '/api/v1/projects/mnist/env/HF_TOKEN', { value: SECRET, secret: true });
    const dir = tempDir();
    const saved = { ...process.env };
    process.env['LABLOG_SECRET_KEY_FILE'] = join(dir, 'secret.key');
    const store = openStore({ path: join(dir, 'lablog.db') });
    try {
      store.env.set({ project: 'mnist', name: 'DATA_DIR', value: '/local/data' });
      process.env['LABLOG_REMOTE'] = server.url;
      process.env['LABLOG_API_KEY'] = key;
      const run = store.launch({ ...nodeFixture('print-env.mjs', '0', 'HF_TOKEN', 'DATA_DIR', 'SERVER_ONLY'), project: 'mnist' });
      expect(await run.wait()).toMatchObject({ status: 'completed' });
      expect(run.logs().lines.map((l) => l.text)).toEqual([
        'HF_TOKEN=***',
        'DATA_DIR=/local/data',
        'SERVER_ONLY=from-server',
        'split:***:end',
        'failing with *** and again ***',
      ]);

      process.env['LABLOG_API_KEY'] = other;
      const refused = store.launch({ ...nodeFixture('print-env.mjs', '0', 'HF_TOKEN'), project: 'mnist' });
      const record = await refused.wait();
      expect(record).toMatchObject({ status: 'failed', pid: null });
      expect(record.errorMessage).toContain(`cannot read the env vars of project 'mnist' from ${server.url}`);
      expect(record.errorMessage).toContain('[FORBIDDEN]');
    } finally {
      for (const name of ['LABLOG_REMOTE', 'LABLOG_API_KEY', 'LABLOG_SECRET_KEY_FILE']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      await store.close();
    }
  });
});
