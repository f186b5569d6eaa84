// Sweep port: what a sweep worker reads and writes of one sweep — the store's own (sampling here) or a team server's (sampling there) — each call asynchronous.

import { LablogError } from '../model/errors.js';
import type { AskOutcome, SweepRecord, SweepStatus, TrialOutcome, TrialRecord, TrialStatus, TrialWorker } from '../model/sweep.js';
import type { SweepStore } from '../store/sweep-store.js';
import type { Async } from '../store/async.js';
import { createSampler } from './sampler.js';

/**
 * One sweep as a worker sees it. `ask` gives the next trial (a pending re-run first, else a new one with the
 * sampler's params), atomically wherever the sweep lives. Every call may be sent again: an ask carries a
 * token, so one whose answer was lost gets the same trial when it is sent again.
 */
export interface SweepPort {
  readonly sweepId: string;
  sweep(): Promise<SweepRecord>;
  trials(): Promise<TrialRecord[]>;
  ask(worker: TrialWorker): Promise<AskOutcome>;
  /** Records the trial's experiment (a remote one once the server has the experiment: the port sees to it). */
  setTrialExperiment(number: number, experimentId: string): Promise<void>;
  report(number: number, step: number, value: number): Promise<TrialStatus | undefined>;
  heartbeat(number: number): Promise<void>;
  finish(number: number, outcome: TrialOutcome): Promise<boolean>;
  requeue(number: number): Promise<TrialRecord>;
  setStatus(status: SweepStatus): Promise<void>;
  /** Sends what is still on its way (a remote port's reports); the local one has nothing pending. */
  flush(): Promise<void>;
}

/** A store's sweep capability, synchronous (the embedded store) or asynchronous (a server's). */
export type AnySweepStore = SweepStore | Async<SweepStore>;

/** The sweep, or SWEEP_NOT_FOUND. */
export async function readSweep(store: AnySweepStore, sweepId: string): Promise<SweepRecord> {
  const record = await store.getSweep(sweepId);
  if (record === undefined) throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id ${sweepId}`, { id: sweepId });
  return record;
}

/**
 * Asks `store` for the next trial of the sweep, its params chosen by the sweep's sampler: the one rule for a
 * worker on the store's own file and for the server answering a remote worker.
 */
export async function askWithSampler(
  store: AnySweepStore,
  sweep: SweepRecord,
  worker: TrialWorker,
  now: number,
  token?: string,
): Promise<AskOutcome> {
  const sampler = createSampler(sweep.sampler, sweep.space, sweep.goal, sweep.seed);
  return store.askTrial(sweep.id, worker, (views, number) => sampler.sample(number, views), now, token);
}

/** The port of a sweep in a store of this process (the embedded store, or a server's own). */
export function storeSweepPort(store: AnySweepStore, sweepId: string): SweepPort {
  return {
    sweepId,
    sweep: () => readSweep(store, sweepId),
    trials: async () => store.trials(sweepId),
    ask: async (worker) => askWithSampler(store, await readSweep(store, sweepId), worker, Date.now()),
    setTrialExperiment: async (number, experimentId) => store.setTrialExperiment(sweepId, number, experimentId),
    report: async (number, step, value) => store.reportTrial(sweepId, number, step, value, Date.now()),
    heartbeat: async (number) => store.heartbeat(sweepId, number, Date.now()),
    finish: async (number, outcome) => store.finishTrial(sweepId, number, outcome, Date.now()),
    requeue: async (number) => store.requeueTrial(sweepId, number, Date.now()),
    setStatus: async (status) => store.setSweepStatus(sweepId, status, Date.now()),
    flush: async () => undefined,
  };
}
