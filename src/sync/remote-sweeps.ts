// Remote sweeps: a team server's sweep routes for workers and tools — each call retried across the server's restarts, an ask made idempotent by its token, an experiment linked once the server has it.

import { randomUUID } from 'node:crypto';
import { LablogError } from '../model/errors.js';
import { isUuid } from '../model/ids.js';
import type { AskOutcome, SweepRecord, TrialRecord, TrialStatus } from '../model/sweep.js';
import type { RemoteSpec } from '../core/publishing.js';
import type { RemoteSweepApi, RemoteSweepDetail } from '../core/remote-sweep.js';
import type { CreateSweepOptions } from '../core/sweep-options.js';
import type { SweepPort } from '../core/sweep-port.js';
import { RemoteClient, type RetryPolicy } from './remote-client.js';

/** How long a worker's call retries a server that is down or restarting before it fails. */
export const REMOTE_SWEEP_RETRY_MS = 120_000;

const path = (sweepId: string, rest = '') => `/api/v1/sweeps/${encodeURIComponent(sweepId)}${rest}`;
const trialPath = (sweepId: string, number: number, rest: string) => path(sweepId, `/trials/${number}/${rest}`);

export function remoteSweepApi(remote: RemoteSpec): RemoteSweepApi {
  const client = new RemoteClient(remote);
  const retry = (): RetryPolicy => ({ deadline: Date.now() + REMOTE_SWEEP_RETRY_MS });
  const call = <T>(method: string, url: string, body?: unknown) => client.call<T>(method, url, body, retry());

  const find = async (idOrName: string, project?: string): Promise<SweepRecord> => {
    if (isUuid(idOrName)) {
      try {
        return (await call<{ sweep: SweepRecord }>('GET', path(idOrName))).sweep;
      } catch (error) {
        if ((error as LablogError).code !== 'SWEEP_NOT_FOUND') throw error;
      }
    }
    const query = project === undefined ? '' : `?project=${encodeURIComponent(project)}`;
    const found = (await call<{ sweeps: SweepRecord[] }>('GET', `/api/v1/sweeps${query}`)).sweeps.filter((s) => s.name === idOrName);
    if (found.length > 1) {
      throw new LablogError(
        'AMBIGUOUS_NAME',
        `sweep name '${idOrName}' exists in projects ${found.map((s) => s.project).join(', ')} on ${client.url}; pass a project`,
        { key: idOrName },
      );
    }
    if (found.length === 0)
      throw new LablogError('SWEEP_NOT_FOUND', `no sweep with id or name '${idOrName}' on ${client.url}`, { key: idOrName });
    return found[0]!;
  };

  const port = (sweepId: string): SweepPort => {
    // Experiments the server did not have yet when linked: linked again at each beat and before the tell.
    const unlinked = new Map<number, string>();
    const link = async (number: number): Promise<void> => {
      const experimentId = unlinked.get(number);
      if (experimentId === undefined) return;
      const answer = await call<{ linked: boolean }>('PUT', trialPath(sweepId, number, 'experiment'), { experimentId });
      if (answer.linked) unlinked.delete(number);
    };
    return {
      sweepId,
      sweep: async () => (await call<{ sweep: SweepRecord }>('GET', path(sweepId))).sweep,
      trials: async () => (await call<{ trials: TrialRecord[] }>('GET', path(sweepId, '/trial-records'))).trials,
      // One token per ask, the same in each of its retries: an ask the server answered but whose answer was lost gets the same trial.
      ask: async (worker) => (await call<{ outcome: AskOutcome }>('POST', path(sweepId, '/ask'), { worker, token: randomUUID() })).outcome,
      setTrialExperiment: async (number, experimentId) => {
        unlinked.set(number, experimentId);
        await link(number);
      },
      report: async (number, step, value) =>
        (await call<{ status: TrialStatus }>('POST', trialPath(sweepId, number, 'report'), { step, value })).status,
      heartbeat: async (number) => {
        await link(number);
        await call('POST', trialPath(sweepId, number, 'heartbeat'), {});
      },
      finish: async (number, outcome) => {
        await link(number).catch(() => undefined);
        unlinked.delete(number);
        return (await call<{ ended: boolean }>('POST', trialPath(sweepId, number, 'finish'), { outcome })).ended;
      },
      requeue: async (number) => (await call<{ trial: TrialRecord }>('POST', trialPath(sweepId, number, 'restart'), {})).trial,
      setStatus: async (status) => {
        await call('POST', path(sweepId, '/status'), { status });
      },
      flush: async () => undefined,
    };
  };

  return {
    url: client.url,
    create: async (options: CreateSweepOptions) => (await call<{ sweep: SweepRecord }>('POST', '/api/v1/sweeps', options)).sweep,
    find,
    list: async (project) =>
      (
        await call<{ sweeps: SweepRecord[] }>(
          'GET',
          `/api/v1/sweeps${project === undefined ? '' : `?project=${encodeURIComponent(project)}`}`,
        )
      ).sweeps,
    port,
    detail: (sweepId) => call<RemoteSweepDetail>('GET', path(sweepId)),
    stopTrial: async (sweepId, number) => (await call<{ trial: TrialRecord }>('POST', trialPath(sweepId, number, 'stop'), {})).trial,
    restartTrial: async (sweepId, number) => (await call<{ trial: TrialRecord }>('POST', trialPath(sweepId, number, 'restart'), {})).trial,
  };
}
