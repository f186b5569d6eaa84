// Launched trials: each trial of a sweep run as a launched run of a command (params in $LABLOG_PARAMS), its value the metric it logged last, pruned or stopped by cancelling the run.

import { isFinalRunStatus } from '../model/run.js';
import type { MetricData } from '../model/series.js';
import type { TrialOutcome } from '../model/sweep.js';
import type { SweepPort } from './sweep-port.js';
import type { LaunchOptions } from './run-options.js';
import type { Run } from './run.js';
import type { TrialRunner } from './sweep-worker.js';

/** How often a launched trial's new metric points are read, for its pruner and for a stop. */
export const LAUNCHED_TRIAL_POLL_MS = 250;

/** What a launched trial needs from its store. */
export interface LaunchedTrialContext {
  readonly port: SweepPort;
  launch(options: LaunchOptions): Run;
  /** Adds the run's experiment to the sweep's study (a sweep on a team server: the server does, once it has the run). */
  joinStudy(sweepId: string, experimentId: string): void;
  /** The points of `metric` the experiment has logged so far (empty when none). */
  readMetric(experimentId: string, metric: string): MetricData;
}

/** The launch options every trial's run gets (its params, name and project come from the trial). */
export type TrialLaunch = Omit<LaunchOptions, 'params' | 'name' | 'project'>;

export function commandRunner(context: LaunchedTrialContext, launch: TrialLaunch): TrialRunner {
  const { port } = context;
  return async (sweep, trial, pruner) => {
    const run = context.launch({ ...launch, project: sweep.project, name: `${sweep.name}-${trial.number}`, params: { ...trial.params } });
    await port.setTrialExperiment(trial.number, run.id);
    context.joinStudy(sweep.id, run.id);
    let reported = -1;
    let ending: 'pruned' | 'stopped' | undefined;
    const watch = async (): Promise<void> => {
      for (;;) {
        const live = !isFinalRunStatus(run.status);
        // Reports: the metric's points not yet given to the pruner, in step order.
        const data = context.readMetric(run.id, sweep.metric);
        for (let i = 0; i < data.steps.length; i++) {
          const step = data.steps[i]!;
          if (step <= reported) continue;
          await port.report(trial.number, step, data.values[i]!);
          reported = step;
        }
        const trials = await port.trials();
        const current = trials.find((t) => t.number === trial.number);
        if (current?.status === 'stopped') ending = 'stopped';
        else if (ending === undefined && current !== undefined && live && reported >= 0) {
          if (pruner.shouldPrune(current, trials)) ending = 'pruned';
        }
        if (ending !== undefined || !live) return;
        await new Promise((resolve) => setTimeout(resolve, LAUNCHED_TRIAL_POLL_MS));
      }
    };
    await watch();
    if (ending !== undefined) {
      try {
        run.cancel();
      } catch {
        // It ended meanwhile: its own end stands.
      }
    }
    const record = await run.wait();
    if (ending !== undefined && record.status === 'cancelled') return { status: ending, value: null, error: null };
    if (record.status === 'completed') {
      const data = context.readMetric(run.id, sweep.metric);
      const last = data.values.length > 0 ? data.values[data.values.length - 1]! : undefined;
      if (last === undefined || !Number.isFinite(last)) {
        return {
          status: 'failed',
          value: null,
          error: `the run completed but its last value of '${sweep.metric}' (the sweep's metric: the trial's value) is ${last === undefined ? 'missing' : String(last)}, not a finite number`,
        } satisfies TrialOutcome;
      }
      return { status: 'completed', value: last, error: null };
    }
    const why = record.errorMessage === null ? '' : `: ${record.errorMessage}`;
    return {
      status: 'failed',
      value: null,
      error: `the run ended ${record.status}${record.exitCode !== null ? ` (exit ${record.exitCode})` : ''}${why}`,
    };
  };
}
