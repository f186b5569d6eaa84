// Whether resumeFrom may take over an experiment: not while another live process logs into it.

import { LablogError } from '../model/errors.js';
import { THIS_HOST, isCrashed } from './liveness.js';
import type { ExperimentRecord } from '../model/experiment.js';
import type { StoreBackend } from '../store/backend.js';

/**
 * The experiment's current record, when this process may resume it. Running in another live process:
 * EXPERIMENT_RUNNING. Running under this process's id with no handle open here (its close() could not
 * write everything yet) is this process's own.
 */
export function takeOverRecord(backend: StoreBackend, id: string, name: string, now: number): ExperimentRecord {
  const current = backend.getExperiment(id);
  if (current === undefined) throw new LablogError('EXPERIMENT_NOT_FOUND', `experiment ${id} no longer exists`, { id });
  const ownRecord = current.pid === process.pid && current.hostname === THIS_HOST;
  if (current.status === 'running' && !ownRecord && !isCrashed(current, now)) {
    throw new LablogError(
      'EXPERIMENT_RUNNING',
      `experiment '${name}' is still running in process ${current.pid ?? '?'} on ${current.hostname ?? '?'}; close it there first`,
      { experiment: name, pid: current.pid, hostname: current.hostname },
    );
  }
  return current;
}
