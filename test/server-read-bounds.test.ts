// Read answers are bounded, against a real server process: hostile tables answer a bounded JSON page, series, images and plots are paged.

import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Dictionary,
  Field,
  Int32,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  makeVector,
  tableToIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { tempStore, solidPng } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer, type ServerProcess } from './support/server-process.js';
import {
  DEFAULT_TABLE_PAGE_COLUMNS,
  DEFAULT_TABLE_PAGE_ROWS,
  MAX_TABLE_CELL_CHARS,
  MAX_TABLE_PAGE_BYTES,
  MAX_TABLE_PAGE_CELLS,
  MAX_TABLE_PAGE_COLUMNS,
  MAX_TABLE_PAGE_ROWS,
} from '../src/server/table-page.js';
import {
  DEFAULT_METRIC_PAGE_POINTS,
  MAX_IMAGE_PAGE,
  MAX_METRIC_PAGE_POINTS,
  MAX_PLOT_PAGE_BYTES,
  MAX_SERIES_LISTED,
  MAX_TABLES_LISTED,
} from '../src/server/read-routes.js';
import { DEFAULT_LIMITS } from '../src/model/limits.js';
import { MAX_TABLE_ARRAYS, loadArrow } from '../src/media/table.js';
import pl from 'nodejs-polars';
import { CHROMIUM_AVAILABLE, launchBrowser, openPage } from './support/browser.js';
import { startUi } from './support/ui-process.js';
import { waitFor } from './support/wait-for.js';
import { MAX_ROW_SERIES, MAX_UI_TABLE_SUMMARY_BYTES } from '../src/server/ui-routes.js';

/** Most a bounded answer may take here (the unbounded ones ran 4.5 s to 40 s, or never ended). */
const ANSWER_MS = 10_000;
/** Most the clock may take to move on by one millisecond, however loaded the machine. */
const CLOCK_TICK_MS = 1_000;

/** GET with a key and a deadline: status, parsed body and its size in bytes; fails naming the request if not answered in time. */
async function get(server: ServerProcess, key: string, path: string, timeoutMs = ANSWER_MS) {
  try {
    const response = await fetch(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return { status: response.status, data: JSON.parse(text), bytes: Buffer.byteLength(text) };
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw new Error(`GET ${path} was not answered within ${timeoutMs} ms`, { cause: error });
    throw error;
  }
}

/** A fresh experiment of `project` on the server, created as the publisher creates one. */
async function experiment(server: ServerProcess, key: string, project: string): Promise<string> {
  const id = randomUUID();
  const res = await api(server, key, 'PUT', `/api/v1/experiments/${id}`, {
    project,
    name: `t-${id.slice(0, 8)}`,
    status: 'completed',
    createdAt: Date.now(),
    tags: [],
    params: [],
  });
  expect(res.status).toBe(200);
  return id;
}

/** Uploads Arrow IPC bytes as a blob and ingests them as table `name`, as the publisher does; returns the ingest answer. */
async function uploadTable(server: ServerProcess, key: string, id: string, name: string, table: Table) {
  const ipc = Buffer.from(tableToIPC(table, 'stream'));
  const hash = createHash('sha256').update(ipc).digest('hex');
  const put = await fetch(`${server.url}/api/v1/blobs/${hash}`, {
    method: 'PUT',
    body: ipc,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
  });
  expect(put.status).toBeLessThan(300);
  const ingest = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, { tables: [{ name, hash, loggedAt: Date.now() }] });
  expect(ingest.status).toBe(200);
  return { ingest: ingest.data, bytes: ipc.length };
}

/** `columns` Null-typed columns of `rows` rows: no buffers at all, a few bytes of IPC per column. */
function nullTable(rows: number, columns: number): Table {
  const vectors: Record<string, Vector> = {};
  for (let c = 0; c < columns; c++) vectors[`c${c}`] = makeVector(makeData({ type: new Null(), length: rows }));
  return new Table(vectors);
}

/** `batches` one-row record batches of `columns` Null columns: every batch × column is an array to decode. */
function manyBatches(batches: number, columns: number): Table {
  const fields = Array.from({ length: columns }, (_, i) => new Field(`c${i}`, new Null(), true));
  const schema = new Schema(fields);
  const list = Array.from({ length: batches }, () => {
    const children = fields.map(() => makeData({ type: new Null(), length: 1 }));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: 1, children }));
  });
  return new Table(list);
}

/** `columns` dictionary-encoded text columns of `rows` rows, every row pointing at one `chars`-long string. */
function dictionaryTable(rows: number, columns: number, chars: number): Table {
  const vectors: Record<string, Vector> = {};
  for (let c = 0; c < columns; c++) {
    const dictionary = vectorFromArray([String.fromCharCode(97 + (c % 26)).repeat(chars)], new Utf8());
    vectors[`s${c}`] = makeVector(
      makeData({ type: new Dictionary(new Utf8(), new Int32()), length: rows, nullCount: 0, data: new Int32Array(rows), dictionary }),
    );
  }
  return new Table(vectors);
}

/**
 * A listing answers, and within ANSWER_MS, while (or after) a heavy read: `get` fails naming it past that deadline
 * (an unbounded read held the server 4.5 s to 40 s, or for ever). Resolves with the listing's status.
 */
async function listingAnswers(server: ServerProcess, key: string): Promise<number> {
  const listing = await get(server, key, '/api/v1/experiments?limit=5', ANSWER_MS);
  expect(listing.status).toBe(200);
  return listing.status;
}

describe.each(SERVER_DATABASES)('bounded reads on $kind', ({ create }) => {
  it('answers a bounded page of a 100,000 × 1,000 Null-column table, and refuses more columns at ingest', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const id = await experiment(server, key, 'p');
    const { ingest, bytes } = await uploadTable(server, key, id, 'nulls', nullTable(100_000, DEFAULT_LIMITS.maxTableColumns));
    expect(bytes).toBeLessThan(100_000);
    expect(ingest.rejected).toEqual([]);

    const [page, listing] = await Promise.all([
      get(server, key, `/api/v1/experiments/${id}/tables/data?name=nulls&format=json`),
      listingAnswers(server, key),
    ]);
    expect(page.status).toBe(200);
    expect(page.data).toMatchObject({
      name: 'nulls',
      total: 100_000,
      offset: 0,
      limit: DEFAULT_TABLE_PAGE_ROWS,
      next: DEFAULT_TABLE_PAGE_ROWS,
      totalColumns: 1_000,
      columnOffset: 0,
      nextColumn: DEFAULT_TABLE_PAGE_COLUMNS,
      truncatedCells: [],
    });
    expect(page.data.rows).toHaveLength(DEFAULT_TABLE_PAGE_ROWS);
    expect(page.data.columns.map((c: { name: string }) => c.name)).toEqual(
      Array.from({ length: DEFAULT_TABLE_PAGE_COLUMNS }, (_, i) => `c${i}`),
    );
    expect(page.data.rows[0]).toEqual(Object.fromEntries(Array.from({ length: DEFAULT_TABLE_PAGE_COLUMNS }, (_, i) => [`c${i}`, null])));
    expect(page.bytes).toBeLessThan(200_000);
    expect(listing).toBe(200);

    // The last window of columns, the last page of rows, and a sort (it reads the one column).
    const last = await get(
      server,
      key,
      `/api/v1/experiments/${id}/tables/data?name=nulls&format=json&columnOffset=990&columnLimit=200&offset=99990&sort=c995&order=desc`,
    );
    expect(last.status).toBe(200);
    expect(last.data.columns.map((c: { name: string }) => c.name)).toEqual(Array.from({ length: 10 }, (_, i) => `c${990 + i}`));
    expect(last.data.rows).toHaveLength(10);
    expect(last.data.next).toBeUndefined();
    expect(last.data.nextColumn).toBeUndefined();
    const named = await get(server, key, `/api/v1/experiments/${id}/tables/data?name=nulls&format=json&column=c7&column=c3&limit=2`);
    expect(named.data.rows).toEqual([
      { c7: null, c3: null },
      { c7: null, c3: null },
    ]);

    // Past the limits: 400 / 422 naming the limit and the actual value.
    const rowsOver = await get(
      server,
      key,
      `/api/v1/experiments/${id}/tables/data?name=nulls&format=json&limit=${MAX_TABLE_PAGE_ROWS + 1}`,
    );
    expect(rowsOver.status).toBe(400);
    expect(rowsOver.data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { field: 'limit', limit: MAX_TABLE_PAGE_ROWS, actual: String(MAX_TABLE_PAGE_ROWS + 1) },
    });
    const columnsOver = await get(
      server,
      key,
      `/api/v1/experiments/${id}/tables/data?name=nulls&format=json&columnLimit=${MAX_TABLE_PAGE_COLUMNS + 1}`,
    );
    expect(columnsOver.status).toBe(400);
    expect(columnsOver.data.details).toMatchObject({ field: 'columnLimit', limit: MAX_TABLE_PAGE_COLUMNS });
    const cellsOver = await get(
      server,
      key,
      `/api/v1/experiments/${id}/tables/data?name=nulls&format=json&limit=${MAX_TABLE_PAGE_ROWS}&columnLimit=${MAX_TABLE_PAGE_COLUMNS}`,
    );
    expect(cellsOver.status).toBe(422);
    expect(cellsOver.data).toMatchObject({
      error: 'LIMIT_EXCEEDED',
      details: { limit: MAX_TABLE_PAGE_CELLS, actual: MAX_TABLE_PAGE_ROWS * MAX_TABLE_PAGE_COLUMNS },
    });
    expect(cellsOver.data.message).toContain('MAX_TABLE_PAGE_CELLS');

    // The Arrow download stays whole and lossless.
    const arrow = await api(server, key, 'GET', `/api/v1/experiments/${id}/tables/data?name=nulls&format=arrow`);
    expect(arrow.status).toBe(200);
    expect(Buffer.compare(arrow.data, Buffer.from(tableToIPC(nullTable(100_000, 1_000), 'stream')))).toBe(0);

    // One column more than maxTableColumns is refused at ingest (the rest of the batch is stored).
    const wide = await uploadTable(server, key, id, 'wider', nullTable(10, DEFAULT_LIMITS.maxTableColumns + 1));
    expect(wide.ingest.rejected).toEqual([
      expect.objectContaining({
        kind: 'table',
        name: 'wider',
        error: 'LIMIT_EXCEEDED',
        details: { key: 'wider', limit: 1_000, actual: 1_001 },
      }),
    ]);
    expect(wide.ingest.rejected[0].message).toContain('maxTableColumns');
    expect((await api(server, key, 'GET', `/api/v1/experiments/${id}/tables`)).data.tables.map((t: { name: string }) => t.name)).toEqual([
      'nulls',
    ]);
    await listingAnswers(server, key);
  }, 120_000);

  it('refuses at ingest a table of more than MAX_TABLE_ARRAYS arrays (batches × columns), without decoding it', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const id = await experiment(server, key, 'p');
    // One-row batches of 1,000 Null columns: 200 of them (3 MB) took 3.6 s to decode at ingest, and again at every
    // JSON read; 20 (cheaper to build here) are over the limit just as well.
    const [{ ingest }, listing] = await Promise.all([
      uploadTable(server, key, id, 'batches', manyBatches(20, 1_000)),
      listingAnswers(server, key),
    ]);
    expect(ingest.rejected).toEqual([
      expect.objectContaining({
        kind: 'table',
        name: 'batches',
        error: 'LIMIT_EXCEEDED',
        details: { key: 'batches', limit: MAX_TABLE_ARRAYS, actual: 20_000 },
      }),
    ]);
    expect(ingest.rejected[0].message).toContain('MAX_TABLE_ARRAYS');
    expect(listing).toBe(200);
    // At the limit it is stored and read.
    const { ingest: fits } = await uploadTable(server, key, id, 'fits', manyBatches(10, 1_000));
    expect(fits.rejected).toEqual([]);
    const page = await get(server, key, `/api/v1/experiments/${id}/tables/data?name=fits&format=json&offset=9`);
    expect(page.data).toMatchObject({ total: 10, offset: 9, rows: [expect.any(Object)] });
    expect(page.data.next).toBeUndefined();
  }, 120_000);

  it('cuts a dictionary cell of 1 MiB to the cell budget, and sorts by it reading each entry once', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const id = await experiment(server, key, 'p');
    const { ingest, bytes } = await uploadTable(server, key, id, 'dict', dictionaryTable(100_000, 1, 1 << 20));
    expect(bytes).toBeLessThan(1_600_000);
    expect(ingest.rejected).toEqual([]);

    const [page, listing] = await Promise.all([
      get(server, key, `/api/v1/experiments/${id}/tables/data?name=dict&format=json`),
      listingAnswers(server, key),
    ]);
    expect(page.status).toBe(200);
    expect(page.data.rows).toHaveLength(DEFAULT_TABLE_PAGE_ROWS);
    expect(page.data.rows[0].s0).toBe('a'.repeat(MAX_TABLE_CELL_CHARS));
    expect(page.data.truncatedCells).toEqual(Array.from({ length: DEFAULT_TABLE_PAGE_ROWS }, (_, row) => ({ row, column: 's0' })));
    expect(page.bytes).toBeLessThan(DEFAULT_TABLE_PAGE_ROWS * (MAX_TABLE_CELL_CHARS + 100) + 10_000);
    expect(listing).toBe(200);

    const sorted = await get(server, key, `/api/v1/experiments/${id}/tables/data?name=dict&format=json&sort=s0&offset=99998`);
    expect(sorted.status).toBe(200);
    expect(sorted.data.rows.map((r: { s0: string }) => r.s0.length)).toEqual([MAX_TABLE_CELL_CHARS, MAX_TABLE_CELL_CHARS]);
    expect(sorted.data.next).toBeUndefined();
    await listingAnswers(server, key);
  }, 120_000);

  it('keeps a page of 100 Null columns small, and ends a page early at the byte budget', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const id = await experiment(server, key, 'p');
    await uploadTable(server, key, id, 'nulls100', nullTable(100_000, 100));
    const page = await get(server, key, `/api/v1/experiments/${id}/tables/data?name=nulls100&format=json`);
    expect(page.status).toBe(200);
    expect(page.data).toMatchObject({ total: 100_000, totalColumns: 100, nextColumn: 50, next: 100 });
    expect(page.bytes).toBeLessThan(200_000);

    // 200 columns of 2,000-character cells: 100 rows would be ~20 MB, the page stops below MAX_TABLE_PAGE_BYTES.
    await uploadTable(server, key, id, 'fat', dictionaryTable(1_000, 200, 2_000));
    const fat = await get(server, key, `/api/v1/experiments/${id}/tables/data?name=fat&format=json&columnLimit=200`);
    expect(fat.status).toBe(200);
    const rows = fat.data.rows.length;
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(DEFAULT_TABLE_PAGE_ROWS);
    expect(fat.data.next).toBe(rows);
    expect(fat.bytes).toBeLessThanOrEqual(MAX_TABLE_PAGE_BYTES);
    expect(fat.data.truncatedCells).toHaveLength(rows * 200);
    const following = await get(server, key, `/api/v1/experiments/${id}/tables/data?name=fat&format=json&columnLimit=200&offset=${rows}`);
    expect(following.data.offset).toBe(rows);
    expect(following.data.rows).toHaveLength(rows);
    await listingAnswers(server, key);
  }, 120_000);

  it('pages a long metric series by step while a listing stays fast', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db, { args: ['--limit', 'maxMetricValues=1000000'] });
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'long', project: 'p', limits: { maxMetricValues: 1_000_000 } });
    const N = 300_000;
    for (let i = 0; i < N; i++) exp.logMetric('loss', i / 2, { step: i });
    await exp.close();
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    const base = `/api/v1/experiments/${exp.id}/metrics?key=loss`;
    const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

    const [first, ...listings] = await Promise.all([get(server, key, base), listingAnswers(server, key), listingAnswers(server, key)]);
    expect(first.status).toBe(200);
    expect(first.data.steps).toEqual(range(0, DEFAULT_METRIC_PAGE_POINTS));
    expect(first.data.values).toEqual(range(0, DEFAULT_METRIC_PAGE_POINTS).map((s) => s / 2));
    expect(first.data.timestamps).toHaveLength(DEFAULT_METRIC_PAGE_POINTS);
    expect(first.data.next).toBe(DEFAULT_METRIC_PAGE_POINTS);
    expect(listings).toEqual([200, 200]);

    // Following `next` reads the whole series once, in order.
    const steps: number[] = [];
    let from: number | undefined = 0;
    for (let pages = 0; from !== undefined && pages < 10; pages++) {
      const page = await get(server, key, `${base}&fromStep=${from}&limit=70000`);
      expect(page.data.steps.length).toBeLessThanOrEqual(70_000);
      steps.push(...page.data.steps);
      from = page.data.next;
    }
    expect(from).toBeUndefined();
    expect(steps).toEqual(range(0, N));

    const middle = await get(server, key, `${base}&fromStep=123456.5&limit=3`);
    expect(middle.data).toEqual({
      key: 'loss',
      steps: [123457, 123458, 123459],
      values: [61728.5, 61729, 61729.5],
      timestamps: middle.data.timestamps,
      next: 123460,
    });
    const tail = await get(server, key, `${base}&fromStep=${N - 2}`);
    expect(tail.data.steps).toEqual([N - 2, N - 1]);
    expect(tail.data.next).toBeUndefined();
    expect((await get(server, key, `${base}&fromStep=${N}`)).data.steps).toEqual([]);

    const over = await get(server, key, `${base}&limit=${MAX_METRIC_PAGE_POINTS + 1}`);
    expect(over.status).toBe(400);
    expect(over.data).toMatchObject({ error: 'INVALID_OPTION', details: { field: 'limit', limit: MAX_METRIC_PAGE_POINTS } });
    expect((await get(server, key, `${base}&limit=0`)).status).toBe(400);
    expect((await get(server, key, `${base}&fromStep=abc`)).data).toMatchObject({
      error: 'INVALID_OPTION',
      details: { field: 'fromStep' },
    });
    expect((await get(server, key, `/api/v1/experiments/${exp.id}/metrics?key=nope`)).status).toBe(404);
  }, 180_000);

  it("leaves out the experiments table's oldest rows past its summary budget", async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const { store } = tempStore();
    // 500 params of 6,000 characters (the default maxParams and maxParamValueLength): ~3 MB of summary per experiment.
    const params = Object.fromEntries(
      Array.from({ length: DEFAULT_LIMITS.maxParams }, (_, i) => [`p${i}`, String(i).padEnd(DEFAULT_LIMITS.maxParamValueLength, 'x')]),
    );
    const ids: string[] = [];
    for (let e = 0; e < 7; e++) {
      const exp = store.createExperiment({ name: `wide-${e}`, project: 'p' });
      exp.logParams(params);
      exp.logMetric('loss', e);
      await exp.close();
      ids.push(exp.id);
      // The next one is created on a later millisecond, so "newest first" has one answer.
      await waitFor('the clock past the creation time', () => Date.now() > exp.createdAt.getTime(), CLOCK_TICK_MS, 1);
    }
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    const [table, listing] = await Promise.all([get(server, key, '/api/v1/ui/experiments?project=p', 30_000), listingAnswers(server, key)]);
    expect(table.status).toBe(200);
    expect(table.data).toMatchObject({ project: 'p', total: 7, truncated: true });
    // Newest first: the rows kept are the newest that fit.
    expect(table.data.experiments.map((r: { id: string }) => r.id)).toEqual(ids.slice().reverse().slice(0, table.data.experiments.length));
    // 16 MiB of budget / ~3.01 MB a row: 5 rows.
    expect(table.data.experiments).toHaveLength(5);
    expect(table.bytes).toBeLessThanOrEqual(MAX_UI_TABLE_SUMMARY_BYTES);
    expect(listing).toBe(200);
  }, 180_000);

  it('lists at most MAX_SERIES_LISTED series and MAX_TABLES_LISTED tables of an experiment', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const id = await experiment(server, key, 'p');
    // One-point metric series, 500 a request; and tables of one tiny blob, 100 a request.
    const names = Array.from({ length: MAX_SERIES_LISTED + 5 }, (_, i) => `m${String(i).padStart(6, '0')}`);
    for (let start = 0; start < names.length; start += 500) {
      const metrics = names.slice(start, start + 500).map((name) => ({ name, after: null, steps: [0], values: [1], timestamps: [1] }));
      const res = await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, { metrics });
      expect(res.status).toBe(200);
      expect(res.data.rejected).toEqual([]);
    }
    const ipc = Buffer.from(tableToIPC(nullTable(1, 1), 'stream'));
    const hash = createHash('sha256').update(ipc).digest('hex');
    await fetch(`${server.url}/api/v1/blobs/${hash}`, {
      method: 'PUT',
      body: ipc,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
    });
    const tableNames = Array.from({ length: MAX_TABLES_LISTED + 2 }, (_, i) => `t${String(i).padStart(5, '0')}`);
    for (let start = 0; start < tableNames.length; start += 100) {
      const tables = tableNames.slice(start, start + 100).map((name) => ({ name, hash, loggedAt: 1 }));
      expect((await api(server, key, 'POST', `/api/v1/experiments/${id}/ingest`, { tables })).data.rejected).toEqual([]);
    }
    const detail = await get(server, key, `/api/v1/experiments/${id}`);
    expect(detail.data.series.map((s: { name: string }) => s.name)).toEqual(names.slice(0, MAX_SERIES_LISTED));
    expect(detail.data.tables.map((t: { name: string }) => t.name)).toEqual(tableNames.slice(0, MAX_TABLES_LISTED));
    expect(detail.data).toMatchObject({ seriesTruncated: true, tablesTruncated: true });
    const tables = await get(server, key, `/api/v1/experiments/${id}/tables`);
    expect(tables.data.tables).toHaveLength(MAX_TABLES_LISTED);
    expect(tables.data.truncated).toBe(true);
    const page = await get(server, key, `/api/v1/ui/experiments/${id}`);
    expect(page.data.series).toHaveLength(MAX_SERIES_LISTED);
    expect(page.data.tables).toHaveLength(MAX_TABLES_LISTED);
    expect(page.data).toMatchObject({ seriesTruncated: true, tablesTruncated: true });
    const row = await get(server, key, `/api/v1/ui/experiments?ids=${id}`);
    expect(Object.keys(row.data.experiments[0].metrics)).toHaveLength(MAX_ROW_SERIES);
  }, 180_000);

  it('pages image lists and plot points, plots within a byte budget', async () => {
    const db = await create();
    const key = await createKey(db, 'p');
    const server = await startServer(db);
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'media', project: 'p' });
    const png = await solidPng(8, 8);
    for (let i = 0; i < 5; i++) await exp.logImage('img', png, { step: i * 10 });
    // 36 figures of ~1 MiB: more than MAX_PLOT_PAGE_BYTES together.
    const figure = (i: number) => ({ data: [{ y: [i] }], layout: { title: 'x'.repeat(1 << 20) } });
    for (let i = 0; i < 36; i++) exp.logPlot('big', figure(i), { step: i });
    await exp.close();
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);

    const images = await get(server, key, `/api/v1/experiments/${exp.id}/images?key=img&limit=2`);
    expect(images.data.images.map((i: { step: number }) => i.step)).toEqual([0, 10]);
    expect(images.data.next).toBe(20);
    const rest = await get(server, key, `/api/v1/experiments/${exp.id}/images?key=img&fromStep=20`);
    expect(rest.data.images.map((i: { step: number }) => i.step)).toEqual([20, 30, 40]);
    expect(rest.data.next).toBeUndefined();
    expect((await get(server, key, `/api/v1/experiments/${exp.id}/images?key=img&limit=${MAX_IMAGE_PAGE + 1}`)).data.details).toMatchObject(
      { limit: MAX_IMAGE_PAGE },
    );

    const size = Buffer.byteLength(JSON.stringify(figure(0)));
    const fit = Math.floor(MAX_PLOT_PAGE_BYTES / size);
    const plots = await get(server, key, `/api/v1/experiments/${exp.id}/plots?key=big`, 30_000);
    expect(plots.status).toBe(200);
    expect(plots.data.plots).toHaveLength(fit);
    expect(plots.data.plots[3].figure).toEqual(figure(3));
    expect(plots.data.next).toBe(fit);
    const after = await get(server, key, `/api/v1/experiments/${exp.id}/plots?key=big&fromStep=${fit}`, 30_000);
    expect(after.data.plots.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 36 - fit }, (_, i) => fit + i));
    expect(after.data.next).toBeUndefined();
    const index = await get(server, key, `/api/v1/experiments/${exp.id}/plots?key=big&figures=false`);
    expect(index.data.plots).toHaveLength(36);
    expect(index.data.plots[0]).toEqual({ step: 0, timestamp: expect.any(Number), caption: null, bytes: size });
    expect(index.bytes).toBeLessThan(10_000);
    const one = await get(server, key, `/api/v1/experiments/${exp.id}/plots?key=big&fromStep=7&limit=1`);
    expect(one.data.plots.map((p: { step: number; figure: unknown }) => [p.step, p.figure])).toEqual([[7, figure(7)]]);
    expect(one.data.next).toBe(8);
    await listingAnswers(server, key);
  }, 180_000);
});

describe('the library holds tables to the same bounds as the server', () => {
  it('refuses a table past maxTableColumns or MAX_TABLE_ARRAYS when it is logged', async () => {
    await loadArrow();
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    exp.logTable('fits', nullTable(3, DEFAULT_LIMITS.maxTableColumns));
    expect(() => exp.logTable('wide', nullTable(3, DEFAULT_LIMITS.maxTableColumns + 1))).toThrowError(
      expect.objectContaining({
        code: 'LIMIT_EXCEEDED',
        message: "table 'wide' has 1001 columns; the limit is 1000 (maxTableColumns)",
        details: { key: 'wide', limit: 1_000, actual: 1_001 },
      }),
    );
    const frame = pl.DataFrame(Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`c${i}`, [i]])));
    expect(() => exp.logTable('wide-frame', frame)).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED', details: { key: 'wide-frame', limit: 1_000, actual: 1_001 } }),
    );
    expect(() => exp.logTable('batches', manyBatches(11, 1_000))).toThrowError(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED', details: { key: 'batches', limit: MAX_TABLE_ARRAYS, actual: 11_000 } }),
    );
    await exp.close();
    expect(exp.listTables().map((t) => [t.name, t.columns])).toEqual([['fits', 1_000]]);
  }, 60_000);
});

describe.skipIf(!CHROMIUM_AVAILABLE)('the web UI over paged answers', () => {
  it('pages a wide table by columns, marks a cut cell, and draws a plot chosen from the figure-less index', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'wide', project: 'ui' });
    const columns: Record<string, unknown[]> = {};
    for (let c = 0; c < 120; c++) columns[`col${String(c).padStart(3, '0')}`] = [c, c + 1, c + 2];
    columns['col000'] = ['x'.repeat(5_000), 'short', 'y'];
    exp.logTable('wide', pl.DataFrame(columns));
    for (let i = 0; i < 3; i++)
      exp.logPlot('fig', { data: [{ type: 'bar', x: ['a', 'b'], y: [i, i + 1] }], layout: { title: `step ${i}` } }, { step: i });
    await exp.close();
    await store.close();
    const ui = await startUi(path);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPage(browser);
      await page.goto(`${ui.url}/#/experiments/${exp.id}`);
      const table = page.locator('[data-testid="table"][data-name="wide"]');
      await expect
        .poll(() => table.locator('[data-testid="table-column-range"]').textContent(), { timeout: 20_000 })
        .toMatch(/1\D+50\D+120/);
      expect(await table.locator('thead th').count()).toBe(50);
      expect(await table.locator('thead th').first().getAttribute('data-col')).toBe('col000');
      // The 5,000-character cell is cut to the server's cell budget and marked.
      const cut = table.locator('td[data-truncated="1"]');
      expect(await cut.count()).toBe(1);
      expect((await cut.textContent())!.length).toBe(MAX_TABLE_CELL_CHARS + 1);
      await table.locator('[data-testid="table-next-columns"]').click();
      await expect.poll(() => table.locator('[data-testid="table-column-range"]').textContent()).toMatch(/51\D+100\D+120/);
      expect(await table.locator('thead th').first().getAttribute('data-col')).toBe('col050');
      expect(await table.locator('tbody tr').first().textContent()).toContain('50');
      await table.locator('[data-testid="table-next-columns"]').click();
      await expect.poll(() => table.locator('thead th').count()).toBe(20);
      expect(await table.locator('[data-testid="table-next-columns"]').isDisabled()).toBe(true);

      // The plot list comes without figures; the last figure is fetched and drawn, then another step's.
      const plot = page.locator('[data-testid="plot"][data-key="fig"]');
      await expect.poll(() => plot.getAttribute('data-ready'), { timeout: 30_000 }).toBe('1');
      expect(await plot.getAttribute('data-step')).toBe('2');
      expect(await plot.locator('[data-testid="plot-step"] option').count()).toBe(3);
      await plot.locator('[data-testid="plot-step"]').selectOption('0');
      await expect.poll(() => plot.getAttribute('data-step')).toBe('0');
      // Plotly keeps the drawn figure's traces on its element: step 0's bars are drawn.
      const drawnY = () =>
        plot.locator('.plot-figure').evaluate((el) => JSON.stringify((el as unknown as { data?: { y: unknown }[] }).data?.[0]?.y ?? null));
      await expect.poll(drawnY, { timeout: 20_000 }).toBe('[0,1]');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await browser.close();
      ui.child.kill();
    }
  }, 120_000);
});
