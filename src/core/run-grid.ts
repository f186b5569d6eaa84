// Grid launch: every combination of a grid of params launched as a run of a new grid_search study, at most `parallel` at a time.

import { LablogError, describeValue } from '../model/errors.js';
import { isFinalRunStatus, type RunRecord } from '../model/run.js';
import { METRIC_GOALS, defaultMetricGoal, type Goal } from '../model/metric-goal.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';
import { gridOf, MAX_GRID_SIZE } from './study-template.js';
import { MAX_STUDY_EXPERIMENTS } from './study-rules.js';
import { LAUNCH_OPTIONS, resolveLaunch, type LaunchOptions, type LaunchParam } from './run-options.js';
import type { Run } from './run.js';
import type { Study } from './study.js';

/** The most runs of a grid that may run at once. */
export const MAX_GRID_PARALLEL = 64;

export interface LaunchGridOptions extends Omit<LaunchOptions, 'params'> {
  /** Values to try per param: one run per combination, in the order gridOf lists them (the last param varies fastest). */
  grid: Record<string, LaunchParam[]>;
  /** Params every run gets besides its combination. */
  params?: Record<string, LaunchParam>;
  /** Runs at once (default 1, at most MAX_GRID_PARALLEL). */
  parallel?: number;
  /** The study's name (default: the runs' name). */
  study?: string;
  /** The metric the study compares the runs on (default: none; the summary then has no metric column). */
  metric?: string;
  /** Whether lower or higher `metric` is better (default: read from its name, e.g. loss → minimize). */
  objective?: Goal;
}

/** One combination of a grid launch: its params and, once launched, its run. */
export interface GridEntry {
  readonly params: Readonly<Record<string, LaunchParam>>;
  /** The run's record (its final one after wait()); null when it was never launched (the grid was cancelled first). */
  readonly run: RunRecord | null;
}

const GRID_OPTIONS = ['grid', 'params', 'parallel', 'study', 'metric', 'objective'] as const;

function invalid(message: string, option: string, extra: { limit?: number; actual?: unknown } = {}): LablogError {
  return new LablogError('INVALID_OPTION', `launchGrid: ${message}`, { option, ...extra });
}

/** Checks the grid options and returns the combinations, the parallelism and the study's template parameters. */
export function resolveGrid(options: LaunchGridOptions): {
  combinations: Record<string, LaunchParam>[];
  parallel: number;
  launch: Omit<LaunchOptions, 'params'>;
  metric: string | undefined;
  objective: Goal | undefined;
} {
  assertOptionsObject('launchGrid', options);
  if (options === undefined) throw invalid('options { command, grid } are required', 'grid');
  assertKnownOptions('launchGrid', options, [...GRID_OPTIONS, ...LAUNCH_OPTIONS.filter((o) => o !== 'params')]);
  const { grid, params, parallel: parallelOption, study: _study, metric, objective, ...launch } = options;
  void _study;
  if (typeof grid !== 'object' || grid === null || Array.isArray(grid) || Object.keys(grid).length === 0) {
    throw invalid(`grid must be an object of param → [values…] with at least one param, got ${describeValue(grid)}`, 'grid');
  }
  let size = 1;
  for (const [key, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw invalid(`grid.${key} must be a non-empty array of values, got ${describeValue(values)}`, 'grid');
    }
    if (params !== undefined && Object.hasOwn(params, key)) {
      throw invalid(`param '${key}' is both in grid and in params; give it in one of them`, 'params');
    }
    size *= values.length;
  }
  // Every run joins the grid's study, which holds at most MAX_STUDY_EXPERIMENTS.
  const most = Math.min(MAX_GRID_SIZE, MAX_STUDY_EXPERIMENTS);
  if (size > most) {
    throw invalid(`the grid has ${size} combinations; the limit is ${most} (a study's experiments)`, 'grid', { limit: most, actual: size });
  }
  const parallel = parallelOption ?? 1;
  if (!Number.isSafeInteger(parallel) || parallel < 1 || parallel > MAX_GRID_PARALLEL) {
    throw invalid(`parallel must be an integer from 1 to ${MAX_GRID_PARALLEL}, got ${describeValue(parallel)}`, 'parallel', {
      limit: MAX_GRID_PARALLEL,
      actual: parallel,
    });
  }
  if (metric !== undefined && (typeof metric !== 'string' || metric.length === 0)) {
    throw invalid(`metric must be a metric's name, got ${describeValue(metric)}`, 'metric');
  }
  if (objective !== undefined && !(METRIC_GOALS as readonly unknown[]).includes(objective)) {
    throw invalid(`objective must be one of ${METRIC_GOALS.join(', ')}, got ${describeValue(objective)}`, 'objective');
  }
  if (objective !== undefined && metric === undefined) throw invalid('objective needs metric: the metric it applies to', 'objective');
  const combinations = gridOf(grid).map((combination) => ({ ...params, ...combination }));
  // Every run gets the same options but its params: refuse bad ones before the study is created.
  for (const combination of combinations) resolveLaunch({ ...launch, params: combination });
  return {
    combinations,
    parallel,
    launch,
    metric,
    objective: metric === undefined ? undefined : (objective ?? defaultMetricGoal(metric)),
  };
}

/** What the store gives a grid launch: launching one run, and the run's study. */
export interface GridContext {
  launch(options: LaunchOptions): Run;
}

/** A grid being launched: its study, the combinations (with their runs once launched), cancel and wait. */
export class GridLaunch {
  readonly study: Study;
  readonly parallel: number;
  readonly #context: GridContext;
  readonly #launch: Omit<LaunchOptions, 'params'>;
  readonly #combinations: Record<string, LaunchParam>[];
  readonly #runs: (Run | undefined)[];
  readonly #baseName: string;
  #next = 0;
  #cancelled = false;
  readonly done: Promise<GridEntry[]>;
  #wake: (() => void) | undefined;

  /** @internal Use store.launchGrid(). */
  constructor(context: GridContext, study: Study, resolved: ReturnType<typeof resolveGrid>, baseName: string) {
    this.#context = context;
    this.study = study;
    this.parallel = resolved.parallel;
    this.#launch = resolved.launch;
    this.#combinations = resolved.combinations;
    this.#runs = new Array<Run | undefined>(resolved.combinations.length).fill(undefined);
    this.#baseName = baseName;
    this.done = this.#drive();
    // A failure reaches whoever awaits wait(); never an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
  }

  /** The runs launched so far, in grid order. */
  runs(): Run[] {
    return this.#runs.filter((r): r is Run => r !== undefined);
  }

  /** Launches no more combinations and cancels the runs in flight. */
  cancel(): void {
    this.#cancelled = true;
    for (const run of this.runs()) {
      try {
        if (!isFinalRunStatus(run.status)) run.cancel();
      } catch (error) {
        // It ended between the status read and the request.
        if (!(error instanceof LablogError && error.code === 'RUN_ENDED')) throw error;
      }
    }
    this.#wake?.();
  }

  /** Resolves once every launched run has ended: each combination with its final record (null if never launched). */
  wait(): Promise<GridEntry[]> {
    return this.done;
  }

  async #drive(): Promise<GridEntry[]> {
    const inFlight = new Set<Promise<unknown>>();
    while (this.#next < this.#combinations.length && !this.#cancelled) {
      if (inFlight.size >= this.parallel) {
        await Promise.race([...inFlight, new Promise<void>((resolve) => (this.#wake = resolve))]);
        continue;
      }
      const index = this.#next++;
      const params = this.#combinations[index]!;
      let run: Run;
      try {
        run = this.#context.launch({ ...this.#launch, name: `${this.#baseName}-${index + 1}`, params });
      } catch (error) {
        // The same options are refused for every combination: stop the grid, let what runs finish.
        this.#cancelled = true;
        await Promise.allSettled(inFlight);
        throw error;
      }
      this.#runs[index] = run;
      this.study.addExperiment(run.id, {
        notes: Object.entries(params)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(' '),
      });
      const ended: Promise<unknown> = run.wait().finally(() => inFlight.delete(ended));
      inFlight.add(ended);
    }
    await Promise.allSettled(inFlight);
    return this.#combinations.map((params, index) => ({ params, run: this.#runs[index]?.record() ?? null }));
  }
}
