// SQLite sweeps: the SweepStore over the store's own connection; asks are IMMEDIATE transactions, so workers in several processes never share a trial.

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
import type { SweepStore } from '../sweep-store.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteBackend } from './sqlite-backend.js';

interface SweepRow {
  study_id: string;
  project: string;
  name: string;
  metric: string;
  goal: Goal;
  space: string;
  sampler: string;
  pruner: string;
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
  params: string;
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
  report_count: number;
  last_step: number | null;
  last_value: number | null;
}

interface ReportRow {
  number: number;
  step: number;
  value: number | null;
}

const SELECT_SWEEP = 'SELECT w.*, s.project, s.name FROM sweeps w JOIN studies s ON s.id = w.study_id';

function toSweep(row: SweepRow): SweepRecord {
  return {
    id: row.study_id,
    project: row.project,
    name: row.name,
    metric: row.metric,
    goal: row.goal,
    space: JSON.parse(row.space) as SweepRecord['space'],
    sampler: JSON.parse(row.sampler) as SweepRecord['sampler'],
    pruner: JSON.parse(row.pruner) as SweepRecord['pruner'],
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
    params: JSON.parse(row.params) as TrialParams,
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

export class SqliteSweepBackend implements SweepStore {
  readonly #store: SqliteBackend;

  constructor(store: SqliteBackend) {
    this.#store = store;
  }

  get #db() {
    return this.#store.database;
  }

  /** Statements prepared once per connection (asks and reports run per trial and per step). */
  readonly #statements = new Map<string, Statement>();

  #prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  createSweep(study: StudyRecord, sweep: NewSweep): SweepRecord {
    return this.#store.transaction('creating a sweep', () => {
      this.#store.studies().createStudy(study);
      this.#prepare(
        `INSERT INTO sweeps (study_id, metric, goal, space, sampler, pruner, seed, max_trials, parallel, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)`,
      ).run(
        study.id,
        sweep.metric,
        sweep.goal,
        JSON.stringify(sweep.space),
        JSON.stringify(sweep.sampler),
        JSON.stringify(sweep.pruner),
        sweep.seed,
        sweep.maxTrials,
        sweep.parallel,
        sweep.createdAt,
        sweep.createdAt,
      );
      return this.#sweep(study.id)!;
    });
  }

  #sweep(id: string): SweepRecord | undefined {
    const row = this.#prepare(`${SELECT_SWEEP} WHERE w.study_id = ?`).get(id) as SweepRow | undefined;
    return row === undefined ? undefined : toSweep(row);
  }

  getSweep(id: string): SweepRecord | undefined {
    return this.#store.read('reading a sweep', () => this.#sweep(id));
  }

  listSweeps(project?: string): SweepRecord[] {
    return this.#store.read('listing sweeps', () => {
      const rows = (
        project === undefined
          ? this.#prepare(`${SELECT_SWEEP} ORDER BY w.created_at DESC`).all()
          : this.#prepare(`${SELECT_SWEEP} WHERE s.project = ? ORDER BY w.created_at DESC`).all(project)
      ) as SweepRow[];
      return rows.map(toSweep);
    });
  }

  setSweepStatus(id: string, status: SweepStatus, now: number): void {
    this.#store.transaction('updating a sweep', () => {
      const changed = this.#prepare('UPDATE sweeps SET status = ?, updated_at = ? WHERE study_id = ?').run(status, now, id).changes;
      if (changed === 0) throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${id}`, { id });
    });
  }

  /** Trials with their reports. */
  #trials(sweepId: string): TrialRecord[] {
    const rows = this.#prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY number').all(sweepId) as TrialRow[];
    const reports = new Map<number, TrialReport[]>();
    const reportRows = this.#prepare('SELECT number, step, value FROM sweep_trial_reports WHERE sweep_id = ? ORDER BY number, step').all(
      sweepId,
    ) as ReportRow[];
    for (const r of reportRows) {
      let list = reports.get(r.number);
      if (list === undefined) reports.set(r.number, (list = []));
      list.push({ step: r.step, value: r.value ?? NaN });
    }
    return rows.map((row) => toTrial(row, reports.get(row.number) ?? []));
  }

  /**
   * The trials as a sampler sees them, read in one pass of six columns: a pruned trial with only its last
   * report (which ranks it, kept in its row), the others with none. An ask then reads no report at all.
   */
  #views(sweepId: string): TrialView[] {
    const rows = this.#prepare(
      'SELECT number, status, params, value, last_step, last_value FROM sweep_trials WHERE sweep_id = ? ORDER BY number',
    )
      .raw()
      .all(sweepId) as [number, TrialStatus, string, number | null, number | null, number | null][];
    return rows.map(([number, status, params, value, lastStep, lastValue]) => ({
      number,
      status,
      params: JSON.parse(params) as TrialParams,
      value,
      reports: status === 'pruned' && lastStep !== null ? [{ step: lastStep, value: lastValue ?? NaN }] : [],
    }));
  }

  #trial(sweepId: string, number: number): TrialRecord | undefined {
    const row = this.#prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? AND number = ?').get(sweepId, number) as TrialRow | undefined;
    if (row === undefined) return undefined;
    const reports = this.#prepare(
      'SELECT number, step, value FROM sweep_trial_reports WHERE sweep_id = ? AND number = ? ORDER BY step',
    ).all(sweepId, number) as ReportRow[];
    return toTrial(
      row,
      reports.map((r) => ({ step: r.step, value: r.value ?? NaN })),
    );
  }

  trials(sweepId: string): TrialRecord[] {
    return this.#store.read('reading trials', () => this.#trials(sweepId));
  }

  askTrial(
    sweepId: string,
    worker: TrialWorker,
    propose: (trials: readonly TrialView[], number: number) => TrialParams | null,
    now: number,
    token?: string,
  ): AskOutcome {
    return this.#store.transaction('asking for a trial', () => {
      const sweep = this.#sweep(sweepId);
      if (sweep === undefined) throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${sweepId}`, { id: sweepId });
      if (token !== undefined) {
        const earlier = this.#prepare('SELECT number FROM sweep_trials WHERE sweep_id = ? AND ask_token = ?')
          .pluck()
          .get(sweepId, token) as number | undefined;
        if (earlier !== undefined) return { kind: 'trial', trial: this.#trial(sweepId, earlier)! };
      }
      if (sweep.status !== 'created' && sweep.status !== 'running') return { kind: 'closed', status: sweep.status };
      const start = this.#prepare(
        `UPDATE sweep_trials SET status = 'running', worker_host = ?, worker_pid = ?, heartbeat_at = ?, started_at = ?, ask_token = ?
         WHERE sweep_id = ? AND number = ?`,
      );
      const pending = this.#prepare("SELECT number FROM sweep_trials WHERE sweep_id = ? AND status = 'pending' ORDER BY number LIMIT 1")
        .pluck()
        .get(sweepId) as number | undefined;
      if (pending !== undefined) {
        start.run(worker.host, worker.pid, now, now, token ?? null, sweepId, pending);
        this.#markRunning(sweep, now);
        return { kind: 'trial', trial: this.#trial(sweepId, pending)! };
      }
      const given = this.#prepare('SELECT count(*) FROM sweep_trials WHERE sweep_id = ? AND retry_of IS NULL')
        .pluck()
        .get(sweepId) as number;
      if (given >= sweep.maxTrials) return { kind: 'full' };
      const trials = this.#views(sweepId);
      const number = trials.length === 0 ? 0 : trials[trials.length - 1]!.number + 1;
      const params = propose(trials, number);
      if (params === null) return { kind: 'exhausted' };
      this.#prepare(
        `INSERT INTO sweep_trials (sweep_id, number, status, params, worker_host, worker_pid, heartbeat_at, created_at, started_at, ask_token)
           VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
      ).run(sweepId, number, JSON.stringify(params), worker.host, worker.pid, now, now, now, token ?? null);
      this.#markRunning(sweep, now);
      return { kind: 'trial', trial: this.#trial(sweepId, number)! };
    });
  }

  #markRunning(sweep: SweepRecord, now: number): void {
    if (sweep.status === 'created')
      this.#prepare("UPDATE sweeps SET status = 'running', updated_at = ? WHERE study_id = ?").run(now, sweep.id);
  }

  setTrialExperiment(sweepId: string, number: number, experimentId: string): void {
    this.#store.transaction('recording a trial experiment', () => {
      this.#prepare('UPDATE sweep_trials SET experiment_id = ? WHERE sweep_id = ? AND number = ?').run(experimentId, sweepId, number);
    });
  }

  reportTrial(sweepId: string, number: number, step: number, value: number, now: number): TrialStatus | undefined {
    return this.#store.transaction('reporting a trial value', () => {
      const row = this.#prepare('SELECT status, report_count, last_step FROM sweep_trials WHERE sweep_id = ? AND number = ?').get(
        sweepId,
        number,
      ) as Pick<TrialRow, 'status' | 'report_count' | 'last_step'> | undefined;
      if (row === undefined) return undefined;
      if (row.status !== 'running') return row.status;
      const kept = row.report_count < MAX_TRIAL_REPORTS && (row.last_step === null || step > row.last_step);
      if (kept) {
        this.#prepare('INSERT INTO sweep_trial_reports (sweep_id, number, step, value) VALUES (?, ?, ?, ?)').run(
          sweepId,
          number,
          step,
          Number.isNaN(value) ? null : value,
        );
      }
      this.#prepare(
        `UPDATE sweep_trials SET heartbeat_at = ?, report_count = report_count + ?,
           last_step = CASE WHEN ? THEN ? ELSE last_step END, last_value = CASE WHEN ? THEN ? ELSE last_value END
         WHERE sweep_id = ? AND number = ?`,
      ).run(now, kept ? 1 : 0, kept ? 1 : 0, step, kept ? 1 : 0, Number.isNaN(value) ? null : value, sweepId, number);
      return row.status;
    });
  }

  heartbeat(sweepId: string, number: number, now: number): void {
    this.#store.transaction('beating a trial heartbeat', () => {
      this.#prepare("UPDATE sweep_trials SET heartbeat_at = ? WHERE sweep_id = ? AND number = ? AND status = 'running'").run(
        now,
        sweepId,
        number,
      );
    });
  }

  finishTrial(sweepId: string, number: number, outcome: TrialOutcome, now: number): boolean {
    return this.#store.transaction('ending a trial', () => {
      const error = outcome.error === null ? null : outcome.error.slice(0, MAX_TRIAL_ERROR_CHARS);
      const value = outcome.value !== null && Number.isFinite(outcome.value) ? outcome.value : null;
      const changed = this.#prepare(
        `UPDATE sweep_trials SET status = ?, value = ?, error = ?, completed_at = ?
           WHERE sweep_id = ? AND number = ? AND status IN ('running', 'pending')`,
      ).run(outcome.status, value, error, now, sweepId, number).changes;
      return changed > 0;
    });
  }

  requeueTrial(sweepId: string, number: number, now: number): TrialRecord {
    return this.#store.transaction('re-queueing a trial', () => {
      const trials = this.#trials(sweepId);
      const source = trials.find((t) => t.number === number);
      if (source === undefined) throw new LablogError('TRIAL_NOT_FOUND', `no trial ${number} in sweep ${sweepId}`, { id: sweepId, number });
      const next = trials[trials.length - 1]!.number + 1;
      this.#prepare(
        `INSERT INTO sweep_trials (sweep_id, number, status, params, retry_of, created_at)
           VALUES (?, ?, 'pending', ?, ?, ?)`,
      ).run(sweepId, next, JSON.stringify(source.params), number, now);
      return this.#trial(sweepId, next)!;
    });
  }
}
