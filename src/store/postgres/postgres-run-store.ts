// The runs of a PostgreSQL store: launch records, attempts, transitions, cancel requests and capped logs, with the SQLite store's rules.

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
  type NewRun,
  type RunAttempt,
  type RunQuery,
  type RunRecord,
  type RunStatus,
  type RunTransition,
  type StoredLogLine,
} from '../../model/run.js';
import type { ServerRunStore } from '../run-store.js';
import { toRun, unpackLogChunk, type LogChunkRow, type PackedLine, type RunRow } from '../run-rows.js';
import { EXPERIMENT_COLUMNS, experimentRecord, type ExperimentRow } from './experiment-rows.js';
import type { PgQuery, PgStore } from './pg-pool.js';
import { f8 } from './sql-values.js';

/** Log chunks read per query while paging through a run's log. */
const LOG_CHUNKS_PER_QUERY = 64;

export const SELECT_RUN = 'SELECT r.*, e.project, e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id';
const LIVE = `(${LIVE_RUN_STATUSES.map((s) => `'${s}'`).join(', ')})`;
const CHUNK_COLUMNS = 'id, first_seq, count, bytes, lines';

const isLive = (status: RunStatus) => (LIVE_RUN_STATUSES as readonly string[]).includes(status);

/**
 * The run `id` inside a transaction, locked so writers of one run take turns: its experiment's row first,
 * then its own (every writer takes them in that order, and a transition updates the experiment too).
 */
export async function lockedRun(db: PgQuery, id: string): Promise<RunRow | undefined> {
  await db.query('SELECT 1 FROM experiments WHERE id = $1 FOR UPDATE', [id]);
  await db.query('SELECT 1 FROM runs WHERE experiment_id = $1 FOR UPDATE', [id]);
  return (await db.query<RunRow>(`${SELECT_RUN} WHERE r.experiment_id = $1`, [id])).rows[0];
}

/** Inside the caller's transaction: drops the oldest lines of a run until at least `excess` bytes are gone, and counts them (as SQLite's). */
export async function dropOldestLogs(db: PgQuery, id: string, excess: number): Promise<void> {
  let freed = 0;
  let dropped = 0;
  while (freed < excess) {
    const { rows } = await db.query<LogChunkRow>(
      `SELECT ${CHUNK_COLUMNS} FROM run_log_chunks WHERE experiment_id = $1 ORDER BY first_seq LIMIT 1`,
      [id],
    );
    const chunk = rows[0];
    if (chunk === undefined) break;
    if (freed + chunk.bytes <= excess) {
      await db.query('DELETE FROM run_log_chunks WHERE id = $1', [chunk.id]);
      freed += chunk.bytes;
      dropped += chunk.count;
      continue;
    }
    const lines = JSON.parse(chunk.lines) as PackedLine[];
    let cut = 0;
    let cutBytes = 0;
    while (cut < lines.length && freed + cutBytes < excess) cutBytes += Buffer.byteLength(lines[cut++]![3]);
    if (cut === lines.length) {
      await db.query('DELETE FROM run_log_chunks WHERE id = $1', [chunk.id]);
    } else {
      await db.query('UPDATE run_log_chunks SET first_seq = $1, count = $2, bytes = $3, lines = $4 WHERE id = $5', [
        chunk.first_seq + cut,
        chunk.count - cut,
        chunk.bytes - cutBytes,
        JSON.stringify(lines.slice(cut)),
        chunk.id,
      ]);
    }
    freed += cutBytes;
    dropped += cut;
  }
  await db.query(
    `UPDATE runs SET log_bytes = log_bytes - $1, log_lines_dropped = log_lines_dropped + $2, log_bytes_dropped = log_bytes_dropped + $1
     WHERE experiment_id = $3`,
    [freed, dropped, id],
  );
}

/** Packs lines as a chunk row's JSON, with their UTF-8 bytes. */
export function packLines(lines: readonly LogLine[]): { packed: string; bytes: number } {
  let bytes = 0;
  const packed: PackedLine[] = lines.map((line) => {
    bytes += Buffer.byteLength(line.text);
    return [line.attempt, line.stream === 'stdout' ? 0 : 1, line.timestamp, line.text, line.cutBytes];
  });
  return { packed: JSON.stringify(packed), bytes };
}

export class PostgresRunStore implements ServerRunStore {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async #recordTransition(db: PgQuery, id: string, status: RunStatus, attempt: number, now: number): Promise<void> {
    await db.query('INSERT INTO run_transitions (experiment_id, status, attempt, at) VALUES ($1, $2, $3, $4)', [
      id,
      status,
      attempt,
      f8(now),
    ]);
    const experimentStatus = EXPERIMENT_STATUS_OF_RUN[status];
    await db.query('UPDATE experiments SET status = $1, ended_at = $2, updated_at = $3 WHERE id = $4', [
      experimentStatus,
      experimentStatus === 'running' ? null : f8(now),
      f8(now),
      id,
    ]);
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    return this.#store.transaction('creating a run', async (db) => {
      const { rows } = await db.query('SELECT 1 FROM experiments WHERE id = $1 FOR UPDATE', [run.id]);
      if (rows.length === 0) {
        throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment with id ${run.id} to launch a run for`, { id: run.id });
      }
      await db.query(
        `INSERT INTO runs (experiment_id, command, args, cwd, hostname, supervisor_pid, status, timeout_ms, grace_ms, retries, log_cap_bytes, time_created)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11)`,
        [
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
          f8(run.timeCreated),
        ],
      );
      await this.#recordTransition(db, run.id, 'pending', 0, run.timeCreated);
      return toRun((await lockedRun(db, run.id))!);
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const rows = await this.#store.query<RunRow>('reading a run', `${SELECT_RUN} WHERE r.experiment_id = $1`, [id]);
    return rows[0] && toRun(rows[0]);
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    const clauses: string[] = [];
    const args: unknown[] = [];
    if (query.project !== undefined) {
      args.push(query.project);
      clauses.push(`e.project = $${args.length}`);
    }
    if (query.status !== undefined && query.status.length > 0) {
      args.push([...query.status]);
      clauses.push(`r.status = ANY ($${args.length}::text[])`);
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    args.push(query.limit ?? null);
    const rows = await this.#store.query<RunRow>(
      'listing runs',
      `${SELECT_RUN} ${where} ORDER BY r.time_created DESC, r.experiment_id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(toRun);
  }

  async startAttempt(id: string, attempt: number, pid: number | null, now: number): Promise<void> {
    await this.#store.transaction('starting a run attempt', async (db) => {
      if ((await lockedRun(db, id)) === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `no run with id ${id}`, { id });
      await db.query(
        `INSERT INTO run_attempts (experiment_id, attempt, pid, status, time_started) VALUES ($1, $2, $3, 'running', $4)
         ON CONFLICT (experiment_id, attempt) DO UPDATE SET pid = excluded.pid, time_started = excluded.time_started`,
        [id, attempt, pid, f8(now)],
      );
      await db.query(
        `UPDATE runs SET status = 'running', attempt = $1, pid = $2, exit_code = NULL, signal = NULL, error_message = NULL,
         time_started = coalesce(time_started, $3) WHERE experiment_id = $4`,
        [attempt, pid, f8(now), id],
      );
      await this.#recordTransition(db, id, 'running', attempt, now);
    });
  }

  async endAttempt(id: string, outcome: AttemptOutcome, final: boolean): Promise<void> {
    await this.#store.transaction('ending a run attempt', async (db) => {
      const row = await lockedRun(db, id);
      if (row === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `no run with id ${id}`, { id });
      await db.query(
        `UPDATE run_attempts SET status = $1, exit_code = $2, signal = $3, error_message = $4, time_completed = $5
         WHERE experiment_id = $6 AND attempt = $7`,
        [outcome.status, outcome.exitCode, outcome.signal, outcome.errorMessage, f8(outcome.timeCompleted), id, row.attempt],
      );
      await db.query('UPDATE runs SET exit_code = $1, signal = $2, error_message = $3 WHERE experiment_id = $4', [
        outcome.exitCode,
        outcome.signal,
        outcome.errorMessage,
        id,
      ]);
      if (final) {
        await db.query('UPDATE runs SET status = $1, time_completed = $2 WHERE experiment_id = $3', [
          outcome.status,
          f8(outcome.timeCompleted),
          id,
        ]);
        await this.#recordTransition(db, id, outcome.status, row.attempt, outcome.timeCompleted);
      }
    });
  }

  async transition(id: string, status: RunStatus, now: number): Promise<boolean> {
    return this.#store.transaction(`recording run status '${status}'`, async (db) => {
      const row = await lockedRun(db, id);
      if (row === undefined || !canTransition(row.status, status)) return false;
      await db.query('UPDATE runs SET status = $1, time_completed = $2 WHERE experiment_id = $3', [
        status,
        isLive(status) ? null : f8(now),
        id,
      ]);
      if (status === 'crashed') {
        await db.query(
          `UPDATE run_attempts SET status = 'crashed', time_completed = $1 WHERE experiment_id = $2 AND time_completed IS NULL`,
          [f8(now), id],
        );
      }
      await this.#recordTransition(db, id, status, row.attempt, now);
      return true;
    });
  }

  async attempts(id: string): Promise<RunAttempt[]> {
    const rows = await this.#store.query<{
      attempt: number;
      pid: number | null;
      status: RunStatus;
      exit_code: number | null;
      signal: string | null;
      error_message: string | null;
      time_started: number;
      time_completed: number | null;
    }>('reading run attempts', 'SELECT * FROM run_attempts WHERE experiment_id = $1 ORDER BY attempt', [id]);
    return rows.map((r) => ({
      attempt: r.attempt,
      pid: r.pid,
      status: r.status,
      exitCode: r.exit_code,
      signal: r.signal,
      errorMessage: r.error_message,
      timeStarted: r.time_started,
      timeCompleted: r.time_completed,
    }));
  }

  async transitions(id: string): Promise<RunTransition[]> {
    return this.#store.query<RunTransition & Record<string, unknown>>(
      'reading run transitions',
      'SELECT status, at, attempt FROM run_transitions WHERE experiment_id = $1 ORDER BY seq',
      [id],
    );
  }

  async requestCancel(id: string, now: number): Promise<CancelOutcome> {
    return this.#store.transaction('requesting a cancel', async (db) => {
      await db.query(
        `UPDATE runs SET cancel_requested_at = coalesce(cancel_requested_at, $1) WHERE experiment_id = $2 AND status IN ${LIVE}`,
        [f8(now), id],
      );
      const row = (await db.query<RunRow>(`${SELECT_RUN} WHERE r.experiment_id = $1`, [id])).rows[0];
      if (row === undefined) return { kind: 'missing' };
      const record = toRun(row);
      return record.cancelRequestedAt !== null && record.success === null ? { kind: 'requested', record } : { kind: 'ended', record };
    });
  }

  async appendLogs(id: string, lines: readonly LogLine[], capBytes: number): Promise<void> {
    if (lines.length === 0) return;
    await this.#store.transaction('writing run logs', async (db) => {
      const row = await lockedRun(db, id);
      if (row === undefined) throw new LablogError('RUN_NOT_FOUND', `no run with id ${id}`, { id });
      const next = (await db.query<{ log_next_seq: number }>('SELECT log_next_seq FROM runs WHERE experiment_id = $1', [id])).rows[0]!
        .log_next_seq;
      const { packed, bytes } = packLines(lines);
      await db.query('INSERT INTO run_log_chunks (experiment_id, first_seq, count, bytes, lines) VALUES ($1, $2, $3, $4, $5)', [
        id,
        next,
        lines.length,
        bytes,
        packed,
      ]);
      const { rows } = await db.query<{ log_bytes: number }>(
        'UPDATE runs SET log_bytes = log_bytes + $1, log_next_seq = log_next_seq + $2 WHERE experiment_id = $3 RETURNING log_bytes',
        [bytes, lines.length, id],
      );
      const kept = rows[0]!.log_bytes;
      if (kept > capBytes) await dropOldestLogs(db, id, kept - capBytes);
    });
  }

  async readLogs(id: string, query: LogQuery): Promise<LogPage> {
    const after = query.after ?? 0;
    const stream = query.stream;
    const matches = (line: StoredLogLine) => line.position > after && (stream === undefined || line.stream === stream);
    let lines: StoredLogLine[] = [];
    const page = (sql: string, bound: number) =>
      this.#store.query<LogChunkRow>('reading run logs', sql, [id, after, bound, LOG_CHUNKS_PER_QUERY]);
    if (query.tail !== undefined) {
      // Newest chunks first, until the tail is full.
      let before = Number.MAX_SAFE_INTEGER;
      while (lines.length < query.tail) {
        const chunks = await page(
          `SELECT ${CHUNK_COLUMNS} FROM run_log_chunks WHERE experiment_id = $1 AND first_seq + count > $2 AND first_seq < $3
           ORDER BY first_seq DESC LIMIT $4`,
          before,
        );
        for (const chunk of chunks) {
          if (lines.length >= query.tail) break;
          const found = unpackLogChunk(chunk).filter(matches);
          lines = [...found.slice(Math.max(0, found.length - (query.tail - lines.length))), ...lines];
        }
        if (chunks.length < LOG_CHUNKS_PER_QUERY) break;
        before = chunks[chunks.length - 1]!.first_seq;
      }
    } else {
      const limit = query.limit ?? Infinity;
      let from = -1;
      while (lines.length < limit) {
        const chunks = await page(
          `SELECT ${CHUNK_COLUMNS} FROM run_log_chunks WHERE experiment_id = $1 AND first_seq + count > $2 AND first_seq > $3
           ORDER BY first_seq LIMIT $4`,
          from,
        );
        for (const chunk of chunks) {
          for (const line of unpackLogChunk(chunk)) {
            if (lines.length >= limit) break;
            if (matches(line)) lines.push(line);
          }
          if (lines.length >= limit) break;
        }
        if (chunks.length < LOG_CHUNKS_PER_QUERY) break;
        from = chunks[chunks.length - 1]!.first_seq;
      }
    }
    const counts = (
      await this.#store.query<{ log_lines_dropped: number; log_bytes_dropped: number }>(
        'reading run logs',
        'SELECT log_lines_dropped, log_bytes_dropped FROM runs WHERE experiment_id = $1',
        [id],
      )
    )[0];
    return {
      lines,
      position: lines.length > 0 ? lines[lines.length - 1]!.position : after,
      linesDropped: counts?.log_lines_dropped ?? 0,
      bytesDropped: counts?.log_bytes_dropped ?? 0,
    };
  }

  async attachExperiment(id: string, tags: readonly string[], now: number): Promise<ExperimentRecord | undefined> {
    return this.#store.transaction('attaching to a launched experiment', async (db) => {
      const { rows } = await db.query<{ tags: string[] }>('SELECT tags FROM experiments WHERE id = $1 FOR UPDATE', [id]);
      if (rows[0] === undefined) return undefined;
      const merged = [...new Set([...rows[0].tags, ...tags])];
      await db.query('UPDATE experiments SET tags = $1, heartbeat_at = $2, updated_at = $2 WHERE id = $3', [merged, f8(now), id]);
      await db.query('INSERT INTO experiment_tags (experiment_id, tag) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
        id,
        [...tags],
      ]);
      const record = (await db.query<ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = $1`, [id])).rows[0]!;
      return experimentRecord(record);
    });
  }
}
