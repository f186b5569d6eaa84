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
  type TrialWorker,
} from '../../model/sweep.js';
import type { SweepStore } from '../sweep-store.js';
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
  reports: string;
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

/** Reports are stored as [step, value] pairs; NaN and ±Infinity as strings (JSON has no such numbers). */
type StoredReport = [number, number | string];

function toTrial(row: TrialRow): TrialRecord {
  return {
    sweepId: row.sweep_id,
    number: row.number,
    status: row.status,
    params: JSON.parse(row.params) as TrialParams,
    value: row.value,
    reports: (JSON.parse(row.reports) as StoredReport[]).map(([step, value]): TrialReport => ({ step, value: Number(value) })),
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

  createSweep(study: StudyRecord, sweep: NewSweep): SweepRecord {
    return this.#store.transaction('creating a sweep', () => {
      this.#store.studies().createStudy(study);
      this.#db
        .prepare(
          `INSERT INTO sweeps (study_id, metric, goal, space, sampler, pruner, seed, max_trials, parallel, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)`,
        )
        .run(
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
    const row = this.#db.prepare(`${SELECT_SWEEP} WHERE w.study_id = ?`).get(id) as SweepRow | undefined;
    return row === undefined ? undefined : toSweep(row);
  }

  getSweep(id: string): SweepRecord | undefined {
    return this.#store.read('reading a sweep', () => this.#sweep(id));
  }

  listSweeps(project?: string): SweepRecord[] {
    return this.#store.read('listing sweeps', () => {
      const rows = (
        project === undefined
          ? this.#db.prepare(`${SELECT_SWEEP} ORDER BY w.created_at DESC`).all()
          : this.#db.prepare(`${SELECT_SWEEP} WHERE s.project = ? ORDER BY w.created_at DESC`).all(project)
      ) as SweepRow[];
      return rows.map(toSweep);
    });
  }

  setSweepStatus(id: string, status: SweepStatus, now: number): void {
    this.#store.transaction('updating a sweep', () => {
      const changed = this.#db.prepare('UPDATE sweeps SET status = ?, updated_at = ? WHERE study_id = ?').run(status, now, id).changes;
      if (changed === 0) throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${id}`, { id });
    });
  }

  #trials(sweepId: string): TrialRecord[] {
    return (this.#db.prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY number').all(sweepId) as TrialRow[]).map(toTrial);
  }

  #trial(sweepId: string, number: number): TrialRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM sweep_trials WHERE sweep_id = ? AND number = ?').get(sweepId, number) as
      TrialRow | undefined;
    return row === undefined ? undefined : toTrial(row);
  }

  trials(sweepId: string): TrialRecord[] {
    return this.#store.read('reading trials', () => this.#trials(sweepId));
  }

  askTrial(
    sweepId: string,
    worker: TrialWorker,
    propose: (trials: readonly TrialRecord[], number: number) => TrialParams | null,
    now: number,
  ): AskOutcome {
    return this.#store.transaction('asking for a trial', () => {
      const sweep = this.#sweep(sweepId);
      if (sweep === undefined) throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${sweepId}`, { id: sweepId });
      if (sweep.status !== 'created' && sweep.status !== 'running') return { kind: 'closed', status: sweep.status };
      const start = this.#db.prepare(
        `UPDATE sweep_trials SET status = 'running', worker_host = ?, worker_pid = ?, heartbeat_at = ?, started_at = ?
         WHERE sweep_id = ? AND number = ?`,
      );
      const pending = this.#db
        .prepare("SELECT number FROM sweep_trials WHERE sweep_id = ? AND status = 'pending' ORDER BY number LIMIT 1")
        .pluck()
        .get(sweepId) as number | undefined;
      if (pending !== undefined) {
        start.run(worker.host, worker.pid, now, now, sweepId, pending);
        this.#markRunning(sweep, now);
        return { kind: 'trial', trial: this.#trial(sweepId, pending)! };
      }
      const given = this.#db
        .prepare('SELECT count(*) FROM sweep_trials WHERE sweep_id = ? AND retry_of IS NULL')
        .pluck()
        .get(sweepId) as number;
      if (given >= sweep.maxTrials) return { kind: 'full' };
      const trials = this.#trials(sweepId);
      const number = trials.length === 0 ? 0 : trials[trials.length - 1]!.number + 1;
      const params = propose(trials, number);
      if (params === null) return { kind: 'exhausted' };
      this.#db
        .prepare(
          `INSERT INTO sweep_trials (sweep_id, number, status, params, reports, worker_host, worker_pid, heartbeat_at, created_at, started_at)
           VALUES (?, ?, 'running', ?, '[]', ?, ?, ?, ?, ?)`,
        )
        .run(sweepId, number, JSON.stringify(params), worker.host, worker.pid, now, now, now);
      this.#markRunning(sweep, now);
      return { kind: 'trial', trial: this.#trial(sweepId, number)! };
    });
  }

  #markRunning(sweep: SweepRecord, now: number): void {
    if (sweep.status === 'created')
      this.#db.prepare("UPDATE sweeps SET status = 'running', updated_at = ? WHERE study_id = ?").run(now, sweep.id);
  }

  setTrialExperiment(sweepId: string, number: number, experimentId: string): void {
    this.#store.transaction('recording a trial experiment', () => {
      this.#db.prepare('UPDATE sweep_trials SET experiment_id = ? WHERE sweep_id = ? AND number = ?').run(experimentId, sweepId, number);
    });
  }

  reportTrial(sweepId: string, number: number, step: number, value: number, now: number): TrialRecord | undefined {
    return this.#store.transaction('reporting a trial value', () => {
      const row = this.#db.prepare('SELECT reports FROM sweep_trials WHERE sweep_id = ? AND number = ?').get(sweepId, number) as
        Pick<TrialRow, 'reports'> | undefined;
      if (row === undefined) return undefined;
      const reports = JSON.parse(row.reports) as StoredReport[];
      const last = reports[reports.length - 1];
      if (reports.length < MAX_TRIAL_REPORTS && (last === undefined || step > last[0])) {
        reports.push([step, Number.isFinite(value) ? value : String(value)]);
      }
      this.#db
        .prepare("UPDATE sweep_trials SET reports = ?, heartbeat_at = ? WHERE sweep_id = ? AND number = ? AND status = 'running'")
        .run(JSON.stringify(reports), now, sweepId, number);
      return this.#trial(sweepId, number);
    });
  }

  heartbeat(sweepId: string, number: number, now: number): void {
    this.#store.transaction('beating a trial heartbeat', () => {
      this.#db
        .prepare("UPDATE sweep_trials SET heartbeat_at = ? WHERE sweep_id = ? AND number = ? AND status = 'running'")
        .run(now, sweepId, number);
    });
  }

  finishTrial(sweepId: string, number: number, outcome: TrialOutcome, now: number): boolean {
    return this.#store.transaction('ending a trial', () => {
      const error = outcome.error === null ? null : outcome.error.slice(0, MAX_TRIAL_ERROR_CHARS);
      const value = outcome.value !== null && Number.isFinite(outcome.value) ? outcome.value : null;
      const changed = this.#db
        .prepare(
          `UPDATE sweep_trials SET status = ?, value = ?, error = ?, completed_at = ?
           WHERE sweep_id = ? AND number = ? AND status IN ('running', 'pending')`,
        )
        .run(outcome.status, value, error, now, sweepId, number).changes;
      return changed > 0;
    });
  }

  requeueTrial(sweepId: string, number: number, now: number): TrialRecord {
    return this.#store.transaction('re-queueing a trial', () => {
      const trials = this.#trials(sweepId);
      const source = trials.find((t) => t.number === number);
      if (source === undefined) throw new LablogError('TRIAL_NOT_FOUND', `no trial ${number} in sweep ${sweepId}`, { id: sweepId, number });
      const next = trials[trials.length - 1]!.number + 1;
      this.#db
        .prepare(
          `INSERT INTO sweep_trials (sweep_id, number, status, params, reports, retry_of, created_at)
           VALUES (?, ?, 'pending', ?, '[]', ?, ?)`,
        )
        .run(sweepId, next, JSON.stringify(source.params), number, now);
      return this.#trial(sweepId, next)!;
    });
  }
}
