// PostgreSQL sweeps: the SweepStore of a server's database, with the SQLite store's rules; an ask locks its sweep's row, so server processes never share a trial.

import { LablogError } from '../../model/errors.js';
import type { Goal } from '../../model/metric-goal.js';
import type { StudyRecord } from '../../model/study.js';
import {
  MAX_TRIAL_ERROR_CHARS,
  MAX_TRIAL_REPORTS,
  type AskOutcome,
  type NewSweep,
  type SweepRecord,
  type SweepStatus,
  type TrialOutcome,
  type TrialParams,
  type TrialRecord,
  type TrialReport,
  type TrialStatus,
  type TrialView,
  type TrialWorker,
} from '../../model/sweep.js';
import type { ServerSweepStore } from '../sweep-store.js';
import type { PgQuery, PgStore } from './pg-pool.js';
import { f8, jsonParam } from './sql-values.js';
import { studyInsert, studyNameTaken } from './postgres-study-store.js';

/** json columns arrive parsed by the driver (JSON.parse of the text as stored: key order kept). */
interface SweepRow {
  study_id: string;
  project: string;
  name: string;
  metric: string;
  goal: Goal;
  space: SweepRecord['space'];
  sampler: SweepRecord['sampler'];
  pruner: SweepRecord['pruner'];
  seed: number;
  max_trials: number;
  parallel: number;
  status: SweepStatus;
  created_at: number;
  updated_at: number;
}

interface TrialRow {
  sweep_id: string;
  number: number;
  status: TrialStatus;
  params: TrialParams;
  value: number | null;
  experiment_id: string | null;
  retry_of: number | null;
  error: string | null;
  worker_host: string | null;
  worker_pid: number | null;
  heartbeat_at: number | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
}

interface ReportRow {
  number: number;
  step: number;
  value: number | null;
}

const SELECT_SWEEP =
  'SELECT w.study_id, s.project, s.name, w.metric, w.goal, w.space, w.sampler, w.pruner, w.seed, w.max_trials, w.parallel, ' +
  'w.status, w.created_at, w.updated_at FROM sweeps w JOIN studies s ON s.id = w.study_id';
const TRIAL_COLUMNS =
  'sweep_id, number, status, params, value, experiment_id, retry_of, error, worker_host, worker_pid, heartbeat_at, created_at, ' +
  'started_at, completed_at';

function toSweep(row: SweepRow): SweepRecord {
  return {
    id: row.study_id,
    project: row.project,
    name: row.name,
    metric: row.metric,
    goal: row.goal,
    space: row.space,
    sampler: row.sampler,
    pruner: row.pruner,
    seed: row.seed,
    maxTrials: row.max_trials,
    parallel: row.parallel,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toTrial(row: TrialRow, reports: readonly TrialReport[]): TrialRecord {
  return {
    sweepId: row.sweep_id,
    number: row.number,
    status: row.status,
    params: row.params,
    value: row.value,
    reports,
    experimentId: row.experiment_id,
    retryOf: row.retry_of,
    error: row.error,
    worker: row.worker_host !== null && row.worker_pid !== null ? { host: row.worker_host, pid: row.worker_pid } : null,
    heartbeatAt: row.heartbeat_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

/** A report's value as stored: NaN is NULL (as in SQLite, where REAL cannot hold it); ±Infinity stays. */
const reportValue = (value: number) => (Number.isNaN(value) ? null : f8(value));
const toReport = (r: ReportRow): TrialReport => ({ step: r.step, value: r.value ?? NaN });

const sweepNotFound = (id: string) => new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${id}`, { id });

/**
 * The sweeps of a PostgreSQL store, with the SQLite store's rules and errors (sqlite-sweep-backend.ts). What
 * numbers trials (an ask, a re-queue) locks the sweep's row first (SELECT … FOR UPDATE), so asks from every
 * server process take turns; a report locks its trial's row.
 */
export class PostgresSweepStore implements ServerSweepStore {
  readonly #store: PgStore;

  constructor(store: PgStore) {
    this.#store = store;
  }

  async createSweep(study: StudyRecord, sweep: NewSweep): Promise<SweepRecord> {
    return this.#store.transaction('creating a sweep', async (db) => {
      const created = await db.query(...studyInsert(study));
      if (created.rowCount === 0) throw studyNameTaken(study);
      await db.query(
        `INSERT INTO sweeps (study_id, metric, goal, space, sampler, pruner, seed, max_trials, parallel, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'created', $10, $10)`,
        [
          study.id,
          sweep.metric,
          sweep.goal,
          jsonParam(sweep.space),
          jsonParam(sweep.sampler),
          jsonParam(sweep.pruner),
          sweep.seed,
          sweep.maxTrials,
          sweep.parallel,
          f8(sweep.createdAt),
        ],
      );
      return (await this.#sweep(db, study.id))!;
    });
  }

  async #sweep(db: PgQuery, id: string, lock = false): Promise<SweepRecord | undefined> {
    const { rows } = await db.query<SweepRow>(`${SELECT_SWEEP} WHERE w.study_id = $1${lock ? ' FOR UPDATE OF w' : ''}`, [id]);
    return rows[0] && toSweep(rows[0]);
  }

  async getSweep(id: string): Promise<SweepRecord | undefined> {
    const rows = await this.#store.query<SweepRow>('reading a sweep', `${SELECT_SWEEP} WHERE w.study_id = $1`, [id]);
    return rows[0] && toSweep(rows[0]);
  }

  async listSweeps(project?: string): Promise<SweepRecord[]> {
    // Newest first; equal times in id order (SQLite leaves that order to its plan).
    const rows =
      project === undefined
        ? await this.#store.query<SweepRow>('listing sweeps', `${SELECT_SWEEP} ORDER BY w.created_at DESC, w.study_id DESC`, [])
        : await this.#store.query<SweepRow>(
            'listing sweeps',
            `${SELECT_SWEEP} WHERE s.project = $1 ORDER BY w.created_at DESC, w.study_id DESC`,
            [project],
          );
    return rows.map(toSweep);
  }

  async setSweepStatus(id: string, status: SweepStatus, now: number): Promise<void> {
    const rows = await this.#store.query(
      'updating a sweep',
      'UPDATE sweeps SET status = $1, updated_at = $2 WHERE study_id = $3 RETURNING 1',
      [status, f8(now), id],
    );
    if (rows.length === 0) throw sweepNotFound(id);
  }

  /** Trials with their reports (reports read after the trials: one appended meanwhile is there too, as in SQLite). */
  async trials(sweepId: string): Promise<TrialRecord[]> {
    const rows = await this.#store.query<TrialRow>(
      'reading trials',
      `SELECT ${TRIAL_COLUMNS} FROM sweep_trials WHERE sweep_id = $1 ORDER BY number`,
      [sweepId],
    );
    const reportRows = await this.#store.query<ReportRow>(
      'reading trials',
      'SELECT number, step, value FROM sweep_trial_reports WHERE sweep_id = $1 ORDER BY number, step',
      [sweepId],
    );
    const reports = new Map<number, TrialReport[]>();
    for (const r of reportRows) {
      let list = reports.get(r.number);
      if (list === undefined) reports.set(r.number, (list = []));
      list.push(toReport(r));
    }
    return rows.map((row) => toTrial(row, reports.get(row.number) ?? []));
  }

  async #trial(db: PgQuery, sweepId: string, number: number): Promise<TrialRecord | undefined> {
    const { rows } = await db.query<TrialRow>(`SELECT ${TRIAL_COLUMNS} FROM sweep_trials WHERE sweep_id = $1 AND number = $2`, [
      sweepId,
      number,
    ]);
    if (rows[0] === undefined) return undefined;
    const reports = await db.query<ReportRow>(
      'SELECT number, step, value FROM sweep_trial_reports WHERE sweep_id = $1 AND number = $2 ORDER BY step',
      [sweepId, number],
    );
    return toTrial(rows[0], reports.rows.map(toReport));
  }

  /** The trials as a sampler sees them, as SQLite builds them: a pruned trial with only its last report, the others with none. */
  async #views(db: PgQuery, sweepId: string): Promise<TrialView[]> {
    const { rows } = await db.query<{
      number: number;
      status: TrialStatus;
      params: TrialParams;
      value: number | null;
      last_step: number | null;
      last_value: number | null;
    }>('SELECT number, status, params, value, last_step, last_value FROM sweep_trials WHERE sweep_id = $1 ORDER BY number', [sweepId]);
    return rows.map((r) => ({
      number: r.number,
      status: r.status,
      params: r.params,
      value: r.value,
      reports: r.status === 'pruned' && r.last_step !== null ? [{ step: r.last_step, value: r.last_value ?? NaN }] : [],
    }));
  }

  async askTrial(
    sweepId: string,
    worker: TrialWorker,
    propose: (trials: readonly TrialView[], number: number) => TrialParams | null,
    now: number,
    token?: string,
  ): Promise<AskOutcome> {
    return this.#store.transaction('asking for a trial', async (db) => {
      // Every ask of this sweep waits here for the one before it to commit, then reads what it wrote.
      const sweep = await this.#sweep(db, sweepId, true);
      if (sweep === undefined) throw sweepNotFound(sweepId);
      if (token !== undefined) {
        const earlier = await db.query<{ number: number }>('SELECT number FROM sweep_trials WHERE sweep_id = $1 AND ask_token = $2', [
          sweepId,
          token,
        ]);
        if (earlier.rows[0] !== undefined) return { kind: 'trial', trial: (await this.#trial(db, sweepId, earlier.rows[0].number))! };
      }
      if (sweep.status !== 'created' && sweep.status !== 'running') return { kind: 'closed', status: sweep.status };
      const pending = await db.query<{ number: number }>(
        "SELECT number FROM sweep_trials WHERE sweep_id = $1 AND status = 'pending' ORDER BY number LIMIT 1",
        [sweepId],
      );
      if (pending.rows[0] !== undefined) {
        const number = pending.rows[0].number;
        await db.query(
          `UPDATE sweep_trials SET status = 'running', worker_host = $1, worker_pid = $2, heartbeat_at = $3, started_at = $3, ask_token = $6
           WHERE sweep_id = $4 AND number = $5`,
          [worker.host, worker.pid, f8(now), sweepId, number, token ?? null],
        );
        await this.#markRunning(db, sweep, now);
        return { kind: 'trial', trial: (await this.#trial(db, sweepId, number))! };
      }
      const given = await db.query<{ n: number }>('SELECT count(*) AS n FROM sweep_trials WHERE sweep_id = $1 AND retry_of IS NULL', [
        sweepId,
      ]);
      if (given.rows[0]!.n >= sweep.maxTrials) return { kind: 'full' };
      const trials = await this.#views(db, sweepId);
      const number = trials.length === 0 ? 0 : trials[trials.length - 1]!.number + 1;
      const params = propose(trials, number);
      if (params === null) return { kind: 'exhausted' };
      await db.query(
        `INSERT INTO sweep_trials (sweep_id, number, status, params, worker_host, worker_pid, heartbeat_at, created_at, started_at, ask_token)
         VALUES ($1, $2, 'running', $3, $4, $5, $6, $6, $6, $7)`,
        [sweepId, number, jsonParam(params), worker.host, worker.pid, f8(now), token ?? null],
      );
      await this.#markRunning(db, sweep, now);
      return { kind: 'trial', trial: (await this.#trial(db, sweepId, number))! };
    });
  }

  async #markRunning(db: PgQuery, sweep: SweepRecord, now: number): Promise<void> {
    if (sweep.status === 'created')
      await db.query("UPDATE sweeps SET status = 'running', updated_at = $1 WHERE study_id = $2", [f8(now), sweep.id]);
  }

  async setTrialExperiment(sweepId: string, number: number, experimentId: string): Promise<void> {
    await this.#store.query(
      'recording a trial experiment',
      'UPDATE sweep_trials SET experiment_id = $1 WHERE sweep_id = $2 AND number = $3',
      [experimentId, sweepId, number],
    );
  }

  async reportTrial(sweepId: string, number: number, step: number, value: number, now: number): Promise<TrialStatus | undefined> {
    return this.#store.transaction('reporting a trial value', async (db) => {
      // Reports of one trial take turns on its row: the step and count read here are the last ones.
      const { rows } = await db.query<{ status: TrialStatus; report_count: number; last_step: number | null }>(
        'SELECT status, report_count, last_step FROM sweep_trials WHERE sweep_id = $1 AND number = $2 FOR UPDATE',
        [sweepId, number],
      );
      const row = rows[0];
      if (row === undefined) return undefined;
      if (row.status !== 'running') return row.status;
      const kept = row.report_count < MAX_TRIAL_REPORTS && (row.last_step === null || step > row.last_step);
      if (kept) {
        await db.query('INSERT INTO sweep_trial_reports (sweep_id, number, step, value) VALUES ($1, $2, $3, $4)', [
          sweepId,
          number,
          step,
          reportValue(value),
        ]);
        await db.query(
          `UPDATE sweep_trials SET heartbeat_at = $1, report_count = report_count + 1, last_step = $2, last_value = $3
           WHERE sweep_id = $4 AND number = $5`,
          [f8(now), step, reportValue(value), sweepId, number],
        );
      } else {
        await db.query('UPDATE sweep_trials SET heartbeat_at = $1 WHERE sweep_id = $2 AND number = $3', [f8(now), sweepId, number]);
      }
      return row.status;
    });
  }

  async heartbeat(sweepId: string, number: number, now: number): Promise<void> {
    await this.#store.query(
      'beating a trial heartbeat',
      "UPDATE sweep_trials SET heartbeat_at = $1 WHERE sweep_id = $2 AND number = $3 AND status = 'running'",
      [f8(now), sweepId, number],
    );
  }

  async finishTrial(sweepId: string, number: number, outcome: TrialOutcome, now: number): Promise<boolean> {
    const error = outcome.error === null ? null : outcome.error.slice(0, MAX_TRIAL_ERROR_CHARS);
    const value = outcome.value !== null && Number.isFinite(outcome.value) ? outcome.value : null;
    // As in SQLite, a pending trial (a re-run no worker has claimed) can be ended too.
    const rows = await this.#store.query(
      'ending a trial',
      `UPDATE sweep_trials SET status = $1, value = $2, error = $3, completed_at = $4
       WHERE sweep_id = $5 AND number = $6 AND status IN ('running', 'pending') RETURNING 1`,
      [outcome.status, f8(value), error, f8(now), sweepId, number],
    );
    return rows.length > 0;
  }

  async requeueTrial(sweepId: string, number: number, now: number): Promise<TrialRecord> {
    return this.#store.transaction('re-queueing a trial', async (db) => {
      // Numbered under the sweep's lock, like an ask: the two never take the same number.
      await db.query('SELECT 1 FROM sweeps WHERE study_id = $1 FOR UPDATE', [sweepId]);
      const { rows } = await db.query<{ params: TrialParams; next: number }>(
        `SELECT params, (SELECT max(number) + 1 FROM sweep_trials WHERE sweep_id = $1) AS next
         FROM sweep_trials WHERE sweep_id = $1 AND number = $2`,
        [sweepId, number],
      );
      const source = rows[0];
      if (source === undefined) {
        throw new LablogError('TRIAL_NOT_FOUND', `no trial ${number} in sweep ${sweepId}`, { id: sweepId, number });
      }
      await db.query(
        `INSERT INTO sweep_trials (sweep_id, number, status, params, retry_of, created_at)
         VALUES ($1, $2, 'pending', $3, $4, $5)`,
        [sweepId, source.next, jsonParam(source.params), number, f8(now)],
      );
      return (await this.#trial(db, sweepId, source.next))!;
    });
  }
}
