// Trial rules: which trials can be stopped (pending or running) and restarted (ended), the same for the library, the CLI and the server.

import { LablogError } from '../model/errors.js';
import { FINAL_TRIAL_STATUSES, type TrialRecord } from '../model/sweep.js';

const ended = (trial: TrialRecord) => (FINAL_TRIAL_STATUSES as readonly string[]).includes(trial.status);

/** INVALID_OPTION unless the trial is pending or running. */
export function assertStoppable(trial: TrialRecord): void {
  if (ended(trial)) {
    throw new LablogError('INVALID_OPTION', `stopTrial: trial ${trial.number} has ended (${trial.status}); there is nothing to stop`, {
      option: 'number',
    });
  }
}

/** INVALID_OPTION unless the trial has ended. */
export function assertRestartable(trial: TrialRecord): void {
  if (!ended(trial)) {
    throw new LablogError(
      'INVALID_OPTION',
      `restartTrial: trial ${trial.number} is ${trial.status}; only an ended trial can be restarted`,
      {
        option: 'number',
      },
    );
  }
}
