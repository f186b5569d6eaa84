// Sweep trial routes: what remote sweep workers and tools write — create a sweep, ask for a trial (sampled here), report, beat, tell, stop and restart — within the API key's projects.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError, describeValue } from '../model/errors.js';
import { isUuid } from '../model/ids.js';
import {
  MAX_SWEEP_EXPERIMENTS,
  SWEEP_STATUSES,
  type SweepRecord,
  type TrialOutcome,
  type TrialRecord,
  type TrialWorker,
} from '../model/sweep.js';
import { askWithSampler, readSweep } from '../core/sweep-port.js';
import { resumableSweep, sweepRecordsFrom, type CreateSweepOptions } from '../core/sweep-options.js';
import { assertRestartable, assertStoppable } from '../core/trial-rules.js';
import type { ServerBackend } from '../store/server-backend.js';
import { visibleSweep } from './sweep-routes.js';

/** The longest worker host name an ask may carry. */
export const MAX_WORKER_HOST_LENGTH = 255;
/** A trial's outcome as a worker tells it. */
const OUTCOME_STATUSES = ['completed', 'pruned', 'failed', 'stopped'] as const;
/** Statuses a worker may set on a sweep (the end of its search, or running again). */
const SETTABLE_SWEEP_STATUSES = SWEEP_STATUSES.filter((s) => s !== 'created');

type SweepParams = { Params: { id: string } };
type TrialParams = { Params: { id: string; number: string } };

function invalid(field: string, rule: string, value: unknown): LablogError {
  return new LablogError('INVALID_OPTION', `${field} ${rule}, got ${describeValue(value)}`, { field });
}

function body(request: FastifyRequest): Record<string, unknown> {
  const b = request.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw invalid('body', 'must be a JSON object', b);
  return b as Record<string, unknown>;
}

function trialNumber(text: string): number {
  const n = Number(text);
  if (!/^\d{1,9}$/.test(text) || !Number.isSafeInteger(n)) throw invalid('trial number', 'must be an integer >= 0', text.slice(0, 40));
  return n;
}

function worker(value: unknown): TrialWorker {
  const w = value as { host?: unknown; pid?: unknown } | null;
  if (typeof w !== 'object' || w === null) throw invalid('worker', 'must be { host, pid }', value);
  if (typeof w.host !== 'string' || w.host.length === 0 || w.host.length > MAX_WORKER_HOST_LENGTH) {
    throw invalid('worker.host', `must be a non-empty string of at most ${MAX_WORKER_HOST_LENGTH} characters`, w.host);
  }
  if (!Number.isSafeInteger(w.pid) || (w.pid as number) < 0) throw invalid('worker.pid', 'must be an integer >= 0', w.pid);
  return { host: w.host, pid: w.pid as number };
}

function outcome(value: unknown): TrialOutcome {
  const o = value as { status?: unknown; value?: unknown; error?: unknown } | null;
  if (typeof o !== 'object' || o === null) throw invalid('outcome', 'must be { status, value, error }', value);
  if (!(OUTCOME_STATUSES as readonly unknown[]).includes(o.status)) {
    throw invalid('outcome.status', `must be one of ${OUTCOME_STATUSES.join(', ')}`, o.status);
  }
  const status = o.status as TrialOutcome['status'];
  if (o.value !== null && (typeof o.value !== 'number' || !Number.isFinite(o.value)))
    throw invalid('outcome.value', 'must be a finite number or null', o.value);
  if (status === 'completed' && o.value === null)
    throw invalid('outcome.value', "must be a finite number for a 'completed' trial", o.value);
  if (o.error !== null && typeof o.error !== 'string') throw invalid('outcome.error', 'must be a string or null', o.error);
  return { status, value: o.value as number | null, error: o.error as string | null };
}

async function visibleTrial(
  backend: ServerBackend,
  request: FastifyRequest,
  id: string,
  number: string,
): Promise<[SweepRecord, TrialRecord]> {
  const sweep = await visibleSweep(backend, request, id);
  const n = trialNumber(number);
  const trial = (await backend.sweeps().trials(sweep.id)).find((t) => t.number === n);
  if (trial === undefined) throw new LablogError('TRIAL_NOT_FOUND', `no trial ${n} in sweep '${sweep.name}'`, { id: sweep.id, number: n });
  return [sweep, trial];
}

/**
 * Links the trial to its experiment once this server has that experiment, in the sweep's project (an
 * experiment of another project is never linked: its data would show in this sweep's study), and adds it to
 * the sweep's study. True when linked.
 */
async function link(backend: ServerBackend, sweep: SweepRecord, trial: TrialRecord, experimentId: unknown): Promise<boolean> {
  if (typeof experimentId !== 'string' || !isUuid(experimentId))
    throw invalid('experimentId', 'must be an experiment id (a UUID)', experimentId);
  const experiment = await backend.getExperiment(experimentId);
  if (experiment === undefined) return false;
  if (experiment.project !== sweep.project) {
    throw new LablogError('FORBIDDEN', `experiment ${experimentId} is not in project '${sweep.project}' (the sweep's)`, {
      id: experimentId,
    });
  }
  if (trial.experimentId !== experimentId) await backend.sweeps().setTrialExperiment(sweep.id, trial.number, experimentId);
  const studies = backend.studies();
  const member = await studies.studyOf(experimentId);
  if (member === undefined)
    await studies.addMember(sweep.id, { experimentId, notes: null, tags: [], addedAt: Date.now() }, MAX_SWEEP_EXPERIMENTS);
  else if (member !== sweep.id)
    throw new LablogError('FORBIDDEN', `experiment ${experimentId} belongs to another study`, { id: experimentId });
  return true;
}

export function registerSweepTrialRoutes(app: FastifyInstance, backend: ServerBackend): void {
  const sweeps = backend.sweeps();

  app.post('/api/v1/sweeps', async (request, reply) => {
    const options = body(request) as unknown as CreateSweepOptions;
    const { study, sweep } = sweepRecordsFrom(options, Date.now());
    if (!request.apiKey.projects.includes(study.project)) {
      throw new LablogError('FORBIDDEN', `this API key cannot write project '${study.project}'`, { project: study.project });
    }
    if (options.loadIfExists === true) {
      const existing = (await sweeps.listSweeps(study.project)).find((s) => s.name === study.name);
      if (existing !== undefined) return { sweep: resumableSweep('createSweep', existing, sweep), created: false };
    }
    const created = await sweeps.createSweep(study, sweep);
    return reply.code(201).send({ sweep: created, created: true });
  });

  // Every trial with its reports (GET /api/v1/sweeps/:id/trials gives summaries): what a remote worker's pruner reads.
  app.get<SweepParams>('/api/v1/sweeps/:id/trial-records', async (request) => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    return { trials: await sweeps.trials(sweep.id) };
  });

  app.post<SweepParams>('/api/v1/sweeps/:id/ask', async (request) => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    const b = body(request);
    if (b['token'] !== undefined && (typeof b['token'] !== 'string' || !isUuid(b['token'])))
      throw invalid('token', 'must be a UUID', b['token']);
    const outcome = await askWithSampler(sweeps, sweep, worker(b['worker']), Date.now(), b['token'] as string | undefined);
    return { outcome };
  });

  app.post<SweepParams>('/api/v1/sweeps/:id/status', async (request) => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    const status = body(request)['status'];
    if (!(SETTABLE_SWEEP_STATUSES as readonly unknown[]).includes(status)) {
      throw invalid('status', `must be one of ${SETTABLE_SWEEP_STATUSES.join(', ')}`, status);
    }
    await sweeps.setSweepStatus(sweep.id, status as SweepRecord['status'], Date.now());
    return { sweep: await readSweep(sweeps, sweep.id) };
  });

  app.put<TrialParams>('/api/v1/sweeps/:id/trials/:number/experiment', async (request) => {
    const [sweep, trial] = await visibleTrial(backend, request, request.params.id, request.params.number);
    return { linked: await link(backend, sweep, trial, body(request)['experimentId']) };
  });

  app.post<TrialParams>('/api/v1/sweeps/:id/trials/:number/report', async (request) => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    const n = trialNumber(request.params.number);
    const b = body(request);
    if (!Number.isSafeInteger(b['step']) || (b['step'] as number) < 0) throw invalid('step', 'must be an integer >= 0', b['step']);
    if (typeof b['value'] !== 'number') throw invalid('value', 'must be a number', b['value']);
    const status = await sweeps.reportTrial(sweep.id, n, b['step'] as number, b['value'], Date.now());
    if (status === undefined)
      throw new LablogError('TRIAL_NOT_FOUND', `no trial ${n} in sweep '${sweep.name}'`, { id: sweep.id, number: n });
    return { status };
  });

  app.post<TrialParams>('/api/v1/sweeps/:id/trials/:number/heartbeat', async (request) => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    await sweeps.heartbeat(sweep.id, trialNumber(request.params.number), Date.now());
    return { ok: true };
  });

  app.post<TrialParams>('/api/v1/sweeps/:id/trials/:number/finish', async (request) => {
    const sweep = await visibleSweep(backend, request, request.params.id);
    const told = outcome(body(request)['outcome']);
    const n = trialNumber(request.params.number);
    if (await sweeps.finishTrial(sweep.id, n, told, Date.now())) return { ended: true };
    // The same tell again (its answer was lost): it did end the trial.
    const trial = (await sweeps.trials(sweep.id)).find((t) => t.number === n);
    return { ended: trial !== undefined && trial.status === told.status && trial.value === told.value };
  });

  app.post<TrialParams>('/api/v1/sweeps/:id/trials/:number/stop', async (request) => {
    const [sweep, trial] = await visibleTrial(backend, request, request.params.id, request.params.number);
    assertStoppable(trial);
    await sweeps.finishTrial(sweep.id, trial.number, { status: 'stopped', value: null, error: null }, Date.now());
    // A trial run published live here is cancelled through its supervisor, as `lablog cancel` would.
    if (trial.experimentId !== null && (await backend.runs().getRun(trial.experimentId)) !== undefined) {
      await backend.runs().requestCancel(trial.experimentId, Date.now());
    }
    return { trial: (await sweeps.trials(sweep.id)).find((t) => t.number === trial.number) };
  });

  app.post<TrialParams>('/api/v1/sweeps/:id/trials/:number/restart', async (request, reply) => {
    const [sweep, trial] = await visibleTrial(backend, request, request.params.id, request.params.number);
    assertRestartable(trial);
    // Restarted already and not yet taken (a request sent again): that re-run, not a second one.
    const queued = (await sweeps.trials(sweep.id)).find((t) => t.retryOf === trial.number && t.status === 'pending');
    if (queued !== undefined) return reply.code(200).send({ trial: queued });
    const now = Date.now();
    if (sweep.status !== 'created' && sweep.status !== 'running') await sweeps.setSweepStatus(sweep.id, 'running', now);
    return reply.code(201).send({ trial: await sweeps.requeueTrial(sweep.id, trial.number, now) });
  });
}
