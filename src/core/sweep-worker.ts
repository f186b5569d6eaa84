// Sweep worker: sweep.optimize() — asks the sweep's port (its store, or a team server) for trials, runs the objective on each (at most `parallel` at once, each within its timeout), tells the outcome; resumable at any point.

import { describeValue } from '../model/errors.js';
import type { SweepRecord, SweepStatus, TrialOutcome, TrialRecord } from '../model/sweep.js';
import { HEARTBEAT_INTERVAL_MS, isTrialOrphaned, THIS_HOST } from './liveness.js';
import type { Experiment } from './experiment.js';
import { createPruner } from './pruner.js';
import { isPrunedResult, Trial, type PrunedResult } from './trial.js';
import type { Pruner } from './pruner.js';
import type { SweepPort } from './sweep-port.js';
import type { TrialChannel } from './trial-channel.js';

/** A trial's timeout in optimize() when none is given (as a run's). */
export const DEFAULT_TRIAL_TIMEOUT_MS = 4 * 3_600_000;
/** The longest per-trial timeout (as a run's). */
export const MAX_TRIAL_TIMEOUT_MS = 48 * 3_600_000;

/** An objective: the trial's value (the sweep's metric), or trial.pruned(). */
export type Objective = (trial: Trial) => number | PrunedResult | Promise<number | PrunedResult>;

export interface OptimizeOptions {
  /** Trials at once (default: the sweep's `parallel`). */
  parallel?: number;
  /** Run at most this many trials in this call (default: until maxTrials, or the grid is exhausted). */
  trials?: number;
  /** Milliseconds a trial may take before it is failed (default 4 h, at most 48 h); the objective is not interrupted, its result is ignored. */
  timeout?: number;
}

export interface OptimizeResult {
  /** The sweep's status after this call. */
  readonly status: SweepStatus;
  /** Trials this call ran, by how they ended. */
  readonly ran: Readonly<Record<TrialOutcome['status'], number>>;
  /** Trials found running with their worker gone, marked failed (and re-queued once). */
  readonly recovered: number;
}

/** What the worker needs from the store around it. */
export interface SweepWorkerContext {
  readonly port: SweepPort;
  /** Where an in-process trial reports (for the pruner). */
  channel(): Promise<TrialChannel>;
  /** Creates (or, for a re-run, creates anew) the trial's experiment in the sweep's study, its params logged. */
  createTrialExperiment(sweep: SweepRecord, trial: TrialRecord): Experiment;
}

/** Marks running trials whose worker died as failed, and re-queues each once (a re-run is not re-queued again). */
export async function recoverOrphans(port: SweepPort, now: number): Promise<number> {
  const trials = await port.trials();
  const rerun = new Set(trials.filter((t) => t.retryOf !== null).map((t) => t.retryOf!));
  let recovered = 0;
  for (const trial of trials) {
    if (!isTrialOrphaned(trial, now)) continue;
    const worker = trial.worker!;
    const ended = await port.finish(trial.number, {
      status: 'failed',
      value: null,
      error: `its worker (pid ${worker.pid} on ${worker.host}) died while it ran`,
    });
    if (!ended) continue;
    recovered++;
    if (trial.retryOf === null && !rerun.has(trial.number)) await port.requeue(trial.number);
  }
  return recovered;
}

function failure(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `threw ${describeValue(error)}`;
}

class TrialTimeout extends Error {}

/** Runs one trial to its end (never throws: a failure is the outcome); `heartbeat` is beaten meanwhile by the worker. */
export type TrialRunner = (sweep: SweepRecord, trial: TrialRecord, pruner: Pruner) => Promise<TrialOutcome>;

/** The runner of an in-process objective: the trial's experiment is created here and given to it, within the timeout. */
export function objectiveRunner(context: SweepWorkerContext, objective: Objective, timeoutMs: number): TrialRunner {
  const { port } = context;
  return async (sweep, trial, pruner) => {
    let experiment: Experiment | undefined;
    let timer: NodeJS.Timeout | undefined;
    let outcome: TrialOutcome;
    let channel: TrialChannel | undefined;
    try {
      experiment = context.createTrialExperiment(sweep, trial);
      await port.setTrialExperiment(trial.number, experiment.id);
      channel = await context.channel();
      const handle = new Trial({ channel, pruner }, trial, experiment);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TrialTimeout()), timeoutMs);
        timer.unref();
      });
      const result = await Promise.race([Promise.resolve().then(() => objective(handle)), deadline]);
      if (isPrunedResult(result)) outcome = { status: handle.stopped ? 'stopped' : 'pruned', value: null, error: null };
      else if (typeof result === 'number' && Number.isFinite(result)) outcome = { status: 'completed', value: result, error: null };
      else {
        outcome = {
          status: 'failed',
          value: null,
          error: `the objective returned ${describeValue(result)}; it must return the value of '${sweep.metric}' (a finite number) or trial.pruned()`,
        };
      }
    } catch (error) {
      outcome =
        error instanceof TrialTimeout
          ? { status: 'failed', value: null, error: `the objective did not return within ${timeoutMs} ms (the trial's timeout)` }
          : { status: 'failed', value: null, error: failure(error) };
    } finally {
      clearTimeout(timer);
    }
    await channel?.flush();
    if (experiment !== undefined)
      await experiment.close({ status: outcome.status === 'failed' ? 'failed' : 'completed' }).catch(() => undefined);
    return outcome;
  };
}

/** Runs the sweep's trials until it is full, exhausted, stopped, or `trials` have run. */
export async function optimizeSweep(
  port: SweepPort,
  runner: TrialRunner,
  options: { parallel: number; trials: number },
): Promise<OptimizeResult> {
  const sweep = await port.sweep();
  const pruner = createPruner(sweep.pruner, sweep.goal);
  const recovered = await recoverOrphans(port, Date.now());
  const ran: Record<TrialOutcome['status'], number> = { completed: 0, pruned: 0, failed: 0, stopped: 0 };
  const worker = { host: THIS_HOST, pid: process.pid };
  let asked = 0;
  let ending: 'full' | 'exhausted' | 'closed' | 'budget' | undefined;
  const inFlight = new Set<Promise<void>>();

  const runTrial = async (trial: TrialRecord): Promise<void> => {
    // One beat at a time (a remote one may retry while the server restarts); a missed beat is only a later one.
    let beating = false;
    const heartbeat = setInterval(() => {
      if (beating) return;
      beating = true;
      port
        .heartbeat(trial.number)
        .catch(() => undefined)
        .finally(() => (beating = false));
    }, HEARTBEAT_INTERVAL_MS).unref();
    let outcome: TrialOutcome;
    try {
      outcome = await runner(sweep, trial, pruner);
    } catch (error) {
      outcome = { status: 'failed', value: null, error: failure(error) };
    } finally {
      clearInterval(heartbeat);
    }
    let told: boolean;
    try {
      told = await port.finish(trial.number, outcome);
    } catch {
      // The outcome could not be told (the server stayed away): the trial's worker is gone as far as the sweep knows.
      told = false;
    }
    ran[told ? outcome.status : 'stopped']++;
  };

  try {
    while (ending === undefined) {
      if (asked >= options.trials) {
        ending = 'budget';
        break;
      }
      if (inFlight.size >= options.parallel) {
        await Promise.race(inFlight);
        continue;
      }
      const outcome = await port.ask(worker);
      if (outcome.kind !== 'trial') {
        ending = outcome.kind;
        break;
      }
      asked++;
      const running: Promise<void> = runTrial(outcome.trial).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
  } finally {
    // An ask that failed (the server stayed away) ends the call, after the trials it gave have ended.
    await Promise.allSettled(inFlight);
  }

  // The sweep ends when nothing is left to ask and no trial of any worker is still going.
  const current = await port.sweep();
  const trials = await port.trials();
  const open = trials.some((t) => t.status === 'running' || t.status === 'pending');
  if ((ending === 'full' || ending === 'exhausted') && !open && (current.status === 'running' || current.status === 'created')) {
    const anyCompleted = trials.some((t) => t.status === 'completed');
    const status: SweepStatus = ending === 'exhausted' ? 'no_more_trials' : anyCompleted ? 'finished' : 'failed';
    await port.setStatus(status);
  }
  return { status: (await port.sweep()).status, ran, recovered };
}
