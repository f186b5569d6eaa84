// The sweep capability of a store: sweeps beside their studies, and their trials — asked, reported, told — each step atomic (types only).

import type { StudyRecord } from '../model/study.js';
import type {
  AskOutcome,
  NewSweep,
  SweepRecord,
  SweepStatus,
  TrialOutcome,
  TrialParams,
  TrialRecord,
  TrialStatus,
  TrialView,
  TrialWorker,
} from '../model/sweep.js';
import type { Async } from './async.js';

/** Sweeps in a store. Synchronous; failures throw LablogError (STORAGE_ERROR, or the typed code). */
export interface SweepStore {
  /** Creates the sweep's study and the sweep in one transaction (a study name taken in the project: INVALID_NAME). */
  createSweep(study: StudyRecord, sweep: NewSweep): SweepRecord;
  getSweep(id: string): SweepRecord | undefined;
  /** Sweeps newest first, in a project or all. */
  listSweeps(project?: string): SweepRecord[];
  setSweepStatus(id: string, status: SweepStatus, now: number): void;
  trials(sweepId: string): TrialRecord[];
  /**
   * In one transaction: claims the oldest pending trial (a re-run) for `worker`, else — unless maxTrials
   * trials (re-runs not counted) exist or the sweep is not 'created'/'running' — numbers the next trial and
   * gives it the params `propose` chooses from every trial so far (null: nothing left). The sweep becomes
   * 'running'. No trial is given twice, whatever the number of workers. `propose` sees every trial with a
   * pruned one's last report only (what samplers rank by). `token` makes the ask idempotent: an ask with the
   * token of an earlier one gets that ask's trial again (a worker whose answer was lost asks again with it).
   */
  askTrial(
    sweepId: string,
    worker: TrialWorker,
    propose: (trials: readonly TrialView[], number: number) => TrialParams | null,
    now: number,
    token?: string,
  ): AskOutcome;
  setTrialExperiment(sweepId: string, number: number, experimentId: string): void;
  /**
   * Appends an intermediate value to a running trial (kept up to MAX_TRIAL_REPORTS; a step not above the last
   * is not kept) and beats its heartbeat; returns the trial's status (a stop shows here), undefined if none.
   */
  reportTrial(sweepId: string, number: number, step: number, value: number, now: number): TrialStatus | undefined;
  /** Beats a running trial's heartbeat. */
  heartbeat(sweepId: string, number: number, now: number): void;
  /** Ends a running trial; false (nothing changed) when it is not running (it was stopped meanwhile). */
  finishTrial(sweepId: string, number: number, outcome: TrialOutcome, now: number): boolean;
  /**
   * A new pending trial with the params of trial `number` (retryOf it): a re-run after its worker died, or a
   * restart. Returns its record.
   */
  requeueTrial(sweepId: string, number: number, now: number): TrialRecord;
}

/** The same operations for a server's store: asynchronous, with the same rules and errors. */
export type ServerSweepStore = Async<SweepStore>;
