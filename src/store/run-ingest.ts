// The server's run capability for publishing: run snapshots put idempotently, log lines appended exactly once by the client's positions (types only).

import type { LogIngestResult, PublishedLogs, RunIngestResult, RunSnapshot } from '../model/run-publication.js';
import type { Async } from './async.js';

/** Runs as a publisher sends them. Synchronous shape; servers implement Async<RunIngest>. */
export interface RunIngest {
  /**
   * Stores the snapshot of the run of the existing experiment `id` (EXPERIMENT_NOT_FOUND without one): its
   * record, attempts and transitions replace the stored ones, unless the snapshot is stale (isStaleSnapshot),
   * when nothing changes. A cancel request the server recorded is kept whatever the snapshot says.
   */
  putRun(id: string, snapshot: RunSnapshot, now: number): RunIngestResult;
  /**
   * Appends the lines whose position is above the last one stored for the run (the others it has: skipped),
   * RUN_NOT_FOUND without a run; the dropped counters become at least the client's; then the oldest lines
   * are dropped past the run's cap (at most MAX_PUBLISHED_LOG_CAP_BYTES), counted.
   */
  ingestLogs(id: string, logs: PublishedLogs, now: number): LogIngestResult;
}

export type ServerRunIngest = Async<RunIngest>;
