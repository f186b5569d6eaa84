// The server's guards, against a real process: API keys and project scope, hostile input, body size, rate limits.

import { describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

const INJECTIONS = [
  "'); DROP TABLE experiments;--",
  'x" OR "1"="1',
  "1; DELETE FROM params WHERE '1'='1",
  "Robert'); DROP TABLE api_keys; --",
];

describe.each(SERVER_DATABASES)('server security on $kind', ({ create }) => {
  it('answers 401 without a key or with a wrong one, and 403/404 across projects', async () => {
    const db = await create();
    const alice = await createKey(db, 'alice');
    const bob = await createKey(db, 'bob');
    const server = await startServer(db);
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'secret', project: 'alice' });
    exp.logMetric('m', 1);
    await exp.close();
    await store.publish({ remote: server.url, apiKey: alice });

    for (const key of [undefined, 'llk_not-a-real-key', `${alice}x`]) {
      const res = await api(server, key, 'GET', '/api/v1/experiments');
      expect(res.status).toBe(401);
      expect(res.data).toMatchObject({ error: 'UNAUTHENTICATED', message: expect.any(String), details: {} });
    }
    const malformed = await fetch(`${server.url}/api/v1/experiments`, { headers: { authorization: `Basic ${alice}` } });
    expect(malformed.status).toBe(401);
    // Every route needs a key, whatever the spelling of its path.
    const blob = Buffer.from('x');
    const hash = createHash('sha256').update(blob).digest('hex');
    for (const [method, path, body] of [
      ['PUT', `/api/v1/blobs/${hash}`, blob],
      ['PUT', `/%61pi/v1/blobs/${hash}`, blob],
      ['POST', '/%61pi/v1/blobs/missing', JSON.stringify({ hashes: [hash] })],
      ['GET', `/%61pi/v1/experiments/${exp.id}`, undefined],
      ['GET', '/api/v1/no-such-route', undefined],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        body,
        headers: body === undefined ? {} : { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json' },
      });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    expect((await api(server, bob, 'GET', '/api/v1/experiments?project=alice')).status).toBe(403);
    const listed = await api(server, bob, 'GET', '/api/v1/experiments');
    expect(listed.data).toMatchObject({ experiments: [], total: 0 });
    for (const path of [`/api/v1/experiments/${exp.id}`, `/api/v1/experiments/${exp.id}/metrics?key=m`]) {
      const res = await api(server, bob, 'GET', path);
      expect(res.status).toBe(404);
      expect(res.data.error).toBe('EXPERIMENT_NOT_FOUND');
    }
    // Bob can neither write into alice's project nor take over her experiment.
    const takeover = await api(server, bob, 'PUT', `/api/v1/experiments/${exp.id}`, {
      project: 'bob',
      name: 'mine',
      status: 'running',
      createdAt: Date.now(),
      tags: [],
      params: [],
    });
    expect(takeover.status).toBe(403);
    const intoAlice = await api(server, bob, 'PUT', `/api/v1/experiments/${randomUUID()}`, {
      project: 'alice',
      name: 'mine',
      status: 'running',
      createdAt: Date.now(),
      tags: [],
      params: [],
    });
    expect(intoAlice.status).toBe(403);
    expect(intoAlice.data.error).toBe('FORBIDDEN');
    const ingest = await api(server, bob, 'POST', `/api/v1/experiments/${exp.id}/ingest`, {
      metrics: [{ name: 'm', after: null, steps: [5], values: [1], timestamps: [1] }],
    });
    expect(ingest.status).toBe(404);
    const still = await api(server, alice, 'GET', `/api/v1/experiments/${exp.id}/metrics?key=m`);
    expect(still.data.steps).toEqual([0]);
  });

  it('stores SQL-injection strings in names, tags, params and filters verbatim', async () => {
    const db = await create();
    const project = INJECTIONS[0]!;
    const key = await createKey(db, project);
    const server = await startServer(db);
    const { store } = tempStore();
    const exp = store.createExperiment({ name: INJECTIONS[1]!, project, tags: INJECTIONS, description: INJECTIONS[3]! });
    exp.logParam(INJECTIONS[2]!, INJECTIONS[3]!);
    exp.logMetric(INJECTIONS[3]!, 42);
    await exp.close();
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([]);

    const filtered = await api(
      server,
      key,
      'GET',
      `/api/v1/experiments?project=${encodeURIComponent(project)}&tags=${encodeURIComponent(INJECTIONS[1]!)}`,
    );
    expect(filtered.status).toBe(200);
    expect(filtered.data.total).toBe(1);
    const got = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
    expect(got.data).toMatchObject({
      name: INJECTIONS[1],
      project,
      tags: INJECTIONS,
      description: INJECTIONS[3],
      params: { [INJECTIONS[2]!]: INJECTIONS[3] },
    });
    const metric = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/metrics?key=${encodeURIComponent(INJECTIONS[3]!)}`);
    expect(metric.data).toMatchObject({ key: INJECTIONS[3], steps: [0], values: [42] });
    const none = await api(server, key, 'GET', `/api/v1/experiments?tags=${encodeURIComponent("' OR 1=1 --")}`);
    expect(none.data.total).toBe(0);
  });

  it('enforces the step rules and limits on a hostile client', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db, { args: ['--limit', 'maxParams=3'] });
    const id = randomUUID();
    const base = { project: 'default', name: 'hostile', status: 'running', createdAt: Date.now(), tags: [] };
    const tooMany = await api(server, key, 'PUT', `/api/v1/experiments/${id}`, {
      ...base,
      params: ['a', 'b', 'c', 'd'].map((k) => ({ key: k, type: 'number', value: '1' })),
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.data).toMatchObject({ error: 'LIMIT_EXCEEDED', details: { limit: 3, actual: 4 } });
    expect((await api(server, key, 'PUT', `/api/v1/experiments/${id}`, { ...base, params: [] })).status).toBe(200);
    const badName = await api(server, key, 'PUT', `/api/v1/experiments/${id}`, { ...base, name: 'x'.repeat(101), params: [] });
    expect(badName.data.error).toBe('INVALID_NAME');

    const result = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
      metrics: [
        { name: 'backwards', after: null, steps: [3, 2], values: [1, 2], timestamps: [1, 2] },
        { name: 'fractional', after: null, steps: [0.5], values: [1], timestamps: [1] },
        { name: 'ok', after: null, steps: [0, 1, 2], values: [1, null, 3], timestamps: [1, 2, 3] },
      ],
      plots: [{ name: 'not-a-figure', after: null, points: [{ step: 0, timestamp: 1, figure: { nope: true } }] }],
      images: [{ name: 'ghost', after: null, points: [{ step: 0, timestamp: 1, hash: 'a'.repeat(64) }] }],
    });
    expect(result.status).toBe(200);
    expect(result.data.accepted).toBe(3);
    const errors = Object.fromEntries(result.data.rejected.map((r: { name: string; error: string }) => [r.name, r.error]));
    expect(errors).toEqual({
      backwards: 'STEP_NOT_INCREASING',
      fractional: 'INVALID_STEP',
      'not-a-figure': 'INVALID_PLOT',
      ghost: 'INVALID_OPTION',
    });
    // Re-sending the same points stores nothing; sending behind the stored steps is skipped, not duplicated.
    const again = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
      metrics: [{ name: 'ok', after: 2, steps: [1, 2, 3], values: [9, 9, 4], timestamps: [1, 2, 3] }],
    });
    expect(again.data).toMatchObject({ accepted: 1, skipped: 2, rejected: [] });
    const ok = await api(server, key, 'GET', `/api/v1/experiments/${id}/metrics?key=ok`);
    expect(ok.data).toMatchObject({ steps: [0, 1, 2, 3], values: [1, 'NaN', 3, 4] });
    const conflict = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
      metrics: [{ name: 'ok', after: 10, steps: [11], values: [1], timestamps: [1] }],
    });
    expect(conflict.data.rejected).toEqual([
      expect.objectContaining({ error: 'SYNC_CONFLICT', details: expect.objectContaining({ serverLastStep: 3 }) }),
    ]);
    const malformed = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, '{"metrics": [');
    expect(malformed.status).toBe(400);
    expect(malformed.data.error).toBe('INVALID_OPTION');
    // A tiny body claiming a huge encoded column is refused before anything is decoded.
    const huge = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
      metrics: [
        {
          name: 'big',
          after: null,
          count: 50_000_000,
          steps: { encoding: 1, data: Buffer.alloc(16).toString('base64') },
          values: { encoding: 1, data: Buffer.alloc(16).toString('base64') },
          timestamps: { encoding: 1, data: Buffer.alloc(16).toString('base64') },
        },
      ],
    });
    expect(huge.status).toBe(422);
    expect(huge.data.error).toBe('LIMIT_EXCEEDED');
    // Values a store cannot hold or a reader cannot show are refused, not stored.
    for (const [field, value] of [
      ['description', 'nul \u0000 inside'],
      ['createdAt', 1e300],
      ['params', [{ key: 'when', type: 'date', value: 'garbage' }]],
      ['params', [{ key: 'lr', type: 'number', value: 'fast' }]],
      ['params', [{ key: 'text', type: 'string', value: 'a\u0000b' }]],
    ] as const) {
      const res = await api(server, key, 'PUT', `/api/v1/experiments/${id}`, { ...base, params: [], [field]: value });
      expect(res.status, `${field} = ${JSON.stringify(value)}`).toBe(400);
    }
    const listed = await api(server, key, 'GET', '/api/v1/experiments');
    expect(listed.status).toBe(200);
    const wrongHash = await fetch(`${server.url}/api/v1/blobs/${'0'.repeat(64)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from('not what the hash says'),
    });
    expect(wrongHash.status).toBe(400);
  });

  it('answers 413 to a body over the limit', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db, { args: ['--body-limit', '100000'] });
    const id = randomUUID();
    await api(server, key, 'PUT', `/api/v1/experiments/${id}`, {
      project: 'default',
      name: 'x',
      status: 'running',
      createdAt: 1,
      tags: [],
      params: [],
    });
    const n = 20_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const res = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, {
      metrics: [{ name: 'm', after: null, steps, values: steps, timestamps: steps }],
    });
    expect(res.status).toBe(413);
    expect(res.data.error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 429 with Retry-After past the rate limit, and the publisher waits and completes', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db, { args: ['--rate-limit', '10'] });
    const burst = await Promise.all(Array.from({ length: 40 }, () => api(server, key, 'GET', '/api/v1/experiments')));
    const limited = burst.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.data.error).toBe('RATE_LIMITED');

    const { store } = tempStore();
    for (let i = 0; i < 12; i++) {
      const exp = store.createExperiment({ name: `e${i}` });
      exp.logMetric('m', i);
      await exp.close();
    }
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([]);
    expect(report.experiments).toBe(12);
    expect(report.accepted).toBe(12);
    expect(report.retries).toBeGreaterThan(0);
  });
});
