// Sweep read routes on a real server process (SQLite and PostgreSQL): list, one sweep with its results, trials by status, scoped to the key's projects.

import { describe, expect, it } from 'vitest';
import { sweepRecordsFrom } from '../src/core/sweep-options.js';
import { bestTrial, sweepHistory, sweepImportances } from '../src/core/sweep-results.js';
import type { TrialOutcome, TrialParams } from '../src/model/sweep.js';
import { openServerBackend } from '../src/store/open-server-backend.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

const WORKER = { host: 'seed', pid: 1 };

/** Trials as the seed gives them: params, and how each ends (undefined: left running). */
type SeedTrial = { params: TrialParams; outcome?: TrialOutcome; reports?: number[] };

/** A sweep made through the server's own store (as its write routes and workers do), with trials asked and told. */
async function seedSweep(db: string, name: string, project: string, trials: readonly SeedTrial[]): Promise<string> {
  const backend = await openServerBackend(db);
  try {
    const { study, sweep } = sweepRecordsFrom(
      {
        name,
        project,
        metric: 'val/loss',
        space: { lr: { type: 'float', min: 0.001, max: 1, log: true }, opt: { type: 'enum', values: ['sgd', 'adam'] } },
        sampler: { type: 'random', seed: 5 },
        maxTrials: 30,
      },
      Date.now(),
    );
    const record = await backend.sweeps().createSweep(study, sweep);
    for (const t of trials) {
      const asked = await backend.sweeps().askTrial(record.id, WORKER, () => t.params, Date.now());
      if (asked.kind !== 'trial') throw new Error(`ask gave ${asked.kind}`);
      for (const [step, value] of (t.reports ?? []).entries())
        await backend.sweeps().reportTrial(record.id, asked.trial.number, step, value, Date.now());
      if (t.outcome !== undefined) await backend.sweeps().finishTrial(record.id, asked.trial.number, t.outcome, Date.now());
    }
    return record.id;
  } finally {
    await backend.close();
  }
}

const done = (value: number): TrialOutcome => ({ status: 'completed', value, error: null });

const TRIALS: SeedTrial[] = [
  { params: { lr: 0.1, opt: 'sgd' }, outcome: done(0.5), reports: [0.9, 0.6, 0.5] },
  { params: { lr: 0.01, opt: 'adam' }, outcome: done(0.3) },
  { params: { lr: 0.5, opt: 'sgd' }, outcome: { status: 'pruned', value: null, error: null }, reports: [2] },
  { params: { lr: 0.05, opt: 'adam' }, outcome: done(0.35) },
  { params: { lr: 0.002, opt: 'sgd' }, outcome: { status: 'failed', value: null, error: 'diverged' } },
  { params: { lr: 0.02, opt: 'adam' }, outcome: done(0.2) },
  { params: { lr: 0.3, opt: 'sgd' }, outcome: done(0.8) },
  { params: { lr: 0.03, opt: 'adam' } },
];

describe.each(SERVER_DATABASES)('sweep read routes on $kind', ({ create }) => {
  it('list, show and filter trials of the key’s sweeps, with the library’s best, history and importances', async () => {
    const db = await create();
    const key = await createKey(db, 'vision');
    const other = await createKey(db, 'nlp');
    const both = await createKey(db, 'vision', 'nlp');
    const id = await seedSweep(db, 'tune', 'vision', TRIALS);
    const theirs = await seedSweep(db, 'secret', 'nlp', [{ params: { lr: 0.1, opt: 'sgd' }, outcome: done(0.01) }]);
    const server = await startServer(db);

    // The list: only the key's projects, newest first.
    const list = await api(server, key, 'GET', '/api/v1/sweeps');
    expect(list.status).toBe(200);
    expect(list.data.sweeps.map((s: { id: string }) => s.id)).toEqual([id]);
    expect(list.data.truncated).toBe(false);
    expect(list.data.sweeps[0]).toMatchObject({ id, name: 'tune', project: 'vision', metric: 'val/loss', goal: 'minimize', maxTrials: 30 });
    expect(list.data.sweeps[0].status).toBe('running');
    const all = (await api(server, both, 'GET', '/api/v1/sweeps')).data.sweeps as { id: string; createdAt: number }[];
    expect(all.map((s) => s.id).sort()).toEqual([id, theirs].sort());
    expect(all[0]!.createdAt).toBeGreaterThanOrEqual(all[1]!.createdAt);
    expect((await api(server, both, 'GET', '/api/v1/sweeps?project=nlp')).data.sweeps.map((s: { id: string }) => s.id)).toEqual([theirs]);
    expect((await api(server, other, 'GET', '/api/v1/sweeps')).data.sweeps.map((s: { id: string }) => s.id)).toEqual([theirs]);
    const forbidden = await api(server, key, 'GET', '/api/v1/sweeps?project=nlp');
    expect(forbidden.status).toBe(403);
    expect(forbidden.data.error).toBe('FORBIDDEN');

    // One sweep: its trials by number (reports summarised) and the same results the library computes.
    const detail = await api(server, key, 'GET', `/api/v1/sweeps/${id}`);
    expect(detail.status).toBe(200);
    const { sweep, trials, best, history, importances } = detail.data;
    expect(sweep).toMatchObject({ id, name: 'tune', project: 'vision' });
    expect(trials.map((t: { number: number; status: string }) => [t.number, t.status])).toEqual([
      [0, 'completed'],
      [1, 'completed'],
      [2, 'pruned'],
      [3, 'completed'],
      [4, 'failed'],
      [5, 'completed'],
      [6, 'completed'],
      [7, 'running'],
    ]);
    expect(trials[0]).toMatchObject({ params: { lr: 0.1, opt: 'sgd' }, value: 0.5, reportCount: 3, lastReport: { step: 2, value: 0.5 } });
    expect(trials[0].reports).toBeUndefined();
    expect(trials[4]).toMatchObject({ error: 'diverged', value: null });
    expect(best).toEqual({ trial: 5, params: { lr: 0.02, opt: 'adam' }, value: 0.2, experimentId: null });
    expect(history).toEqual([
      { trial: 0, value: 0.5, best: 0.5 },
      { trial: 1, value: 0.3, best: 0.3 },
      { trial: 3, value: 0.35, best: 0.3 },
      { trial: 5, value: 0.2, best: 0.2 },
      { trial: 6, value: 0.8, best: 0.2 },
    ]);
    // The numbers of core/sweep-results.ts over the stored records.
    const backend = await openServerBackend(db);
    try {
      const stored = await backend.sweeps().trials(id);
      const record = (await backend.sweeps().getSweep(id))!;
      expect(best).toEqual(bestTrial(record, stored));
      expect(history).toEqual(sweepHistory(record, stored));
      expect(importances).toEqual(sweepImportances(record, stored));
    } finally {
      await backend.close();
    }
    expect(importances.map((i: { param: string }) => i.param).sort()).toEqual(['lr', 'opt']);
    expect(importances.reduce((a: number, i: { importance: number }) => a + i.importance, 0)).toBeCloseTo(1, 12);

    // Trials by status: one, several (repeated or comma-separated), none given.
    const completed = await api(server, key, 'GET', `/api/v1/sweeps/${id}/trials?status=completed`);
    expect(completed.status).toBe(200);
    expect(completed.data.trials.map((t: { number: number }) => t.number)).toEqual([0, 1, 3, 5, 6]);
    const ended = await api(server, key, 'GET', `/api/v1/sweeps/${id}/trials?status=pruned,failed&status=running`);
    expect(ended.data.trials.map((t: { number: number }) => t.number)).toEqual([2, 4, 7]);
    expect((await api(server, key, 'GET', `/api/v1/sweeps/${id}/trials`)).data.trials).toHaveLength(8);
    const bad = await api(server, key, 'GET', `/api/v1/sweeps/${id}/trials?status=completed,finished`);
    expect(bad.status).toBe(400);
    expect(bad.data).toMatchObject({ error: 'INVALID_OPTION', details: { field: 'status', actual: 'finished' } });
    expect(bad.data.message).toContain("got 'finished'");
    // A long value is quoted cut short, as on every list.
    const long = await api(server, key, 'GET', `/api/v1/sweeps/${id}/trials?status=${'x'.repeat(10_000)}`);
    expect(long.data.details).toEqual({ field: 'status', actual: `${'x'.repeat(40)}…` });

    // Another project's key: 404 SWEEP_NOT_FOUND on every route, the same answer as for a sweep that does not exist.
    const missing = crypto.randomUUID();
    for (const path of [`/api/v1/sweeps/${id}`, `/api/v1/sweeps/${id}/trials`, `/api/v1/sweeps/${id}/trials?status=completed`]) {
      const hidden = await api(server, other, 'GET', path);
      const absent = await api(server, other, 'GET', path.replace(id, missing));
      expect(hidden.status, path).toBe(404);
      expect(hidden.data.error).toBe('SWEEP_NOT_FOUND');
      expect(hidden.data).toEqual({ ...absent.data, message: absent.data.message.replace(missing, id), details: { id } });
    }
    expect((await api(server, key, 'GET', `/api/v1/sweeps/${theirs}`)).status).toBe(404);
    expect((await api(server, key, 'GET', '/api/v1/sweeps/not-a-uuid')).data.error).toBe('SWEEP_NOT_FOUND');
    expect((await api(server, undefined, 'GET', '/api/v1/sweeps')).status).toBe(401);
  });
});
