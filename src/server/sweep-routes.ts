// Sweep read routes: the sweeps of the key's projects, one sweep with its trials and results (best, history, importances), and its trials by status.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bestTrial, sweepHistory, sweepImportances } from '../core/sweep-results.js';
import { LablogError } from '../model/errors.js';
import { TRIAL_STATUSES, type SweepRecord, type TrialRecord } from '../model/sweep.js';
import type { ServerBackend } from '../store/server-backend.js';
import { MAX_SWEEPS_LISTED, type SweepDetail, type SweepList, type SweepTrials, type TrialSummary } from '../ui/ui-api.js';
import { UUID, projectInScope, valuesIn, type Query } from './query-params.js';

/** A trial without its intermediate values: their count and the last one. */
export function trialSummary(trial: TrialRecord): TrialSummary {
  const { reports, ...rest } = trial;
  return { ...rest, reportCount: reports.length, lastReport: reports[reports.length - 1] ?? null };
}

/** The sweep, if the key may see it: another project's sweep is not found, as a missing one (its existence is not disclosed). */
export async function visibleSweep(backend: ServerBackend, request: FastifyRequest, id: string): Promise<SweepRecord> {
  const record = UUID.test(id) ? await backend.sweeps().getSweep(id) : undefined;
  if (record === undefined || !request.apiKey.projects.includes(record.project)) {
    throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id '${id.slice(0, 40)}'`, { id: id.slice(0, 40) });
  }
  return record;
}

export function registerSweepRoutes(app: FastifyInstance, backend: ServerBackend): void {
  const sweeps = () => backend.sweeps();

  app.get('/api/v1/sweeps', async (request): Promise<SweepList> => {
    const project = projectInScope(request.query as Query, request.apiKey.projects);
    const projects = project !== undefined ? [project] : request.apiKey.projects;
    const lists = await Promise.all(projects.map((p) => sweeps().listSweeps(p)));
    const all = lists.flat().sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
    return { sweeps: all.slice(0, MAX_SWEEPS_LISTED), truncated: all.length > MAX_SWEEPS_LISTED };
  });

  app.get<{ Params: { id: string } }>('/api/v1/sweeps/:id', async (request): Promise<SweepDetail> => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    const trials = await sweeps().trials(sweep.id);
    return {
      sweep,
      trials: trials.map(trialSummary),
      best: bestTrial(sweep, trials),
      history: sweepHistory(sweep, trials),
      importances: sweepImportances(sweep, trials),
    };
  });

  app.get<{ Params: { id: string } }>('/api/v1/sweeps/:id/trials', async (request): Promise<SweepTrials> => {
    // The query is checked before the sweep is looked up: a bad status is the same answer for any id.
    const wanted = valuesIn(request.query as Query, 'status', TRIAL_STATUSES);
    const sweep = await visibleSweep(backend, request, request.params.id);
    const trials = await sweeps().trials(sweep.id);
    return { trials: (wanted.length === 0 ? trials : trials.filter((t) => wanted.includes(t.status))).map(trialSummary) };
  });
}
