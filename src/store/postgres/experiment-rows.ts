// Rows of the PostgreSQL store's experiments, series and metric chunks, and the records they map to.

import type { ExperimentStatus } from '../../model/experiment.js';
import type { SeriesKind, SeriesRecord } from '../../model/series.js';
import type { RemoteExperimentRecord } from '../experiment-ingest.js';

export const EXPERIMENT_COLUMNS =
  'id, project, name, description, tags, status, created_at, updated_at, ended_at, heartbeat_at, hostname, version, published_at, progress, phase, progress_at';

export interface ExperimentRow {
  id: string;
  project: string;
  name: string;
  description: string | null;
  tags: string[];
  status: ExperimentStatus;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
  heartbeat_at: number | null;
  hostname: string | null;
  version: string | null;
  published_at: number;
  progress: number | null;
  phase: string | null;
  progress_at: number | null;
}

export interface ChunkRow {
  count: number;
  encoding: number;
  steps: Buffer;
  vals: Buffer;
  timestamps: Buffer;
}

export function experimentRecord(row: ExperimentRow): RemoteExperimentRecord {
  return {
    id: row.id,
    project: row.project,
    name: row.name,
    description: row.description,
    tags: row.tags,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
    heartbeatAt: row.heartbeat_at,
    // The client's process id means nothing on the server.
    pid: null,
    hostname: row.hostname,
    version: row.version,
    publishedAt: row.published_at,
    progress: row.progress === null ? null : { pct: row.progress, phase: row.phase, at: row.progress_at ?? row.updated_at },
  };
}

export interface SeriesRow {
  name: string;
  kind: SeriesKind;
  count: number;
  first_step: number | null;
  last_step: number | null;
  last_timestamp: number | null;
  last_value: number | null;
  min_value: number | null;
  max_value: number | null;
}

export function seriesRecord(row: SeriesRow): SeriesRecord {
  return {
    name: row.name,
    kind: row.kind,
    count: row.count,
    firstStep: row.first_step,
    lastStep: row.last_step,
    lastTimestamp: row.last_timestamp,
    lastValue: row.last_value,
    minValue: row.min_value,
    maxValue: row.max_value,
  };
}
