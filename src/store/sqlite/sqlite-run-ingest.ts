// SQLite run ingest: published run snapshots and log lines written into a store's runs tables (the SQLite server's).

import { LablogError } from '../../model/errors.js';
import {
  isStaleSnapshot,
  MAX_PUBLISHED_LOG_CAP_BYTES,
  type LogIngestResult,
  type PublishedLogs,
  type RunIngestResult,
  type RunSnapshot,
} from '../../model/run-publication.js';
import type { RunStatus } from '../../model/run.js';
import type { RunIngest } from '../run-ingest.js';
import type { SqliteBackend } from './sqlite-backend.js';
import { dropOldestLogs, SELECT_RUN, toRun, type PackedLine, type RunRow } from './sqlite-run-backend.js';

export class SqliteRunIngest implements RunIngest {
  readonly #store: SqliteBackend;

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  get #db() {
    return this.#store.database;
  }

  #record(id: string) {
    return toRun(this.#db.prepare(`${SELECT_RUN} WHERE r.experiment_id = ?`).get(id) as RunRow);
  }

  putRun(id: string, snapshot: RunSnapshot, _now: number): RunIngestResult {
    return this.#store.transaction('publishing a run', () => {
      const db = this.#db;
      if (db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(id) === undefined) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${id}; publish the experiment first`, { id });
      }
      const stored = db.prepare('SELECT status FROM runs WHERE experiment_id = ?').pluck().get(id) as RunStatus | undefined;
      if (stored !== undefined) {
        const transitions = db.prepare('SELECT count(*) FROM run_transitions WHERE experiment_id = ?').pluck().get(id) as number;
        if (isStaleSnapshot({ status: stored, transitions }, snapshot)) return { record: this.#record(id), applied: false };
      }
      const r = snapshot.run;
      db.prepare(
        `INSERT INTO runs (experiment_id, command, args, cwd, hostname, supervisor_pid, pid, status, attempt, exit_code, signal,
           error_message, timeout_ms, grace_ms, retries, log_cap_bytes, time_created, time_started, time_completed, cancel_requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (experiment_id) DO UPDATE SET command = excluded.command, args = excluded.args, cwd = excluded.cwd,
           hostname = excluded.hostname, supervisor_pid = excluded.supervisor_pid, pid = excluded.pid, status = excluded.status,
           attempt = excluded.attempt, exit_code = excluded.exit_code, signal = excluded.signal, error_message = excluded.error_message,
           timeout_ms = excluded.timeout_ms, grace_ms = excluded.grace_ms, retries = excluded.retries,
           log_cap_bytes = excluded.log_cap_bytes, time_created = excluded.time_created, time_started = excluded.time_started,
           time_completed = excluded.time_completed,
           cancel_requested_at = coalesce(runs.cancel_requested_at, excluded.cancel_requested_at)`,
      ).run(
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
        r.timeCreated,
        r.timeStarted,
        r.timeCompleted,
        r.cancelRequestedAt,
      );
      db.prepare('DELETE FROM run_attempts WHERE experiment_id = ?').run(id);
      const insertAttempt = db.prepare(
        `INSERT INTO run_attempts (experiment_id, attempt, pid, status, exit_code, signal, error_message, time_started, time_completed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const a of snapshot.attempts) {
        insertAttempt.run(id, a.attempt, a.pid, a.status, a.exitCode, a.signal, a.errorMessage, a.timeStarted, a.timeCompleted);
      }
      db.prepare('DELETE FROM run_transitions WHERE experiment_id = ?').run(id);
      const insertTransition = db.prepare('INSERT INTO run_transitions (experiment_id, status, attempt, at) VALUES (?, ?, ?, ?)');
      for (const t of snapshot.transitions) insertTransition.run(id, t.status, t.attempt, t.at);
      return { record: this.#record(id), applied: true };
    });
  }

  ingestLogs(id: string, logs: PublishedLogs, _now: number): LogIngestResult {
    return this.#store.transaction('publishing run logs', () => {
      const db = this.#db;
      const row = db.prepare('SELECT log_next_seq, log_cap_bytes FROM runs WHERE experiment_id = ?').get(id) as
        { log_next_seq: number; log_cap_bytes: number } | undefined;
      if (row === undefined) throw new LablogError('RUN_NOT_FOUND', `no run with id ${id}; publish the run first`, { id });
      const last = row.log_next_seq - 1;
      const fresh = logs.lines.filter((line) => line.position > last);
      if (fresh.length > 0) {
        let bytes = 0;
        const packed: PackedLine[] = fresh.map((line) => {
          bytes += Buffer.byteLength(line.text);
          return [line.attempt, line.stream === 'stdout' ? 0 : 1, line.timestamp, line.text, line.cutBytes];
        });
        const first = fresh[0]!.position;
        const end = fresh[fresh.length - 1]!.position;
        db.prepare('INSERT INTO run_log_chunks (experiment_id, first_seq, count, bytes, lines) VALUES (?, ?, ?, ?, ?)').run(
          id,
          first,
          fresh.length,
          bytes,
          JSON.stringify(packed),
        );
        db.prepare('UPDATE runs SET log_bytes = log_bytes + ?, log_next_seq = ? WHERE experiment_id = ?').run(bytes, end + 1, id);
        const kept = db.prepare('SELECT log_bytes FROM runs WHERE experiment_id = ?').pluck().get(id) as number;
        const cap = Math.min(row.log_cap_bytes, MAX_PUBLISHED_LOG_CAP_BYTES);
        if (kept > cap) dropOldestLogs(db, id, kept - cap);
      }
      db.prepare(
        'UPDATE runs SET log_lines_dropped = max(log_lines_dropped, ?), log_bytes_dropped = max(log_bytes_dropped, ?) WHERE experiment_id = ?',
      ).run(logs.linesDropped, logs.bytesDropped, id);
      const position = (db.prepare('SELECT log_next_seq FROM runs WHERE experiment_id = ?').pluck().get(id) as number) - 1;
      return { position, accepted: fresh.length, skipped: logs.lines.length - fresh.length };
    });
  }
}
