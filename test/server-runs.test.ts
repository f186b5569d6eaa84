// Runs on the team server, with real server processes, real launched children and real sockets: a run published
// live and cancelled over REST, its logs exactly once under a lost answer, and project scoping of every run route.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import type { LogPage, RunRecord, RunTransition } from '../src/model/run.js';
import { publishStore } from '../src/sync/publish-store.js';
import { MAX_LOG_LINES_PER_REQUEST } from '../src/model/run-publication.js';
import { tempDir } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer, type ServerProcess } from './support/server-process.js';
import { startUi } from './support/ui-process.js';
import { waitFor } from './support/wait-for.js';
import { answerLosingProxy, delayingProxy } from './support/http-proxies.js';

/** A child that prints a numbered line every 20 ms until stopped (it never imports lablog). */
const TICKER = ['-e', "let i = 0; console.log('start'); setInterval(() => console.log('tick ' + ++i), 20);"];
/** A child that prints `n` lines (half on stderr) and exits 0. */
const printer = (n: number) => ['-e', `for (let i = 1; i <= ${n}; i++) (i % 2 ? console.log : console.error)('line ' + i);`];

/** Every log line of a run on the server, page by page (bounded). */
async function serverLines(server: ServerProcess, key: string, id: string): Promise<LogPage['lines']> {
  const lines: LogPage['lines'] = [];
  let after = 0;
  for (let page = 0; page < 100; page++) {
    const got = await api(server, key, 'GET', `/api/v1/runs/${id}/logs?after=${after}&limit=10000`);
    expect(got.status).toBe(200);
    lines.push(...(got.data as LogPage).lines);
    if ((got.data as LogPage).lines.length === 0) return lines;
    after = (got.data as LogPage).position;
  }
  throw new Error('more than 100 pages of logs');
}

describe.each(SERVER_DATABASES)('runs on a $kind server', ({ create }) => {
  it('publishes a launched run live; a cancel over REST reaches its supervisor; logs and transitions arrive once', async () => {
    const db = await create();
    const key = await createKey(db, 'mnist');
    const server = await startServer(db);
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    try {
      const run = store.launch({
        command: process.execPath,
        args: TICKER,
        project: 'mnist',
        name: 'ticker',
        grace: 5_000,
        remote: { url: server.url, apiKey: key },
      });
      // The server has the run, running, with some of its output.
      await waitFor(
        'the run on the server, running, with output',
        async () => {
          const got = await api(server, key, 'GET', `/api/v1/runs/${run.id}`);
          if (got.status !== 200 || got.data.run.status !== 'running') return false;
          const logs = await api(server, key, 'GET', `/api/v1/runs/${run.id}/logs?tail=1`);
          return logs.data.lines.length > 0;
        },
        20_000,
      );
      const listed = await api(server, key, 'GET', '/api/v1/runs?project=mnist&status=running');
      expect(listed.data.runs.map((r: RunRecord) => r.id)).toEqual([run.id]);

      const asked = Date.now();
      const cancel = await api(server, key, 'POST', `/api/v1/runs/${run.id}/cancel`);
      expect(cancel.status).toBe(202);
      expect(cancel.data.run.cancelRequestedAt).toBeGreaterThanOrEqual(asked - 1_000);
      const final = await run.wait({ timeoutMs: 15_000 });
      expect(final.status).toBe('cancelled');
      // The request reached the supervisor within a publish interval (1 s) and a cancel poll (250 ms), plus the child's stop.
      const transitions = run.transitions();
      const cancelling = transitions.find((t) => t.status === 'cancelling')!;
      expect(cancelling.at - asked).toBeLessThan(3_000);

      // wait() returned after the live publication sent the end: the server's copy is the local one, each line once.
      const remote = await api(server, key, 'GET', `/api/v1/runs/${run.id}`);
      expect(remote.data.run).toMatchObject({ status: 'cancelled', success: false, attempt: 1, project: 'mnist', name: 'ticker' });
      expect(remote.data.transitions as RunTransition[]).toEqual(transitions);
      expect(remote.data.attempts).toEqual(run.attempts());
      const local = run.logs({ limit: 10_000 }).lines;
      expect(local.length).toBeGreaterThan(2);
      const got = await serverLines(server, key, run.id);
      expect(got.map((l) => [l.position, l.text])).toEqual(local.map((l) => [l.position, l.text]));
      // Cancelling it again is a clear error.
      const again = await api(server, key, 'POST', `/api/v1/runs/${run.id}/cancel`);
      expect([again.status, again.data.error]).toEqual([409, 'RUN_ENDED']);
      // A later sync has nothing left to send.
      const sync = await publishStore({ storePath: path, remote: { url: server.url, apiKey: key } });
      expect([sync.accepted, sync.problems]).toEqual([0, []]);
      expect((await serverLines(server, key, run.id)).length).toBe(local.length);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a timed wait() on a run published live returns after the server has its end, however slow the publication', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const proxy = await delayingProxy(server.url, (method, path) => method === 'PUT' && /^\/api\/v1\/runs\/[^/]+$/.test(path), 1_500);
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const run = store.launch({ command: process.execPath, args: printer(4), name: 'quick', remote: { url: proxy.url, apiKey: key } });
      const final = await run.wait({ timeoutMs: 30_000 });
      expect(final.status).toBe('completed');
      // The last snapshot PUT was held 1.5 s by the proxy; wait() still returned only once it had gone through.
      const remote = await api(server, key, 'GET', `/api/v1/runs/${run.id}`);
      expect(remote.data.run).toMatchObject({ status: 'completed', success: true, exitCode: 0 });
      expect(remote.data.transitions).toEqual(run.transitions());
    } finally {
      await store.close();
      await proxy.close();
    }
  }, 60_000);

  it('publishes log lines exactly once when an answer is lost and the request is sent again', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const run = store.launch({ command: process.execPath, args: printer(3_000), name: 'printer' });
    expect((await run.wait()).status).toBe('completed');
    // stdout and stderr are two pipes: the local log's order is the order they were read in.
    const local = run.logs({ limit: 10_000 }).lines;
    expect(local).toHaveLength(3_000);
    await store.close();
    const proxy = await answerLosingProxy(server.url, (method, path) => method === 'POST' && /\/api\/v1\/runs\/[^/]+\/logs$/.test(path));
    try {
      const report = await publishStore({ storePath: path, remote: { url: proxy.url, apiKey: key } });
      expect(proxy.lost()).toBe(1);
      expect(report.problems).toEqual([]);
      // The retried request carried lines the server had stored already: skipped, not stored twice.
      expect(report.skipped).toBe(3_000);
    } finally {
      await proxy.close();
    }
    const lines = await serverLines(server, key, run.id);
    expect(lines.map((l) => [l.position, l.stream, l.text])).toEqual(local.map((l) => [l.position, l.stream, l.text]));
    expect(new Set(lines.map((l) => l.text)).size).toBe(3_000);
    expect(lines.filter((l) => l.stream === 'stderr')).toHaveLength(1_500);
    const remote = await api(server, key, 'GET', `/api/v1/runs/${run.id}`);
    expect(remote.data.run).toMatchObject({ status: 'completed', exitCode: 0, success: true });
    // The same request once more (a client that never saw the answer): nothing changes.
    const replay = await api(server, key, 'POST', `/api/v1/runs/${run.id}/logs`, {
      lines: lines.slice(0, 10),
      linesDropped: 0,
      bytesDropped: 0,
    });
    expect(replay.data).toMatchObject({ position: 3_000, accepted: 0, skipped: 10 });
    // Hostile bodies: positions that skip inside a request, more lines than a request may carry, a status no run has.
    const line = (position: number) => ({ position, attempt: 1, stream: 'stdout', timestamp: 0, text: 'x', cutBytes: 0 });
    const gap = await api(server, key, 'POST', `/api/v1/runs/${run.id}/logs`, { lines: [line(3_001), line(3_003)] });
    expect([gap.status, gap.data.error]).toEqual([400, 'INVALID_OPTION']);
    const many = await api(server, key, 'POST', `/api/v1/runs/${run.id}/logs`, {
      lines: Array.from({ length: MAX_LOG_LINES_PER_REQUEST + 1 }, (_, i) => line(3_001 + i)),
    });
    expect(many.data.error).toBe('LIMIT_EXCEEDED');
    const bad = await api(server, key, 'PUT', `/api/v1/runs/${run.id}`, {
      ...remote.data,
      run: { ...remote.data.run, status: 'exploded' },
    });
    expect([bad.status, bad.data.error]).toEqual([400, 'INVALID_OPTION']);
    expect((await serverLines(server, key, run.id)).length).toBe(3_000);
  }, 60_000);

  it("scopes every run route to the key's projects: another project's run is not found, nor writable", async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob');
    const server = await startServer(db);
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const run = store.launch({ command: process.execPath, args: TICKER, project: 'alice', name: 'secret-run' });
    await waitFor('output', () => run.logs().lines.length > 2, 20_000);
    await publishStore({ storePath: path, remote: { url: server.url, apiKey: alice } });
    run.cancel();
    await run.wait();
    await store.close();

    expect((await api(server, alice, 'GET', `/api/v1/runs/${run.id}`)).status).toBe(200);
    expect((await api(server, bob, 'GET', '/api/v1/runs?project=alice')).status).toBe(403);
    expect((await api(server, bob, 'GET', '/api/v1/runs')).data).toEqual({ runs: [] });
    for (const [method, route] of [
      ['GET', `/api/v1/runs/${run.id}`],
      ['GET', `/api/v1/runs/${run.id}/logs`],
      ['POST', `/api/v1/runs/${run.id}/cancel`],
    ] as const) {
      const got = await api(server, bob, method, route);
      expect([got.status, got.data.error], `${method} ${route}`).toEqual([404, 'RUN_NOT_FOUND']);
      expect(JSON.stringify(got.data)).not.toContain('secret-run');
    }
    // Publishing into alice's run with bob's key: not found, and nothing changed.
    const snapshot = await api(server, alice, 'GET', `/api/v1/runs/${run.id}`);
    const put = await api(server, bob, 'PUT', `/api/v1/runs/${run.id}`, {
      run: { ...snapshot.data.run, status: 'completed', command: 'evil' },
      attempts: [],
      transitions: [],
    });
    expect([put.status, put.data.error]).toEqual([404, 'EXPERIMENT_NOT_FOUND']);
    const logs = await api(server, bob, 'POST', `/api/v1/runs/${run.id}/logs`, {
      lines: [{ position: 999_999, attempt: 1, stream: 'stdout', timestamp: 0, text: 'injected', cutBytes: 0 }],
    });
    expect([logs.status, logs.data.error]).toEqual([404, 'EXPERIMENT_NOT_FOUND']);
    const after = await api(server, alice, 'GET', `/api/v1/runs/${run.id}`);
    expect(after.data.run).toMatchObject({ command: process.execPath, status: snapshot.data.run.status });
    expect(JSON.stringify((await api(server, alice, 'GET', `/api/v1/runs/${run.id}/logs?tail=5`)).data)).not.toContain('injected');

    // The UI's session cookie reads runs like every other read route.
    const login = await fetch(`${server.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: alice }),
    });
    await login.arrayBuffer();
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const viaCookie = await fetch(`${server.url}/api/v1/runs/${run.id}`, { headers: { cookie } });
    expect(viaCookie.status).toBe(200);
    expect(((await viaCookie.json()) as { run: RunRecord }).run.id).toBe(run.id);
  }, 60_000);
});

describe('runs in lablog ui (a local store, read-only)', () => {
  it('lists and reads local runs, and refuses to cancel them', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const run = store.launch({ command: process.execPath, args: printer(4), name: 'local-run' });
    await run.wait();
    await store.close();
    const ui = await startUi(path);
    try {
      const listed = await api(ui, undefined, 'GET', '/api/v1/runs');
      expect(listed.data.runs.map((r: RunRecord) => r.name)).toEqual(['local-run']);
      const logs = await api(ui, undefined, 'GET', `/api/v1/runs/${run.id}/logs`);
      expect(logs.data.lines.map((l: { text: string }) => l.text).sort()).toEqual(['line 1', 'line 2', 'line 3', 'line 4']);
      const cancel = await api(ui, undefined, 'POST', `/api/v1/runs/${run.id}/cancel`);
      expect([cancel.status, cancel.data.error, cancel.data.message]).toEqual([403, 'FORBIDDEN', 'lablog ui serves the store read-only']);
    } finally {
      ui.child.kill('SIGTERM');
    }
  }, 60_000);
});
