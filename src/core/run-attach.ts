// Run attach: inside a launched child, which experiment the first createExperiment opens instead of creating one.

import { resolve } from 'node:path';

/** Set by the supervisor for its child: the store of the run, and the run's experiment. */
export const RUN_STORE_ENV = 'LABLOG_STORE';
export const RUN_EXPERIMENT_ENV = 'LABLOG_EXPERIMENT_ID';
/** The params given at launch, as JSON. */
export const RUN_PARAMS_ENV = 'LABLOG_PARAMS';
/** The attempt the child is, from 1 (a retry is 2, 3, …). */
export const RUN_ATTEMPT_ENV = 'LABLOG_RUN_ATTEMPT';

let claimed = false;

/**
 * The launched experiment's id when this process is a run's child, the store at `storePath` is the run's,
 * and no experiment attached to it yet in this process (the first createExperiment attaches; later ones
 * create experiments as usual). Claims it.
 */
export function claimLaunchedExperiment(storePath: string): string | undefined {
  if (claimed) return undefined;
  const id = process.env[RUN_EXPERIMENT_ENV];
  const store = process.env[RUN_STORE_ENV];
  if (!id || !store || resolve(store) !== storePath) return undefined;
  claimed = true;
  return id;
}
