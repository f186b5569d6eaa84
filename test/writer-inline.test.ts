// The writer's blocking path before its worker runs: order across the hand-over to the worker, refusals handled as the worker would, a failed inline fsync.

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchQueue } from '../src/core/batch-queue.js';
import { LablogError } from '../src/model/errors.js';
import { SqliteBackend } from '../src/store/sqlite/sqlite-backend.js';
import { WriterThread } from '../src/store/sqlite/writer-thread.js';
import type { WriteBatch } from '../src/store/experiment-writer.js';
import { tempDir } from './helpers.js';

const T0 = 1_700_000_000_000;
/** Rounds of the race between a worker starting and a blocking submit (each round starts a worker). */
const RACE_ROUNDS = 100;
/** The pause between start() and the submits sweeps this many steps from 0 to RACE_SPAN × the worker's start time. */
const RACE_OFFSETS = 20;
const RACE_SPAN = 1.25;
/** The race test starts RACE_ROUNDS workers (from TypeScript sources, each takes a few hundred ms under load). */
const RACE_TIMEOUT_MS = 240_000;
/** A cell to sleep on with Atomics.wait (nothing ever notifies it). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

function openBackend(file: string): SqliteBackend {
  const backend = new SqliteBackend(file);
  open.push(backend);
  return backend;
}

function createExperiment(backend: SqliteBackend): string {
  const id = randomUUID();
  backend.createExperiment(
    { id, project: 'p', description: null, tags: [], createdAt: T0, pid: process.pid, hostname: 'host-a' },
    () => `run-${id.slice(0, 8)}`,
  );
  return id;
}

const metricBatch = (experimentId: string, name: string, steps: number[]): WriteBatch => ({
  experimentId,
  params: [],
  metrics: [
    {
      name,
      steps: Float64Array.from(steps),
      values: Float64Array.from(steps, (s) => s / 2),
      timestamps: Float64Array.from(steps, (s) => T0 + s),
    },
  ],
  images: [],
  plots: [],
  tables: [],
  heartbeatAt: T0,
});

/** Waits (on the condition, not a clock) until `done()` holds, or fails after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const steps = (backend: SqliteBackend, id: string, name: string) => Array.from(backend.readMetric(id, name)?.steps ?? []);

describe('writer: a blocking submit before the worker runs', () => {
  it(
    'keeps ticket order and stores exactly the points when start() races a blocking then a non-blocking submit',
    async () => {
      const file = join(tempDir(), 'lablog.db');
      const id = createExperiment(openBackend(file));
      let inline = 0;
      // How long a worker takes to take batches here, measured by the first round: the sweep crosses it.
      let startMs = 0;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        // A fresh writer each round (a new connection to the same store): its worker is spawned, not yet ready.
        const backend = new SqliteBackend(file);
        const writer = backend.writer();
        const started = performance.now();
        writer.start();
        Atomics.wait(PAUSE, 0, 0, ((round % RACE_OFFSETS) / RACE_OFFSETS) * RACE_SPAN * startMs);
        const first = writer.submit(metricBatch(id, 'm', [2 * round]), true);
        if (writer.written() >= first) inline++;
        const second = writer.submit(metricBatch(id, 'm', [2 * round + 1]));
        expect(second).toBe(first + 1);
        expect(writer.waitSync(second, 30_000)).toBe(true);
        if (round === 0) startMs = performance.now() - started;
        expect(writer.failure()).toBeUndefined();
        expect(writer.rejectionsSince(0)).toBeUndefined();
        expect(steps(backend, id, 'm')).toEqual(Array.from({ length: 2 * round + 2 }, (_, i) => i));
        backend.close();
      }
      // The first rounds submit before any worker can be ready: the blocking submit wrote them itself.
      expect(inline).toBeGreaterThan(0);
    },
    RACE_TIMEOUT_MS,
  );

  it('drops a batch the store refuses for good as a rejection, and writes the next one', () => {
    const backend = openBackend(join(tempDir(), 'lablog.db'));
    const id = createExperiment(backend);
    backend.write({
      ...metricBatch(id, 'm', []),
      metrics: [],
      plots: [{ name: 'p', step: 0, timestamp: T0, caption: null, figure: '{"data":[]}' }],
    });
    const writer = backend.writer();
    const recycled: ArrayBuffer[] = [];
    writer.onRecycle((buffers) => recycled.push(...buffers));
    // A metric under a plot's name: SERIES_KIND_MISMATCH, which no retry can change.
    const refused = metricBatch(id, 'p', [1]);
    const bad = writer.submit(refused, true);
    expect(writer.written()).toBe(bad);
    const rejections = writer.rejectionsSince(0)!;
    expect(rejections.count).toBe(1);
    expect(rejections.tickets).toEqual([bad]);
    expect((rejections.error as LablogError).code).toBe('STORAGE_ERROR');
    expect(rejections.error.message).toContain("series 'p' is a plot series, not a metric series");
    expect(writer.failure()).toBeUndefined();
    // Its buffers were not sent anywhere: given back once, for reuse.
    const columns = refused.metrics[0]!;
    expect(recycled).toEqual([columns.steps.buffer, columns.values.buffer, columns.timestamps.buffer]);
    const good = writer.submit(metricBatch(id, 'm', [0, 1]), true);
    expect(good).toBe(bad + 1);
    expect(writer.written()).toBe(good);
    expect(writer.rejectionsSince(1)).toBeUndefined();
    expect(steps(backend, id, 'm')).toEqual([0, 1]);
    expect(steps(backend, id, 'p')).toEqual([]);
  });

  it('hands a batch the store refuses for now (busy) to the worker, which retries it until the store takes it', async () => {
    const file = join(tempDir(), 'lablog.db');
    const backend = openBackend(file);
    const id = createExperiment(backend);
    const lock = new Database(file);
    open.push(lock);
    lock.exec('BEGIN EXCLUSIVE');
    const writer = backend.writer();
    const recycled: ArrayBuffer[] = [];
    writer.onRecycle((buffers) => recycled.push(...buffers));
    const batch = metricBatch(id, 'm', [0, 1, 2]);
    const columns = batch.metrics[0]!;
    const ticket = writer.submit(batch, true);
    // Not written here: transferred to the worker (detached), not given back to the pool.
    expect(writer.written()).toBeLessThan(ticket);
    expect([columns.steps.buffer.byteLength, columns.values.buffer.byteLength]).toEqual([0, 0]);
    expect(recycled).toEqual([]);
    await until(() => writer.failure() !== undefined);
    expect(writer.failure()!.message).toMatch(/database is locked|busy/);
    expect(writer.written()).toBeLessThan(ticket);
    lock.exec('ROLLBACK');
    expect(await writer.wait(ticket, 30_000)).toBe(true);
    expect(writer.failure()).toBeUndefined();
    expect(writer.rejectionsSince(0)).toBeUndefined();
    expect(steps(backend, id, 'm')).toEqual([0, 1, 2]);
    // Given back once, by the worker.
    await until(() => recycled.length === 3);
    expect(recycled.map((buffer) => buffer.byteLength)).toEqual([24, 24, 24]);
  });

  it('records a failed inline fsync as syncFailure(), and a durable wait reports it', async () => {
    const file = join(tempDir(), 'lablog.db');
    const backend = openBackend(file);
    const id = createExperiment(backend);
    // The store's own inline writer, with the fsync failing as a dying disk's would.
    let fsyncs = 0;
    const writer = new WriterThread(file, {
      write: (batch) => backend.write(batch),
      sync: () => {
        fsyncs++;
        throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      },
    });
    open.push(writer);
    expect(writer.written()).toBe(0);
    const written = writer.submit(metricBatch(id, 'm', [0]), true);
    expect(writer.written()).toBe(written);
    expect(writer.syncFailure()).toBeUndefined();
    const queue = new BatchQueue(id, writer, file);
    const sync = queue.requestDurable();
    expect(fsyncs).toBe(1);
    expect(writer.written()).toBe(sync);
    expect(writer.durable()).toBe(0);
    const failure = writer.syncFailure()!;
    expect(failure).toBeInstanceOf(LablogError);
    expect(failure.message).toBe(`cannot put the writes to ${file} on stable storage: EIO: i/o error, fsync`);
    const error = queue.waitDurableSync(sync, 30_000)!;
    expect(error).toBe(failure);
    expect(await writer.waitDurable(sync, 30_000)).toBe(false);
    // Failed for good: a later request (the worker's, now) does not fsync and never counts as durable.
    writer.start();
    const later = writer.submitSync();
    expect(await writer.wait(later, 30_000)).toBe(true);
    expect(await writer.waitDurable(later, 30_000)).toBe(false);
    expect(writer.durable()).toBe(0);
    expect(writer.syncs()).toBe(0);
    expect(steps(backend, id, 'm')).toEqual([0]);
  });
});
