// PostgreSQL run ingest: published run snapshots and log lines, with the SQLite store's rules (sqlite-run-ingest.ts).

import { LablogError } from '../../model/errors.js';
import {
  isStaleSnapshot,
  MAX_PUBLISHED_LOG_CAP_BYTES,
  type LogIngestResult,
  type PublishedLogs,
  type RunIngestResult,
  type RunSnapshot,
} from '../../model/run-publication.js';
import type { ServerRunIngest } from '../run-ingest.js';
import { toRun } from '../run-rows.js';
import type { PgStore } from './pg-pool.js';
import { dropOldestLogs, lockedRun, packLines } from './postgres-run-store.js';
import { f8, insertRows } from './sql-values.js';

export class PostgresRunIngest implements ServerRunIngest {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async putRun(id: string, snapshot: RunSnapshot, _now: number): Promise<RunIngestResult> {
    return this.#store.transaction('publishing a run', async (db) => {
      // The experiment's row first (then the run's): the order every writer of a run takes its locks in.
      const { rows } = await db.query('SELECT 1 FROM experiments WHERE id = $1 FOR UPDATE', [id]);
      if (rows.length === 0) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${id}; publish the experiment first`, { id });
      }
      const stored = await lockedRun(db, id);
      if (stored !== undefined) {
        const count = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM run_transitions WHERE experiment_id = $1', [id]))
          .rows[0]!.n;
        if (isStaleSnapshot({ status: stored.status, transitions: count }, snapshot)) return { record: toRun(stored), applied: false };
      }
      const r = snapshot.run;
      await db.query(
        `INSERT INTO runs (experiment_id, command, args, cwd, hostname, supervisor_pid, pid, status, attempt, exit_code, signal,
           error_message, timeout_ms, grace_ms, retries, log_cap_bytes, time_created, time_started, time_completed, cancel_requested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT (experiment_id) DO UPDATE SET command = excluded.command, args = excluded.args, cwd = excluded.cwd,
           hostname = excluded.hostname, supervisor_pid = excluded.supervisor_pid, pid = excluded.pid, status = excluded.status,
           attempt = excluded.attempt, exit_code = excluded.exit_code, signal = excluded.signal, error_message = excluded.error_message,
           timeout_ms = excluded.timeout_ms, grace_ms = excluded.grace_ms, retries = excluded.retries,
           log_cap_bytes = excluded.log_cap_bytes, time_created = excluded.time_created, time_started = excluded.time_started,
           time_completed = excluded.time_completed,
           cancel_requested_at = coalesce(runs.cancel_requested_at, excluded.cancel_requested_at)`,
        [
          id,
          r.command,
          JSON.stringify(r.args),
          r.cwd,
          r.hostname,
          r.supervisorPid,
          r.pid,
          r.status,
          r.attempt,
          r.exitCode,
          r.signal,
          r.errorMessage,
          r.timeoutMs,
          r.graceMs,
          r.retries,
          r.logCapBytes,
          f8(r.timeCreated),
          f8(r.timeStarted),
          f8(r.timeCompleted),
          f8(r.cancelRequestedAt),
        ],
      );
      await db.query('DELETE FROM run_attempts WHERE experiment_id = $1', [id]);
      if (snapshot.attempts.length > 0) {
        await insertRows(
          db,
          'INSERT INTO run_attempts (experiment_id, attempt, pid, status, exit_code, signal, error_message, time_started, time_completed)',
          snapshot.attempts.map((a) => [
            id,
            a.attempt,
            a.pid,
            a.status,
            a.exitCode,
            a.signal,
            a.errorMessage,
            f8(a.timeStarted),
            f8(a.timeCompleted),
          ]),
        );
      }
      await db.query('DELETE FROM run_transitions WHERE experiment_id = $1', [id]);
      if (snapshot.transitions.length > 0) {
        await insertRows(
          db,
          'INSERT INTO run_transitions (experiment_id, status, attempt, at)',
          snapshot.transitions.map((t) => [id, t.status, t.attempt, f8(t.at)]),
        );
      }
      return { record: toRun((await lockedRun(db, id))!), applied: true };
    });
  }

  async ingestLogs(id: string, logs: PublishedLogs, _now: number): Promise<LogIngestResult> {
    return this.#store.transaction('publishing run logs', async (db) => {
      const row = await lockedRun(db, id);
      if (row === undefined) throw new LablogError('RUN_NOT_FOUND', `no run with id ${id}; publish the run first`, { id });
      const next = (await db.query<{ log_next_seq: number }>('SELECT log_next_seq FROM runs WHERE experiment_id = $1', [id])).rows[0]!
        .log_next_seq;
      const fresh = logs.lines.filter((line) => line.position > next - 1);
      if (fresh.length > 0) {
        const { packed, bytes } = packLines(fresh);
        await db.query('INSERT INTO run_log_chunks (experiment_id, first_seq, count, bytes, lines) VALUES ($1, $2, $3, $4, $5)', [
          id,
          fresh[0]!.position,
          fresh.length,
          bytes,
          packed,
        ]);
        const { rows } = await db.query<{ log_bytes: number }>(
          'UPDATE runs SET log_bytes = log_bytes + $1, log_next_seq = $2 WHERE experiment_id = $3 RETURNING log_bytes',
          [bytes, fresh[fresh.length - 1]!.position + 1, id],
        );
        const cap = Math.min(row.log_cap_bytes, MAX_PUBLISHED_LOG_CAP_BYTES);
        if (rows[0]!.log_bytes > cap) await dropOldestLogs(db, id, rows[0]!.log_bytes - cap);
      }
      const { rows } = await db.query<{ log_next_seq: number }>(
        `UPDATE runs SET log_lines_dropped = greatest(log_lines_dropped, $1), log_bytes_dropped = greatest(log_bytes_dropped, $2)
         WHERE experiment_id = $3 RETURNING log_next_seq`,
        [logs.linesDropped, logs.bytesDropped, id],
      );
      return { position: rows[0]!.log_next_seq - 1, accepted: fresh.length, skipped: logs.lines.length - fresh.length };
    });
  }
}
