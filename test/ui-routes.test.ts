// The UI's routes on a real server process (SQLite and PostgreSQL) and on `lablog ui`: downsampled and exact
// series against the store, clocks that go backwards, rows by id within the key's projects, table sorting
// with nulls, and what a keyless local server refuses.

import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { sharedTempDir } from './helpers.js';
import { api, createKey, keepAlive, runCli, SERVER_DATABASES, startServer, type ServerProcess } from './support/server-process.js';
import { startUi } from './support/ui-process.js';

const shared = sharedTempDir();
const storePath = join(shared.dir, 'lablog.db');
const BASE = 1_795_000_000_000;
const ids = { main: '', other: '' };
const loss = (step: number) => Math.sin(step / 50) + step * 1e-4;

beforeAll(async () => {
  const store = openStore({ path: storePath });
  const main = store.createExperiment({ name: 'main', project: 'ui' });
  main.logParams({ lr: 0.1 });
  for (let step = 0; step < 10_000; step++) main.logMetrics({ loss: loss(step), flat: 1000 + 0.001 * Math.sin(step / 100) }, { step });
  // A clock set back: timestamps out of order, steps in order.
  const clock = [5_000, 1_000, 3_000, 2_000, 4_000];
  clock.forEach((t, step) => main.logMetric('clock', step * 10, { step, timestamp: BASE + t }));
  main.logTable('with-nulls', pl.DataFrame({ label: ['a', 'b', 'c', 'd'], score: [3, null, 1, 0] }));
  await main.close();
  const other = store.createExperiment({ name: 'other', project: 'elsewhere' });
  other.logMetric('loss', 1, { step: 0 });
  await other.close();
  ids.main = main.id;
  ids.other = other.id;
  await store.close();
});
afterAll(() => shared.remove());

describe.each(SERVER_DATABASES)('UI routes on a $kind server', (database) => {
  let server: ServerProcess;
  let key: string;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as any,
    }));

  beforeAll(async () => {
    const db = await database.create();
    key = await createKey(db, 'ui');
    const everything = await createKey(db, 'ui', 'elsewhere');
    server = await startServer(db);
    keepAlive(server.child);
    const sync = await runCli(['sync', '--remote', server.url, '--api-key', everything, '--store', storePath, '--no-progress']);
    expect(sync.code, sync.stderr).toBe(0);
  }, 60_000);
  afterAll(() => {
    server?.child.kill();
  });

  it('downsamples a long series to the points asked for, keeping its extremes, and tells its last point', async () => {
    const { status, body } = await get(`/api/v1/ui/series?key=loss&experiments=${ids.main}&points=100`);
    expect(status).toBe(200);
    expect(body.exact).toBe(false);
    expect(body.xs).toHaveLength(100);
    const [series] = body.series;
    expect(series).toMatchObject({ experimentId: ids.main, points: 10_000, total: 10_000, last: { x: 9_999, value: loss(9_999) } });
    const all = Array.from({ length: 10_000 }, (_, s) => loss(s));
    const drawn = series.values.filter((v: number | null) => v !== null) as number[];
    // Rounded to 6 significant digits, the extremes are there.
    expect(Math.max(...drawn)).toBeCloseTo(Math.max(...all), 5);
    expect(Math.min(...drawn)).toBeCloseTo(Math.min(...all), 5);
  });

  it('keeps a small variation on a large value when it downsamples (rounding follows the span, not the size)', async () => {
    const { body } = await get(`/api/v1/ui/series?key=flat&experiments=${ids.main}&points=100`);
    expect(body.exact).toBe(false);
    const drawn = body.series[0].values.filter((v: number | null) => v !== null) as number[];
    expect(Math.max(...drawn) - Math.min(...drawn)).toBeGreaterThan(0.0019);
    expect(Math.max(...drawn)).toBeCloseTo(1000.001, 6);
  });

  it('sends the stored points of a zoomed range exactly', async () => {
    const { body } = await get(`/api/v1/ui/series?key=loss&experiments=${ids.main}&points=1000&from=4000&to=4100.5`);
    expect(body.exact).toBe(true);
    expect(body.xs).toEqual(Array.from({ length: 101 }, (_, i) => 4000 + i));
    expect(body.series[0].values).toEqual(body.xs.map(loss));
    expect(body.series[0]).toMatchObject({ points: 101, total: 10_000 });
    expect(body.range).toEqual({ from: 4000, to: 4100.5 });
  });

  it('puts points of a clock that went backwards in time order on the time axes', async () => {
    const { body } = await get(`/api/v1/ui/series?key=clock&experiments=${ids.main}&points=100&x=time`);
    expect(body.exact).toBe(true);
    expect(body.xs).toEqual([1, 2, 3, 4, 5].map((s) => (BASE + s * 1000) / 1000));
    // Step 1 (value 10) was logged at +1 s, step 0 (value 0) at +5 s.
    expect(body.series[0].values).toEqual([10, 30, 20, 40, 0]);
  });

  it("answers rows by id within the key's projects only, and the table as stored", async () => {
    const missing = '0d4f1f6e-1111-4aaa-8bbb-123456789abc';
    const { body } = await get(`/api/v1/ui/experiments?ids=${ids.other},${ids.main},${missing}`);
    expect(body.experiments.map((r: { id: string }) => r.id)).toEqual([ids.main]);
    const row = body.experiments[0];
    expect(row).toMatchObject({
      name: 'main',
      status: 'completed',
      params: { lr: 0.1 },
      metrics: { loss: { count: 10_000, last: loss(9_999) } },
    });
    const table = await get('/api/v1/ui/experiments?project=ui');
    expect(table.body).toMatchObject({
      project: 'ui',
      total: 1,
      truncated: false,
      paramKeys: ['lr'],
      metricKeys: ['clock', 'flat', 'loss'],
    });
    expect((await get('/api/v1/ui/experiments?project=elsewhere')).status).toBe(403);
    expect((await get(`/api/v1/ui/series?key=loss&experiments=${ids.other}`)).status).toBe(404);
    const overview = await get('/api/v1/ui/overview');
    expect(overview.body.projects).toEqual([{ name: 'ui', experiments: 1, running: 0 }]);
  });

  it('sorts a logged table with null cells last in either order', async () => {
    const page = (order: string) =>
      get(`/api/v1/experiments/${ids.main}/tables/data?name=with-nulls&format=json&sort=score&order=${order}&limit=3`);
    const asc = (await page('asc')).body;
    expect(asc.rows.map((r: { score: number | null }) => r.score)).toEqual([0, 1, 3]);
    expect(asc.total).toBe(4);
    const desc = (await page('desc')).body;
    expect(desc.rows.map((r: { score: number | null }) => r.score)).toEqual([3, 1, 0]);
    const last = await get(`/api/v1/experiments/${ids.main}/tables/data?name=with-nulls&format=json&sort=score&offset=3`);
    expect(last.body.rows).toEqual([{ label: 'b', score: null }]);
  });

  it('treats a malformed session cookie as none (401, not 500)', async () => {
    const response = await fetch(`${server.url}/api/v1/ui/overview`, { headers: { cookie: 'lablog_key=%E0%A4%A' } });
    expect(response.status).toBe(401);
  });
});

describe('lablog ui (no keys)', () => {
  it('answers only requests addressed to this machine, and writes nothing', async () => {
    const ui = await startUi(storePath);
    try {
      const ok = await fetch(`${ui.url}/api/v1/ui/overview`);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { mode: string }).mode).toBe('local');
      // A page whose name was rebound to 127.0.0.1 sends its own name as Host.
      // (fetch sets Host itself: node:http sends the one given.)
      const evil = await new Promise<number>((resolve, reject) => {
        const request = httpGet(`${ui.url}/api/v1/ui/overview`, { headers: { host: 'evil.example:5381' } }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
      });
      expect(evil).toBe(403);
      const write = await api(ui, undefined, 'POST', '/api/v1/studies', { name: 'x', project: 'ui' });
      expect(write.status).toBe(403);
      expect(write.data.message).toMatch(/read-only/);
    } finally {
      ui.child.kill();
    }
  });
});
