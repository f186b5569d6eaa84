// The server's bounds on what clients send, against a real process: every free-text field's limit, caps per
// ingest request, names no store can hold (per item, never a whole-batch 503), echoed values, the existence
// oracle on client-chosen ids, and the security headers of every answer.

import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { MAX_MEDIA_POINTS_PER_REQUEST, MAX_SERIES_PER_REQUEST } from '../src/remote/protocol.js';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, runCli, startServer } from './support/server-process.js';

/** 'loss 🔥' cut in the middle of its emoji: a lone high surrogate. */
const LONE = 'loss 🔥'.slice(0, 6);
const EXPERIMENT = { project: 'default', name: 'e', status: 'running', createdAt: 1, tags: [], params: [] };

/** PUT of a fresh experiment; returns its id. */
async function experiment(server: { url: string }, key: string, fields: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  const res = await api(server, key, 'PUT', `/api/v1/experiments/${id}`, { ...EXPERIMENT, name: `e-${id.slice(0, 8)}`, ...fields });
  expect(res.status, JSON.stringify(res.data)).toBe(200);
  return id;
}

const metric = (name: string, steps = [0]) => ({ name, after: null, steps, values: steps, timestamps: steps });
const plot = (name: string, n: number, caption: string | null = null) => ({
  name,
  after: null,
  points: Array.from({ length: n }, (_, i) => ({ step: i, timestamp: i, caption, figure: { data: [{ y: [i] }] } })),
});

describe.each(SERVER_DATABASES)('server field limits on $kind', ({ create }) => {
  it('refuses each oversized free-text field with the field, its limit and the actual size, and stores none of it', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const id = randomUUID();
    const put = (fields: Record<string, unknown>) => api(server, key, 'PUT', `/api/v1/experiments/${id}`, { ...EXPERIMENT, ...fields });

    const host = await put({ hostname: 'h'.repeat(10_000_000) });
    expect(host.status).toBe(422);
    expect(host.data).toEqual({
      error: 'LIMIT_EXCEEDED',
      message: 'hostname is 10000000 characters; the limit is 255 (MAX_HOSTNAME_LENGTH)',
      details: { field: 'hostname', limit: 255, actual: 10_000_000 },
    });
    expect((await put({ hostname: 'h'.repeat(256) })).data.details).toEqual({ field: 'hostname', limit: 255, actual: 256 });
    const description = await put({ description: 'd'.repeat(10_001) });
    expect(description.status).toBe(422);
    expect(description.data.details).toEqual({ field: 'description', limit: 10_000, actual: 10_001 });
    const param = await put({ params: [{ key: 'text', type: 'string', value: 'v'.repeat(6_001) }] });
    expect(param.status).toBe(400);
    expect(param.data).toMatchObject({ error: 'INVALID_PARAM_VALUE', details: { key: 'text', limit: 6_000, actual: 6_001 } });
    expect((await put({ version: 'v'.repeat(101) })).data).toMatchObject({ error: 'INVALID_NAME', details: { limit: 100, actual: 101 } });
    expect((await api(server, key, 'GET', `/api/v1/experiments/${id}`)).status).toBe(404);

    // Captions: the item with a caption over MAX_CAPTION_LENGTH is refused, the others are stored.
    const eid = await experiment(server, key, { hostname: 'h'.repeat(255) });
    const ingest = await api(server, key, 'POST', `/api/v1/experiments/${eid}/ingest`, {
      metrics: [metric('loss')],
      plots: [plot('long', 2, 'c'.repeat(1_001)), plot('short', 1, 'c'.repeat(1_000))],
    });
    expect(ingest.status).toBe(200);
    expect(ingest.data.rejected).toEqual([
      {
        kind: 'plot',
        name: 'long',
        error: 'LIMIT_EXCEEDED',
        message: "caption for 'long' is 1001 characters; the limit is 1000 (MAX_CAPTION_LENGTH)",
        details: { key: 'long', option: 'caption', limit: 1_000, actual: 1_001 },
      },
    ]);
    const series = await api(server, key, 'GET', `/api/v1/experiments/${eid}`);
    expect(series.data.series.map((s: { name: string }) => s.name).sort()).toEqual(['loss', 'short']);

    // Studies: text, metadata, baselines, template parameters, members.
    const post = (fields: Record<string, unknown>) => api(server, key, 'POST', '/api/v1/studies', { name: 's', ...fields });
    expect((await post({ hypothesis: 'h'.repeat(10_001) })).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { option: 'hypothesis', limit: 10_000, actual: 10_001 },
    });
    const metadata = { blob: 'm'.repeat(10_000_000) };
    const bigMeta = await post({ metadata });
    expect(bigMeta.status).toBe(400);
    expect(bigMeta.data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { option: 'metadata', limit: 65_536, actual: JSON.stringify(metadata).length },
    });
    const baselineName = await post({ baseline: { name: 'b'.repeat(10_000_000), metrics: { loss: 1 } } });
    expect(baselineName.data).toMatchObject({ error: 'INVALID_NAME', details: { limit: 100, actual: 10_000_000 } });
    const manyMetrics = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`m${i}`, i]));
    expect((await post({ baseline: { name: 'paper', metrics: manyMetrics } })).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { limit: 500, actual: 501 },
    });
    const template = await post({
      template: 'grid_search',
      templateParameters: { search_space: { lr: ['x'.repeat(70_000)] }, objective: 'minimize', metric: 'loss' },
    });
    expect(template.data).toMatchObject({ error: 'INVALID_OPTION', details: { option: 'templateParameters', limit: 65_536 } });
    const sid = randomUUID();
    const putStudy = (fields: Record<string, unknown>) =>
      api(server, key, 'PUT', `/api/v1/studies/${sid}`, { name: 'published', ...fields });
    expect((await putStudy({ baseline: { name: 'b'.repeat(101), metrics: {} } })).data).toMatchObject({
      error: 'INVALID_NAME',
      details: { limit: 100, actual: 101 },
    });
    expect((await putStudy({ conclusion: 'c'.repeat(10_001) })).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { option: 'conclusion', limit: 10_000, actual: 10_001 },
    });
    expect((await putStudy({ archiveReason: 'r'.repeat(10_001) })).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { option: 'archiveReason', limit: 10_000 },
    });
    const members = await putStudy({ members: Array.from({ length: 1_001 }, () => ({ experimentId: randomUUID() })) });
    expect(members.status).toBe(422);
    expect(members.data).toMatchObject({ error: 'LIMIT_EXCEEDED', details: { field: 'members', limit: 1_000, actual: 1_001 } });
    expect((await api(server, key, 'GET', `/api/v1/studies/${sid}`)).status).toBe(404);
    const study = (await post({})).data;
    const notes = await api(server, key, 'POST', `/api/v1/studies/${study.id}/experiments`, { experiment: eid, notes: 'n'.repeat(10_001) });
    expect(notes.data).toMatchObject({ error: 'INVALID_OPTION', details: { option: 'notes', limit: 10_000, actual: 10_001 } });
    const compare = (options: Record<string, unknown>) => api(server, key, 'POST', `/api/v1/studies/${study.id}/compare`, options);
    const metrics = Array.from({ length: 51 }, (_, i) => ({ name: `m${i}`, goal: 'minimize' }));
    expect((await compare({ metrics })).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { option: 'metrics', limit: 50, actual: 51 },
    });
    const experiments = Array.from({ length: 1_001 }, () => randomUUID());
    expect((await compare({ metrics: [{ name: 'loss', goal: 'minimize' }], experiments })).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { option: 'experiments', limit: 1_000, actual: 1_001 },
    });
    expect((await compare({ metrics: [{ name: '__proto__', goal: 'minimize' }] })).data.error).toBe('INVALID_NAME');
    const archive = await api(server, key, 'POST', `/api/v1/studies/${study.id}/archive`, { reason: 'r'.repeat(10_001) });
    expect(archive.data).toMatchObject({ error: 'INVALID_OPTION', details: { option: 'reason', limit: 10_000, actual: 10_001 } });

    // Listings stay small: nothing refused was stored.
    const listing = await fetch(`${server.url}/api/v1/experiments`, { headers: { authorization: `Bearer ${key}` } });
    expect((await listing.text()).length).toBeLessThan(2_000);
    const studies = await fetch(`${server.url}/api/v1/studies`, { headers: { authorization: `Bearer ${key}` } });
    expect((await studies.text()).length).toBeLessThan(2_000);
  }, 60_000);

  it('caps series items and media points per ingest request, and the publisher splits its requests under both', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const id = await experiment(server, key);
    const items = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
      metrics: Array.from({ length: 1_001 }, (_, i) => metric(`m${i}`)),
    });
    expect(items.status).toBe(422);
    expect(items.data).toEqual({
      error: 'LIMIT_EXCEEDED',
      message: 'a request may carry 1000 series items (MAX_SERIES_PER_REQUEST); this one has 1001',
      details: { limit: 1_000, actual: 1_001 },
    });
    const media = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, { plots: [plot('a', 600), plot('b', 401)] });
    expect(media.status).toBe(422);
    expect(media.data).toMatchObject({ error: 'LIMIT_EXCEEDED', details: { limit: 1_000, actual: 1_001 } });
    expect((await api(server, key, 'GET', `/api/v1/experiments/${id}`)).data.series).toEqual([]);

    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'wide' });
    for (let i = 0; i < 1_100; i++) exp.logMetric(`m${String(i).padStart(4, '0')}`, i);
    for (let s = 0; s < 5; s++) for (let i = 0; i < 250; i++) exp.logPlot(`p${s}`, { data: [{ y: [i] }] });
    await exp.close();
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([]);
    expect(report.accepted).toBe(1_100 + 1_250);
    const published = (await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`)).data.series as { name: string; count: number }[];
    expect(published.length).toBe(1_105);
    expect(published.filter((s) => s.name.startsWith('p')).map((s) => s.count)).toEqual([250, 250, 250, 250, 250]);
    expect([MAX_SERIES_PER_REQUEST, MAX_MEDIA_POINTS_PER_REQUEST]).toEqual([1_000, 1_000]);
  }, 60_000);

  it('refuses lone surrogates, NUL and __proto__ in names per item (INVALID_NAME), stores the rest, never 503', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const id = await experiment(server, key);
    const bad = [LONE, 'nul\u0000name', '__proto__', '\udc00low'];
    for (let round = 0; round < 2; round++) {
      const res = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
        metrics: [metric('ok', [round]), ...bad.map((name) => metric(name, [round]))],
        plots: [plot(LONE, 1), plot('fig', 1, `caption ${LONE}`), plot(`fig-${round}`, 1)],
        tables: [{ name: 'tab\u0000le', hash: '0'.repeat(64), loggedAt: 1 }],
      });
      expect(res.status, JSON.stringify(res.data)).toBe(200);
      expect(res.data.accepted).toBe(2);
      expect(res.data.rejected.map((r: { kind: string; error: string }) => `${r.kind} ${r.error}`)).toEqual([
        ...bad.map(() => 'metric INVALID_NAME'),
        'plot INVALID_NAME',
        'plot INVALID_OPTION',
        'table INVALID_NAME',
      ]);
      expect(res.data.rejected[0]).toMatchObject({ name: LONE, details: { key: 'loss \ufffd', actual: 'U+D83D' } });
      expect(res.data.rejected[5]).toMatchObject({ name: 'fig', details: { option: 'caption', actual: 'U+D83D' } });
    }
    const series = (await api(server, key, 'GET', `/api/v1/experiments/${id}`)).data.series.map((s: { name: string }) => s.name);
    expect(series.sort()).toEqual(['fig-0', 'fig-1', 'ok']);
    expect((await api(server, key, 'GET', `/api/v1/experiments/${id}/metrics?key=ok`)).data.steps).toEqual([0, 1]);

    // The experiment's own fields: names INVALID_NAME, free text refused with its code.
    const put = (fields: Record<string, unknown>) =>
      api(server, key, 'PUT', `/api/v1/experiments/${randomUUID()}`, { ...EXPERIMENT, ...fields });
    for (const [fields, error] of [
      [{ name: LONE }, 'INVALID_NAME'],
      [{ name: '__proto__' }, 'INVALID_NAME'],
      [{ project: `p${LONE}` }, 'INVALID_NAME'],
      [{ tags: [`t ${LONE}`] }, 'INVALID_NAME'],
      [{ params: [{ key: '__proto__', type: 'number', value: '1' }] }, 'INVALID_NAME'],
      [{ params: [{ key: LONE, type: 'number', value: '1' }] }, 'INVALID_NAME'],
      [{ params: [{ key: 'text', type: 'string', value: `v ${LONE}` }] }, 'INVALID_PARAM_VALUE'],
      [{ description: `about ${LONE}` }, 'INVALID_OPTION'],
      [{ hostname: `host${LONE}` }, 'INVALID_OPTION'],
    ] as const) {
      const res = await put(fields);
      expect(`${res.status} ${res.data.error}`, JSON.stringify(fields)).toBe(`400 ${error}`);
    }
    expect((await api(server, key, 'POST', '/api/v1/studies', { name: 's', metadata: { [LONE]: 1 } })).data.error).toBe('INVALID_OPTION');
    expect((await api(server, key, 'POST', '/api/v1/studies', { name: 's', hypothesis: LONE })).data.error).toBe('INVALID_OPTION');
    // What was accepted reads back with every key.
    const withParams = await experiment(server, key, {
      params: [
        { key: 'constructor', type: 'number', value: '1' },
        { key: 'toString', type: 'string', value: 'x' },
      ],
    });
    expect((await api(server, key, 'GET', `/api/v1/experiments/${withParams}`)).data.params).toEqual({ constructor: 1, toString: 'x' });
  }, 60_000);

  it('answers a 10 MB name or id with a small error body', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const huge = 'n'.repeat(10_000_000);
    const raw = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, data: JSON.parse(text) };
    };
    for (const [method, path, body] of [
      ['PUT', `/api/v1/experiments/${randomUUID()}`, { ...EXPERIMENT, name: huge }],
      ['PUT', `/api/v1/experiments/${randomUUID()}`, { ...EXPERIMENT, tags: [huge] }],
      ['PUT', `/api/v1/experiments/${randomUUID()}`, { ...EXPERIMENT, params: [{ key: huge, type: 'number', value: '1' }] }],
      ['POST', '/api/v1/studies', { name: huge }],
      ['POST', '/api/v1/studies', { name: 's', [huge.slice(0, 1_000_000)]: 1 }],
    ] as const) {
      const res = await raw(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.text.length, res.text.slice(0, 300)).toBeLessThan(2_000);
    }
    const id = await experiment(server, key);
    const ingest = await raw('POST', `/api/v1/experiments/${id}/ingest`, { metrics: [metric(huge), metric('ok')] });
    expect(ingest.status).toBe(200);
    expect(ingest.text.length).toBeLessThan(3_000);
    expect(ingest.data.rejected).toEqual([
      expect.objectContaining({
        kind: 'metric',
        error: 'INVALID_NAME',
        details: expect.objectContaining({ limit: 100, actual: 10_000_000 }),
      }),
    ]);
    const study = (await raw('POST', '/api/v1/studies', { name: 'host' })).data;
    const members = await raw('PUT', `/api/v1/studies/${study.id}`, {
      name: 'host',
      members: [{ experimentId: huge.slice(0, 5_000_000) }],
    });
    expect(members.status).toBe(200);
    expect(members.text.length).toBeLessThan(3_000);
  }, 60_000);

  it('answers the same for an id of a project the key cannot see as for one it can never use, and 404 everywhere else', async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob', 'bob2');
    const server = await startServer(db);
    const secret = await experiment(server, alice, { project: 'alice', name: 'secret' });
    const own = await experiment(server, bob, { project: 'bob2', name: 'own' });
    const aliceStudy = (await api(server, alice, 'POST', '/api/v1/studies', { name: 'plan', project: 'alice' })).data.id as string;
    const bobStudy = (await api(server, bob, 'POST', '/api/v1/studies', { name: 'plan', project: 'bob2' })).data.id as string;

    // A client-chosen id taken in another project: one answer, whether or not the key can see that project.
    const shape = (res: { status: number; data: { error: string; message: string; details: unknown } }, id: string) =>
      JSON.stringify({ status: res.status, ...res.data }).replaceAll(id, '<id>');
    const putExperiment = (id: string) =>
      api(server, bob, 'PUT', `/api/v1/experiments/${id}`, { ...EXPERIMENT, project: 'bob', name: 'mine' });
    const foreign = await putExperiment(secret);
    const impossible = await putExperiment(own);
    expect(foreign.data).toEqual({
      error: 'FORBIDDEN',
      message: `experiment id ${secret} cannot be used by this API key; publish the experiment under a new id`,
      details: { id: secret },
    });
    expect(shape(foreign, secret)).toBe(shape(impossible, own));
    const putStudy = (id: string) => api(server, bob, 'PUT', `/api/v1/studies/${id}`, { name: 'mine', project: 'bob', members: [] });
    const foreignStudy = await putStudy(aliceStudy);
    const impossibleStudy = await putStudy(bobStudy);
    expect(foreignStudy.data).toEqual({
      error: 'FORBIDDEN',
      message: `study id ${aliceStudy} cannot be used by this API key; publish the study under a new id`,
      details: { id: aliceStudy },
    });
    expect(shape(foreignStudy, aliceStudy)).toBe(shape(impossibleStudy, bobStudy));
    for (const res of [foreign, impossible, foreignStudy, impossibleStudy])
      expect(JSON.stringify(res.data)).not.toMatch(/alice|bob2|belongs/);
    // Alice's objects are untouched.
    expect((await api(server, alice, 'GET', `/api/v1/experiments/${secret}`)).data).toMatchObject({ name: 'secret', project: 'alice' });
    expect((await api(server, alice, 'GET', `/api/v1/studies/${aliceStudy}`)).data).toMatchObject({ name: 'plan', project: 'alice' });

    // Every other route: another project's object answers exactly as an id that does not exist.
    const absent = randomUUID();
    const routes = (e: string, s: string): [string, string, unknown?][] => [
      ['GET', `/api/v1/experiments/${e}`],
      ['GET', `/api/v1/experiments/${e}/images?key=i`],
      ['GET', `/api/v1/experiments/${e}/images/0?key=i`],
      ['GET', `/api/v1/experiments/${e}/plots?key=p`],
      ['GET', `/api/v1/experiments/${e}/tables`],
      ['GET', `/api/v1/experiments/${e}/tables/data?name=t`],
      ['GET', `/api/v1/experiments/${e}/metrics?key=m`],
      ['POST', `/api/v1/experiments/${e}/ingest`, { metrics: [metric('m')] }],
      ['POST', `/api/v1/experiments/${e}/truncate`, { fromStep: 0 }],
      ['GET', `/api/v1/ui/experiments/${e}`],
      ['GET', `/api/v1/studies/${s}`],
      ['PATCH', `/api/v1/studies/${s}`, { name: 'x' }],
      ['GET', `/api/v1/studies/${s}/statistics`],
      ['POST', `/api/v1/studies/${s}/compare`, { metrics: [{ name: 'm', goal: 'minimize' }] }],
      ['POST', `/api/v1/studies/${s}/experiments`, { experiment: own }],
      ['POST', `/api/v1/studies/${s}/archive`, { reason: 'x' }],
      ['POST', `/api/v1/studies/${s}/clone`, { name: 'x' }],
      ['GET', `/api/v1/studies/${s}/plan`],
      ['GET', `/api/v1/studies/${s}/export?format=csv`],
      ['DELETE', `/api/v1/studies/${s}?force=true`],
      ['POST', `/api/v1/studies/${bobStudy}/experiments`, { experiment: e }],
    ];
    const real = routes(secret, aliceStudy);
    const fake = routes(absent, randomUUID());
    for (let i = 0; i < real.length; i++) {
      const [method, path, body] = real[i]!;
      const a = await api(server, bob, method, path, body);
      const b = await api(server, bob, method, fake[i]![1], fake[i]![2]);
      const ids = [secret, aliceStudy, absent, fake[i]![1].match(/studies\/([0-9a-f-]{36})/)?.[1] ?? absent];
      const norm = (res: typeof a) =>
        ids.reduce((text, id) => text.replaceAll(id, '<id>'), JSON.stringify({ status: res.status, ...res.data }));
      expect(a.status, `${method} ${path}`).toBe(404);
      expect(norm(a), `${method} ${path}`).toBe(norm(b));
    }
  }, 60_000);

  it('fails `lablog sync` (exit 1, the series named) when a stored series cannot be read, and publishes the rest', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'old' });
    exp.logMetric('loss', 1);
    exp.logMetric('loss', 2);
    exp.logMetric('acc', 0.5);
    await exp.close();
    await store.close();
    // What an older lablog wrote for logMetric('loss 🔥'.slice(0, 6)): the lone surrogate as invalid UTF-8.
    const raw = new Database(path);
    raw.prepare('UPDATE series SET name = ? WHERE name = ?').run(LONE, 'loss');
    raw.close();
    const sync = await runCli(['sync', '--remote', server.url, '--api-key', key, '--store', path, '--no-progress']);
    expect(sync.code, sync.stdout + sync.stderr).toBe(1);
    expect(sync.stdout).toContain('1 problem(s)');
    expect(sync.stdout).toMatch(
      /metric 'loss \ufffd+': STORAGE_ERROR: metric series 'loss \ufffd+' lists steps up to 1 in .* but none of its points after step none could be read/,
    );
    const published = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
    expect(published.data.series.map((s: { name: string }) => s.name)).toEqual(['acc']);
    // Still loud the next time: nothing was recorded as sent.
    expect((await runCli(['sync', '--remote', server.url, '--api-key', key, '--store', path, '--no-progress'])).code).toBe(1);
  }, 60_000);
});

describe('security headers', () => {
  it('are sent with the UI page, its files, API answers and errors', async () => {
    const db = await SERVER_DATABASES[0]!.create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
    expect(script).toBeDefined();
    for (const [path, auth, status] of [
      ['/', false, 200],
      [script!, false, 200],
      ['/assets/main.css', false, 200],
      ['/assets/no-such-file.js', false, 404],
      ['/health', false, 200],
      ['/api/v1/experiments', false, 401],
      ['/api/v1/experiments', true, 200],
      [`/api/v1/experiments/${randomUUID()}`, true, 404],
      ['/api/v1/no-such-route', true, 404],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { headers: auth ? { authorization: `Bearer ${key}` } : {} });
      expect(res.status, path).toBe(status);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain("object-src 'none'");
      expect(csp, path).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
    }
  }, 60_000);
});
