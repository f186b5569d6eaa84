// Test support: the stores the backend contract suite runs against, each opened through its factory, with one way to seed data.

import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../../src/model/limits.js';
import type { ExperimentProgress } from '../../src/model/progress.js';
import type { DatasetRecord } from '../../src/model/dataset.js';
import type { ExperimentRecord, ParamRecord } from '../../src/model/experiment.js';
import type { Async } from '../../src/store/async.js';
import type { StoreBackend } from '../../src/store/backend.js';
import type { BlobStore } from '../../src/store/blob-store.js';
import type { ExperimentIngest } from '../../src/store/experiment-ingest.js';
import type { ExperimentReader } from '../../src/store/experiment-reader.js';
import type { ExperimentWriter } from '../../src/store/experiment-writer.js';
import type { KeyStore } from '../../src/store/key-store.js';
import { openPublishSource } from '../../src/store/open-publish-source.js';
import { openServerBackend } from '../../src/store/open-server-backend.js';
import { openStoreBackend } from '../../src/store/open-store-backend.js';
import type { PublishSource, SyncLedger, WatermarkReader } from '../../src/store/publish-source.js';
import type { SeriesPages } from '../../src/store/series-pages.js';
import type { ServerBackend } from '../../src/store/server-backend.js';
import type { RunStore } from '../../src/store/run-store.js';
import type { EnvStore } from '../../src/store/env-store.js';
import type { RunIngest } from '../../src/store/run-ingest.js';
import type { RunLedger } from '../../src/store/run-ledger.js';
import type { StudyStore } from '../../src/store/study-store.js';
import type { ServerSweepStore, SweepStore } from '../../src/store/sweep-store.js';
import type { UiQueries } from '../../src/store/ui-queries.js';
import type { ArtifactStore, ModelStore, ServerModelStore } from '../../src/store/artifact-store.js';
import { freshDatabase } from './postgres.js';
import { sqliteRows, postgresRows, type RawRows } from './raw-rows.js';

/** The capabilities of step 1, by the interface that declares each. */
export const CAPABILITIES = [
  'reader',
  'writer',
  'batch',
  'ingest',
  'studies',
  'blobs',
  'keys',
  'pages',
  'ui',
  'ledger',
  'runs',
  'env',
  'runIngest',
  'runLedger',
  'sweeps',
  'artifacts',
  'models',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** An experiment and what was logged into it, as every store can be given it. */
export interface Seed {
  readonly project: string;
  readonly name: string;
  readonly tags?: readonly string[];
  readonly createdAt: number;
  readonly params?: readonly ParamRecord[];
  readonly metrics?: readonly { name: string; steps: number[]; values: number[]; timestamps?: number[] }[];
  readonly images?: readonly {
    name: string;
    step: number;
    timestamp: number;
    caption: string | null;
    png: Buffer;
    width: number;
    height: number;
  }[];
  readonly plots?: readonly { name: string; step: number; timestamp: number; caption: string | null; figure: string }[];
  readonly tables?: readonly { name: string; ipc: Buffer; rows: number; columns: number; loggedAt: number }[];
  readonly progress?: ExperimentProgress;
  readonly datasets?: readonly DatasetRecord[];
}

/** One store under test: its capabilities (absent: the store does not implement it), all asynchronous. */
export interface ContractBackend {
  readonly label: string;
  readonly driver: 'sqlite' | 'postgres';
  readonly location: string;
  readonly reader: Async<ExperimentReader>;
  readonly studies: Async<StudyStore>;
  readonly writer?: Async<ExperimentWriter>;
  /** The batch writer of the embedded store (reached through writer.writer()). */
  readonly batch?: true;
  readonly ingest?: Async<ExperimentIngest>;
  readonly blobs?: Async<BlobStore>;
  readonly keys?: Async<KeyStore>;
  readonly pages?: Async<SeriesPages>;
  readonly ui?: Async<UiQueries>;
  readonly ledger?: Async<SyncLedger & WatermarkReader>;
  readonly runs?: Async<RunStore>;
  readonly env?: Async<EnvStore>;
  readonly runIngest?: Async<RunIngest>;
  readonly runLedger?: Async<RunLedger>;
  readonly sweeps?: Async<SweepStore>;
  readonly artifacts?: Async<ArtifactStore>;
  readonly models?: Async<ModelStore>;
  /**
   * Writes rows straight into the store's tables with SQL (no rule checked): artifacts for the model cases on
   * stores whose ArtifactStore is not there, and rows past a limit that would take too long to make one by one.
   */
  readonly rows: RawRows;
  /**
   * A server store of its own (its own connections: another server process) on the same database, for
   * what several processes do at once; absent on the embedded store.
   */
  readonly peer?: () => Promise<{ readonly sweeps: ServerSweepStore; readonly models: ServerModelStore; close(): Promise<void> }>;
  /** Stores an experiment with its data (the store's own way: a write batch, or a publish); returns its id. */
  seed(seed: Seed): Promise<string>;
  close(): Promise<void>;
}

/** The asynchronous view of a synchronous store: each method call resolved (or rejected) with its result. */
export function asAsync<T extends object>(target: T): Async<T> {
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key, object);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(object, args);
    },
  }) as Async<T>;
}

export function has(backend: ContractBackend, capability: Capability): boolean {
  return backend[capability] !== undefined;
}

/** The embedded store: its backend (reads, writes, studies, runs) and a publish source on the same file (the sync ledger). */
export function openEmbedded(): ContractBackend {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-contract-'));
  const file = join(dir, 'lablog.db');
  const store: StoreBackend = openStoreBackend(file);
  const source: PublishSource = openPublishSource(file);
  return {
    label: 'embedded SQLite store',
    driver: 'sqlite',
    location: file,
    reader: asAsync<ExperimentReader>(store),
    writer: asAsync<ExperimentWriter>(store),
    batch: true,
    studies: asAsync(store.studies()),
    ledger: asAsync<SyncLedger & WatermarkReader>(source),
    runs: asAsync<RunStore>(store.runs()),
    env: asAsync<EnvStore>(store.env()),
    runLedger: asAsync<RunLedger>(source),
    sweeps: asAsync<SweepStore>(store.sweeps()),
    artifacts: asAsync<ArtifactStore>(store.artifacts()),
    models: asAsync<ModelStore>(store.models()),
    rows: sqliteRows(file),
    async seed(seed) {
      const id = randomUUID();
      store.createExperiment(
        {
          id,
          project: seed.project,
          description: null,
          tags: seed.tags ?? [],
          createdAt: seed.createdAt,
          pid: process.pid,
          hostname: 'host-a',
        },
        () => seed.name,
      );
      store.write({
        experimentId: id,
        params: seed.params ?? [],
        metrics: (seed.metrics ?? []).map((m) => ({
          name: m.name,
          steps: Float64Array.from(m.steps),
          values: Float64Array.from(m.values),
          timestamps: Float64Array.from(m.timestamps ?? m.steps.map((s) => seed.createdAt + s)),
        })),
        images: seed.images ?? [],
        plots: seed.plots ?? [],
        tables: seed.tables ?? [],
        heartbeatAt: seed.createdAt,
        ...(seed.progress ? { progress: seed.progress } : {}),
        ...(seed.datasets ? { datasets: seed.datasets } : {}),
      });
      return id;
    },
    async close() {
      await this.rows.close();
      source.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serverBackend(
  label: string,
  driver: 'sqlite' | 'postgres',
  backend: ServerBackend,
  reopen: () => Promise<ServerBackend>,
  rows: RawRows,
  cleanup: () => Promise<void>,
): ContractBackend {
  return {
    label,
    driver,
    location: backend.location,
    reader: backend,
    ingest: backend,
    studies: backend.studies(),
    blobs: backend,
    keys: backend,
    pages: backend,
    ui: backend,
    env: backend.env(),
    runs: backend.runs(),
    runIngest: backend.runIngest(),
    sweeps: backend.sweeps(),
    artifacts: backend.artifacts(),
    models: backend.models(),
    rows,
    async peer() {
      const other = await reopen();
      return { sweeps: other.sweeps(), models: other.models(), close: () => other.close() };
    },
    async seed(seed) {
      const id = randomUUID();
      const now = seed.createdAt;
      await backend.upsertExperiment(
        {
          id,
          project: seed.project,
          name: seed.name,
          description: null,
          tags: seed.tags ?? [],
          status: 'running',
          createdAt: seed.createdAt,
          endedAt: null,
          heartbeatAt: seed.createdAt,
          hostname: 'host-a',
          version: null,
          params: seed.params ?? [],
          ...(seed.progress ? { progress: seed.progress } : {}),
          ...(seed.datasets ? { datasets: seed.datasets } : {}),
        },
        DEFAULT_LIMITS,
        now,
      );
      for (const bytes of [...(seed.images ?? []).map((i) => i.png), ...(seed.tables ?? []).map((t) => t.ipc)]) {
        await backend.putBlob(sha256(bytes), bytes);
      }
      const byName = <P extends { name: string }>(points: readonly P[]) =>
        [...new Set(points.map((p) => p.name))].map((name) => ({ name, points: points.filter((p) => p.name === name) }));
      const result = await backend.ingest(
        {
          experimentId: id,
          metrics: (seed.metrics ?? []).map((m) => ({
            name: m.name,
            after: null,
            steps: Float64Array.from(m.steps),
            values: Float64Array.from(m.values),
            timestamps: Float64Array.from(m.timestamps ?? m.steps.map((s) => seed.createdAt + s)),
          })),
          images: byName(seed.images ?? []).map(({ name, points }) => ({
            name,
            after: null,
            points: points.map((p) => ({
              step: p.step,
              timestamp: p.timestamp,
              caption: p.caption,
              hash: sha256(p.png),
              width: p.width,
              height: p.height,
            })),
          })),
          plots: byName(seed.plots ?? []).map(({ name, points }) => ({
            name,
            after: null,
            points: points.map((p) => ({ step: p.step, timestamp: p.timestamp, caption: p.caption, figure: p.figure })),
          })),
          tables: (seed.tables ?? []).map((t) => ({
            name: t.name,
            hash: sha256(t.ipc),
            rows: t.rows,
            columns: t.columns,
            loggedAt: t.loggedAt,
          })),
        },
        DEFAULT_LIMITS,
        now,
      );
      if (result.rejected.length > 0) throw new Error(`seeding ${label} rejected ${JSON.stringify(result.rejected)}`);
      return id;
    },
    async close() {
      await rows.close();
      await backend.close();
      await cleanup();
    },
  };
}

/** The SQLite server store (what `lablog server` and `lablog ui` use by default). */
export async function openSqliteServer(): Promise<ContractBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-contract-server-'));
  const file = join(dir, 'server.db');
  const backend = await openServerBackend(file);
  return serverBackend(
    'SQLite server store',
    'sqlite',
    backend,
    () => openServerBackend(file),
    sqliteRows(file),
    async () => rmSync(dir, { recursive: true, force: true }),
  );
}

/** The PostgreSQL server store, in a fresh database of the server at `baseUrl`. */
export async function openPostgres(baseUrl: string): Promise<ContractBackend> {
  const database = await freshDatabase(baseUrl);
  const backend = await openServerBackend(database.url);
  return serverBackend(
    'PostgreSQL server store',
    'postgres',
    backend,
    () => openServerBackend(database.url),
    postgresRows(database.url),
    () => database.drop(),
  );
}

/** The fields every store's experiment record has, whatever else a server's adds. */
export function common(record: ExperimentRecord | undefined): Partial<ExperimentRecord> | undefined {
  if (record === undefined) return undefined;
  const { id, project, name, description, tags, status, createdAt, endedAt, heartbeatAt, hostname } = record;
  return { id, project, name, description, tags, status, createdAt, endedAt, heartbeatAt, hostname };
}
