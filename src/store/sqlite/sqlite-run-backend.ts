// SQLite runs: the RunStore over the store's own connection (launch records, attempts, transitions, logs with their cap).

import { LablogError } from '../../model/errors.js';
import type { ExperimentRecord } from '../../model/experiment.js';
import {
  canTransition,
  EXPERIMENT_STATUS_OF_RUN,
  LIVE_RUN_STATUSES,
  type AttemptOutcome,
  type CancelOutcome,
  type LogLine,
  type LogPage,
  type LogQuery,
  type LogStream,
  type NewRun,
  type RunAttempt,
  type RunQuery,
  type RunRecord,
  type RunStatus,
  type RunTransition,
  type StoredLogLine,
} from '../../model/run.js';
import type { RunStore } from '../run-store.js';
import { toRecord, type ExperimentRow, type SqliteBackend } from './sqlite-backend.js';

interface Row {
  experiment_id: string;
  project: string;
  name: string;
  command: string;
  args: string;
  cwd: string;
  hostname: string;
  supervisor_pid: number;
  pid: number | null;
  status: RunStatus;
  attempt: number;
  exit_code: number | null;
  signal: string | null;
  error_message: string | null;
  timeout_ms: number;
  grace_ms: number;
  retries: number;
  log_cap_bytes: number;
  time_created: number;
  time_started: number | null;
  time_completed: number | null;
  cancel_requested_at: number | null;
  log_bytes: number;
  log_lines_dropped: number;
  log_bytes_dropped: number;
}

/** A stored line: attempt, stream (0 stdout, 1 stderr), timestamp, text, bytes cut off. */
type PackedLine = [number, 0 | 1, number, string, number];

interface ChunkRow {
  id: number;
  first_seq: number;
  count: number;
  bytes: number;
  lines: string;
}

const SELECT_RUN = 'SELECT r.*, e.project, e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id';
const LIVE = `(${LIVE_RUN_STATUSES.map((s) => `'${s}'`).join(', ')})`;

function toRun(row: Row): RunRecord {
  const ended = !(LIVE_RUN_STATUSES as readonly string[]).includes(row.status);
  return {
    id: row.experiment_id,
    project: row.project,
    name: row.name,
    command: row.command,
    args: JSON.parse(row.args) as string[],
    cwd: row.cwd,
    hostname: row.hostname,
    supervisorPid: row.supervisor_pid,
    pid: row.pid,
    status: row.status,
    attempt: row.attempt,
    exitCode: row.exit_code,
    signal: row.signal,
    errorMessage: row.error_message,
    timeoutMs: row.timeout_ms,
    graceMs: row.grace_ms,
    retries: row.retries,
    logCapBytes: row.log_cap_bytes,
    timeCreated: row.time_created,
    timeStarted: row.time_started,
    timeCompleted: row.time_completed,
    cancelRequestedAt: row.cancel_requested_at,
    success: ended ? row.status === 'completed' : null,
    logBytes: row.log_bytes,
    logLinesDropped: row.log_lines_dropped,
    logBytesDropped: row.log_bytes_dropped,
  };
}

function unpack(chunk: ChunkRow): StoredLogLine[] {
  return (JSON.parse(chunk.lines) as PackedLine[]).map(([attempt, stream, timestamp, text, cutBytes], i) => ({
    position: chunk.first_seq + i,
    attempt,
    stream: (stream === 0 ? 'stdout' : 'stderr') satisfies LogStream,
    timestamp,
    text,
    cutBytes,
  }));
}

export class SqliteRunBackend implements RunStore {
  readonly #store: SqliteBackend;
  #checkpointsArranged = false;

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  get #db() {
    return this.#store.database;
  }

  #row(id: string): Row | undefined {
    return this.#db.prepare(`${SELECT_RUN} WHERE r.experiment_id = ?`).get(id) as Row | undefined;
  }

  #recordTransition(id: string, status: RunStatus, attempt: number, now: number): void {
    this.#db.prepare('INSERT INTO run_transitions (experiment_id, status, attempt, at) VALUES (?, ?, ?, ?)').run(id, status, attempt, now);
    this.#db
      .prepare('UPDATE experiments SET status = ?, ended_at = ?, updated_at = ? WHERE id = ?')
      .run(EXPERIMENT_STATUS_OF_RUN[status], EXPERIMENT_STATUS_OF_RUN[status] === 'running' ? null : now, now, id);
  }

  createRun(run: NewRun): RunRecord {
    return this.#store.transaction('creating a run', () => {
      if (this.#db.prepare('SELECT 1 FROM experiments WHERE id = ?').get(run.id) === undefined) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${run.id} to launch a run for`, { id: run.id });
      }
      this.#db
        .prepare(
          `INSERT INTO runs (experiment_id, command, args, cwd, hostname, supervisor_pid, status, timeout_ms, grace_ms, retries, log_cap_bytes, time_created)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
        )
        .run(
          run.id,
          run.command,
          JSON.stringify(run.args),
          run.cwd,
          run.hostname,
          run.supervisorPid,
          run.timeoutMs,
          run.graceMs,
          run.retries,
          run.logCapBytes,
          run.timeCreated,
        );
      this.#recordTransition(run.id, 'pending', 0, run.timeCreated);
      return toRun(this.#row(run.id)!);
    });
  }

  getRun(id: string): RunRecord | undefined {
    return this.#store.read('reading a run', () => {
      const row = this.#row(id);
      return row && toRun(row);
    });
  }

  listRuns(query: RunQuery): RunRecord[] {
    return this.#store.read('listing runs', () => {
      const clauses: string[] = [];
      const args: unknown[] = [];
      if (query.project !== undefined) {
        clauses.push('e.project = ?');
        args.push(query.project);
      }
      if (query.status !== undefined && query.status.length > 0) {
        clauses.push(`r.status IN (${query.status.map(() => '?').join(', ')})`);
        args.push(...query.status);
      }
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      args.push(query.limit ?? -1);
      const rows = this.#db
        .prepare(`${SELECT_RUN} ${where} ORDER BY r.time_created DESC, r.experiment_id DESC LIMIT ?`)
        .all(...args) as Row[];
      return rows.map(toRun);
    });
  }

  startAttempt(id: string, attempt: number, pid: number | null, now: number): void {
    this.#store.transaction('starting a run attempt', () => {
      const row = this.#row(id);
      if (row === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `no run with id ${id}`, { id });
      this.#db
        .prepare(
          `INSERT INTO run_attempts (experiment_id, attempt, pid, status, time_started) VALUES (?, ?, ?, 'running', ?)
           ON CONFLICT (experiment_id, attempt) DO UPDATE SET pid = excluded.pid, time_started = excluded.time_started`,
        )
        .run(id, attempt, pid, now);
      this.#db
        .prepare(
          `UPDATE runs SET status = 'running', attempt = ?, pid = ?, exit_code = NULL, signal = NULL, error_message = NULL,
           time_started = coalesce(time_started, ?) WHERE experiment_id = ?`,
        )
        .run(attempt, pid, now, id);
      this.#recordTransition(id, 'running', attempt, now);
    });
  }

  endAttempt(id: string, outcome: AttemptOutcome, final: boolean): void {
    this.#store.transaction('ending a run attempt', () => {
      const row = this.#row(id);
      if (row === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `no run with id ${id}`, { id });
      this.#db
        .prepare(
          `UPDATE run_attempts SET status = ?, exit_code = ?, signal = ?, error_message = ?, time_completed = ?
           WHERE experiment_id = ? AND attempt = ?`,
        )
        .run(outcome.status, outcome.exitCode, outcome.signal, outcome.errorMessage, outcome.timeCompleted, id, row.attempt);
      this.#db
        .prepare('UPDATE runs SET exit_code = ?, signal = ?, error_message = ? WHERE experiment_id = ?')
        .run(outcome.exitCode, outcome.signal, outcome.errorMessage, id);
      if (final) {
        this.#db
          .prepare('UPDATE runs SET status = ?, time_completed = ? WHERE experiment_id = ?')
          .run(outcome.status, outcome.timeCompleted, id);
        this.#recordTransition(id, outcome.status, row.attempt, outcome.timeCompleted);
      }
    });
  }

  transition(id: string, status: RunStatus, now: number): boolean {
    return this.#store.transaction(`recording run status '${status}'`, () => {
      const row = this.#row(id);
      if (row === undefined || !canTransition(row.status, status)) return false;
      this.#db
        .prepare('UPDATE runs SET status = ?, time_completed = ? WHERE experiment_id = ?')
        .run(status, (LIVE_RUN_STATUSES as readonly string[]).includes(status) ? null : now, id);
      if (status === 'crashed') {
        this.#db
          .prepare(`UPDATE run_attempts SET status = 'crashed', time_completed = ? WHERE experiment_id = ? AND time_completed IS NULL`)
          .run(now, id);
      }
      this.#recordTransition(id, status, row.attempt, now);
      return true;
    });
  }

  attempts(id: string): RunAttempt[] {
    return this.#store.read('reading run attempts', () =>
      (
        this.#db.prepare('SELECT * FROM run_attempts WHERE experiment_id = ? ORDER BY attempt').all(id) as {
          attempt: number;
          pid: number | null;
          status: RunStatus;
          exit_code: number | null;
          signal: string | null;
          error_message: string | null;
          time_started: number;
          time_completed: number | null;
        }[]
      ).map((r) => ({
        attempt: r.attempt,
        pid: r.pid,
        status: r.status,
        exitCode: r.exit_code,
        signal: r.signal,
        errorMessage: r.error_message,
        timeStarted: r.time_started,
        timeCompleted: r.time_completed,
      })),
    );
  }

  transitions(id: string): RunTransition[] {
    return this.#store.read(
      'reading run transitions',
      () =>
        this.#db.prepare('SELECT status, at, attempt FROM run_transitions WHERE experiment_id = ? ORDER BY seq').all(id) as RunTransition[],
    );
  }

  requestCancel(id: string, now: number): CancelOutcome {
    return this.#store.transaction('requesting a cancel', () => {
      this.#db
        .prepare(`UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE experiment_id = ? AND status IN ${LIVE}`)
        .run(now, id);
      const row = this.#row(id);
      if (row === undefined) return { kind: 'missing' };
      const record = toRun(row);
      return record.cancelRequestedAt !== null && record.success === null ? { kind: 'requested', record } : { kind: 'ended', record };
    });
  }

  appendLogs(id: string, lines: readonly LogLine[], capBytes: number): void {
    if (lines.length === 0) return;
    this.#store.transaction('writing run logs', () => {
      const next = this.#db.prepare('SELECT log_next_seq FROM runs WHERE experiment_id = ?').pluck().get(id) as number | undefined;
      if (next === undefined) throw new LablogError('RUN_NOT_FOUND', `no run with id ${id}`, { id });
      let bytes = 0;
      const packed: PackedLine[] = lines.map((line) => {
        bytes += Buffer.byteLength(line.text);
        return [line.attempt, line.stream === 'stdout' ? 0 : 1, line.timestamp, line.text, line.cutBytes];
      });
      this.#db
        .prepare('INSERT INTO run_log_chunks (experiment_id, first_seq, count, bytes, lines) VALUES (?, ?, ?, ?, ?)')
        .run(id, next, lines.length, bytes, JSON.stringify(packed));
      this.#db
        .prepare('UPDATE runs SET log_bytes = log_bytes + ?, log_next_seq = log_next_seq + ? WHERE experiment_id = ?')
        .run(bytes, lines.length, id);
      const kept = this.#db.prepare('SELECT log_bytes FROM runs WHERE experiment_id = ?').pluck().get(id) as number;
      if (kept > capBytes) this.#dropOldest(id, kept - capBytes);
    });
    if (!this.#checkpointsArranged) this.#arrangeCheckpoints();
  }

  /**
   * Log writes may come from a process that writes no experiment batches (a supervisor): its WAL is then
   * checkpointed by the store's writer thread (every CHECKPOINT_INTERVAL_MS, off this thread), unless
   * SQLite's automatic checkpoints are on for this connection (a server's).
   */
  #arrangeCheckpoints(): void {
    const automatic = this.#db.pragma('wal_autocheckpoint', { simple: true }) as number;
    if (automatic === 0) this.#store.writer().start();
    this.#checkpointsArranged = true;
  }

  /** Drops the oldest lines of a run until at least `excess` bytes are gone (whole chunks, then the start of one), and counts them. */
  #dropOldest(id: string, excess: number): void {
    const oldest = this.#db.prepare(
      'SELECT id, first_seq, count, bytes, lines FROM run_log_chunks WHERE experiment_id = ? ORDER BY first_seq LIMIT 1',
    );
    let freed = 0;
    let dropped = 0;
    while (freed < excess) {
      const chunk = oldest.get(id) as ChunkRow | undefined;
      if (chunk === undefined) break;
      if (freed + chunk.bytes <= excess) {
        this.#db.prepare('DELETE FROM run_log_chunks WHERE id = ?').run(chunk.id);
        freed += chunk.bytes;
        dropped += chunk.count;
        continue;
      }
      const lines = JSON.parse(chunk.lines) as PackedLine[];
      let cut = 0;
      let cutBytes = 0;
      while (cut < lines.length && freed + cutBytes < excess) cutBytes += Buffer.byteLength(lines[cut++]![3]);
      if (cut === lines.length) {
        this.#db.prepare('DELETE FROM run_log_chunks WHERE id = ?').run(chunk.id);
      } else {
        this.#db
          .prepare('UPDATE run_log_chunks SET first_seq = ?, count = ?, bytes = ?, lines = ? WHERE id = ?')
          .run(chunk.first_seq + cut, chunk.count - cut, chunk.bytes - cutBytes, JSON.stringify(lines.slice(cut)), chunk.id);
      }
      freed += cutBytes;
      dropped += cut;
    }
    this.#db
      .prepare(
        `UPDATE runs SET log_bytes = log_bytes - ?, log_lines_dropped = log_lines_dropped + ?, log_bytes_dropped = log_bytes_dropped + ?
         WHERE experiment_id = ?`,
      )
      .run(freed, dropped, freed, id);
  }

  readLogs(id: string, query: LogQuery): LogPage {
    return this.#store.read('reading run logs', () => {
      const after = query.after ?? 0;
      const stream = query.stream;
      const matches = (line: StoredLogLine) => line.position > after && (stream === undefined || line.stream === stream);
      let lines: StoredLogLine[] = [];
      if (query.tail !== undefined) {
        // Newest chunks first, until the tail is full.
        const chunks = this.#db
          .prepare(
            'SELECT id, first_seq, count, bytes, lines FROM run_log_chunks WHERE experiment_id = ? AND first_seq + count > ? ORDER BY first_seq DESC',
          )
          .iterate(id, after) as IterableIterator<ChunkRow>;
        for (const chunk of chunks) {
          if (lines.length >= query.tail) break;
          const found = unpack(chunk).filter(matches);
          lines = [...found.slice(Math.max(0, found.length - (query.tail - lines.length))), ...lines];
        }
      } else {
        const limit = query.limit ?? Infinity;
        const chunks = this.#db
          .prepare(
            'SELECT id, first_seq, count, bytes, lines FROM run_log_chunks WHERE experiment_id = ? AND first_seq + count > ? ORDER BY first_seq',
          )
          .iterate(id, after) as IterableIterator<ChunkRow>;
        for (const chunk of chunks) {
          for (const line of unpack(chunk)) {
            if (lines.length >= limit) break;
            if (matches(line)) lines.push(line);
          }
          if (lines.length >= limit) break;
        }
      }
      const counts = this.#db.prepare('SELECT log_lines_dropped, log_bytes_dropped FROM runs WHERE experiment_id = ?').get(id) as
        { log_lines_dropped: number; log_bytes_dropped: number } | undefined;
      return {
        lines,
        position: lines.length > 0 ? lines[lines.length - 1]!.position : after,
        linesDropped: counts?.log_lines_dropped ?? 0,
        bytesDropped: counts?.log_bytes_dropped ?? 0,
      };
    });
  }

  attachExperiment(id: string, tags: readonly string[], now: number): ExperimentRecord | undefined {
    return this.#store.transaction('attaching to a launched experiment', () => {
      const row = this.#db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow | undefined;
      if (row === undefined) return undefined;
      const merged = [...new Set([...(JSON.parse(row.tags) as string[]), ...tags])];
      const insertTag = this.#db.prepare('INSERT OR IGNORE INTO experiment_tags (experiment_id, tag) VALUES (?, ?)');
      for (const tag of tags) insertTag.run(id, tag);
      this.#db
        .prepare('UPDATE experiments SET tags = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?')
        .run(JSON.stringify(merged), now, now, id);
      return toRecord(this.#db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow);
    });
  }
}
