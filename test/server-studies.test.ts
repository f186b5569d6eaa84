// Studies over REST, on a real server process (SQLite and PostgreSQL): the same rules and numbers as the library.

import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

describe.each(SERVER_DATABASES)('studies over REST on $kind', ({ create }) => {
  it('create, add, list, show, compare, plan, update, archive, clone and delete, as the library does', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const other = await createKey(db, 'elsewhere');
    const server = await startServer(db);
    const { store } = tempStore();
    const finals: Record<string, number[]> = { '0.1': [0.3, 0.32, 0.31], '0.01': [0.4, 0.38, 0.41, 0.39] };
    const ids: string[] = [];
    for (const [lr, losses] of Object.entries(finals)) {
      for (const [seed, loss] of losses.entries()) {
        const exp = store.createExperiment({ name: `lr${lr}-s${seed}` });
        exp.logParams({ lr: Number(lr), seed });
        exp.logMetric('val/loss', 0.9);
        exp.logMetric('val/loss', loss);
        exp.logMetric('cost', 1.5);
        await exp.close();
        ids.push(exp.id);
      }
    }
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);

    const created = await api(server, key, 'POST', '/api/v1/studies', {
      name: 'lr-sweep',
      hypothesis: 'larger lr wins',
      tags: ['sweep'],
      baseline: 'lr0.01-s0',
      template: 'grid_search',
      templateParameters: { search_space: { lr: [0.1, 0.01], seed: [0, 1, 2] }, objective: 'minimize', metric: 'val/loss' },
    });
    expect(created.status).toBe(201);
    const study = created.data as { id: string; baseline: unknown };
    expect(study.baseline).toEqual({ experimentId: ids[3] });
    expect((await api(server, key, 'POST', '/api/v1/studies', { name: 'lr-sweep' })).data.error).toBe('INVALID_NAME');
    const nul = await api(server, key, 'POST', '/api/v1/studies', { name: 'nul', hypothesis: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(nul.data.error).toBe('INVALID_OPTION');
    expect((await api(server, other, 'POST', '/api/v1/studies', { name: 'x', project: 'default' })).status).toBe(403);

    for (const id of ids)
      expect((await api(server, key, 'POST', `/api/v1/studies/${study.id}/experiments`, { experiment: id, notes: 'seeded' })).status).toBe(
        201,
      );
    const twice = await api(server, key, 'POST', `/api/v1/studies/${study.id}/experiments`, { experiment: 'lr0.1-s0' });
    expect(twice.status).toBe(409);
    expect(twice.data).toMatchObject({ error: 'ALREADY_IN_STUDY', details: { experimentId: ids[0], existingStudyId: study.id } });
    expect((await api(server, other, 'GET', `/api/v1/studies/${study.id}`)).status).toBe(404);
    // Another project's experiment can neither join nor be a baseline, and its numbers never show.
    const { store: theirs } = tempStore();
    const secret = theirs.createExperiment({ name: 'secret', project: 'elsewhere' });
    secret.logMetric('val/loss', 0.001);
    await secret.close();
    expect((await theirs.publish({ remote: server.url, apiKey: other })).problems).toEqual([]);
    expect((await api(server, key, 'POST', `/api/v1/studies/${study.id}/experiments`, { experiment: secret.id })).data.error).toBe(
      'EXPERIMENT_NOT_FOUND',
    );
    const stolen = await api(server, key, 'PUT', `/api/v1/studies/${crypto.randomUUID()}`, {
      name: 'thief',
      baseline: { experimentId: secret.id },
      members: [],
    });
    expect(stolen.status).toBe(404);
    expect(
      (await api(server, other, 'PUT', `/api/v1/studies/${study.id}`, { name: 'takeover', project: 'elsewhere', members: [] })).status,
    ).toBe(403);
    expect(
      (
        await api(server, key, 'POST', `/api/v1/studies/${study.id}/compare`, {
          metrics: [{ name: 'val/loss', goal: 'minimize' }],
          groups: null,
        })
      ).status,
    ).toBe(400);
    const unknown = await api(server, key, 'POST', `/api/v1/studies/${study.id}/experiments`, { experiment: 'no-such-run' });
    expect(unknown.status).toBe(404);
    expect(unknown.data.error).toBe('EXPERIMENT_NOT_FOUND');
    const notMember = await api(server, key, 'POST', `/api/v1/studies/${study.id}/compare`, {
      metrics: [{ name: 'val/loss', goal: 'minimize' }],
      experiments: ['no-such-run'],
    });
    expect(notMember.data.error).toBe('EXPERIMENT_NOT_FOUND');

    const listed = await api(server, key, 'GET', '/api/v1/studies?tags=sweep&sort=name&order=asc');
    expect(listed.data).toMatchObject({ total: 1, studies: [{ name: 'lr-sweep' }] });
    expect((await api(server, key, 'GET', '/api/v1/studies?limit=101')).status).toBe(400);
    expect((await api(server, other, 'GET', '/api/v1/studies')).data.total).toBe(0);

    const shown = await api(server, key, 'GET', `/api/v1/studies/${study.id}`);
    expect(shown.data).toMatchObject({ name: 'lr-sweep', status: 'active', statistics: { total: 7, completed: 7, totalCost: 10.5 } });
    expect(shown.data.members).toHaveLength(7);
    const stats = await api(server, key, 'GET', `/api/v1/studies/${study.id}/statistics?metric=val/loss&goal=minimize`);
    expect(stats.data.best).toMatchObject({ id: ids[0], value: 0.3 });

    // The server's comparison equals the library's over the same experiments, number for number.
    const metrics = [{ name: 'val/loss', goal: 'minimize' as const }];
    const remote = await api(server, key, 'POST', `/api/v1/studies/${study.id}/compare`, { metrics });
    expect(remote.status).toBe(200);
    const local = store.createStudy({ name: 'lr-sweep', baseline: 'lr0.01-s0' });
    for (const id of ids) local.addExperiment(id);
    expect(remote.data).toEqual(JSON.parse(JSON.stringify(local.compare({ metrics }))));
    // Reference: scipy 1.17.1, stats.ttest_ind([0.30, 0.32, 0.31], [0.40, 0.38, 0.41, 0.39], equal_var=False)
    expect(remote.data.significance[0].t).toBeCloseTo(-9.81495457622364, 9);
    expect(remote.data.significance[0].pValue).toBeCloseTo(0.00019567435295956488, 12);
    const few = await api(server, key, 'POST', `/api/v1/studies/${study.id}/compare`, { metrics, experiments: [ids[0]] });
    expect(few.status).toBe(422);
    expect(few.data).toMatchObject({ error: 'INSUFFICIENT_RUNS', details: { completed: 1, minimumRequired: 2 } });

    const csv = await api(server, key, 'GET', `/api/v1/studies/${study.id}/export?format=csv&include=params,metrics`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = pl.readCSV(csv.data.toString('utf8')).toRecords() as Record<string, unknown>[];
    expect(rows.map((r) => [r['name'], r['param.lr'], r['metric.val/loss.final'], r['metric.val/loss.best']])).toEqual(
      ids.map((id, i) => [
        store.getExperiment(id).name,
        i < 3 ? 0.1 : 0.01,
        [0.3, 0.32, 0.31, 0.4, 0.38, 0.41, 0.39][i],
        [0.3, 0.32, 0.31, 0.4, 0.38, 0.41, 0.39][i],
      ]),
    );
    const long = await api(server, key, 'GET', `/api/v1/studies/${study.id}/export?format=parquet&series=true`);
    expect(long.status).toBe(200);
    expect(pl.readParquet(long.data).height).toBe(7 * 3);
    expect((await api(server, key, 'GET', `/api/v1/studies/${study.id}/export?format=xlsx`)).status).toBe(400);

    const plan = await api(server, key, 'GET', `/api/v1/studies/${study.id}/plan`);
    expect(plan.data.runs).toHaveLength(6);

    const updated = await api(server, key, 'PATCH', `/api/v1/studies/${study.id}`, { status: 'completed', conclusion: 'lr 0.1 wins' });
    expect(updated.data).toMatchObject({ status: 'completed', conclusion: 'lr 0.1 wins' });
    expect((await api(server, key, 'PATCH', `/api/v1/studies/${study.id}`, { status: 'done' })).status).toBe(400);
    const copied = await api(server, key, 'POST', `/api/v1/studies/${study.id}/clone`, { name: 'lr-sweep-copy', copyExperiments: true });
    expect(copied.status).toBe(201);
    expect(copied.data.members).toHaveLength(7);
    const copies = await Promise.all(
      (copied.data.members as { experimentId: string }[]).map(
        async (m) => (await api(server, key, 'GET', `/api/v1/experiments/${m.experimentId}`)).data,
      ),
    );
    for (const copy of copies) expect(ids).not.toContain(copy.id);
    expect(copies.map((c) => c.name).sort()).toEqual(ids.map((id) => `${store.getExperiment(id).name}-2`).sort());
    const copy = copies.find((c) => c.name === 'lr0.1-s0-2');
    expect(copy).toMatchObject({ params: { lr: 0.1, seed: 0 } });
    expect((await api(server, key, 'GET', `/api/v1/experiments/${copy.id}/metrics?key=val/loss`)).data.values).toEqual([0.9, 0.3]);
    const clone = await api(server, key, 'POST', `/api/v1/studies/${study.id}/clone`, {
      name: 'lr-sweep-2',
      modifications: { epochs: 50 },
    });
    expect(clone.status).toBe(201);
    expect(clone.data).toMatchObject({
      status: 'active',
      hypothesis: 'larger lr wins',
      metadata: { clonedFrom: study.id, modifications: { epochs: 50 } },
    });

    const refused = await api(server, key, 'DELETE', `/api/v1/studies/${study.id}`);
    expect(refused.status).toBe(409);
    expect(refused.data.error).toBe('STUDY_NOT_ARCHIVED');
    expect((await api(server, key, 'POST', `/api/v1/studies/${study.id}/archive`, { reason: 'written up' })).data).toMatchObject({
      status: 'archived',
      archiveReason: 'written up',
    });
    expect((await api(server, key, 'DELETE', `/api/v1/studies/${study.id}`)).status).toBe(204);
    expect((await api(server, key, 'GET', `/api/v1/studies/${study.id}`)).data.error).toBe('STUDY_NOT_FOUND');
    expect((await api(server, key, 'DELETE', `/api/v1/studies/${clone.data.id}?force=true`)).status).toBe(204);
    // Experiments stay.
    expect((await api(server, key, 'GET', `/api/v1/experiments/${ids[0]}`)).status).toBe(200);
  }, 60_000);
});

describe.each(SERVER_DATABASES)('publishing studies on $kind', ({ create }) => {
  it('sends a local study with its members, and later changes to it, once per sync', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const { store } = tempStore();
    const study = store.createStudy({ name: 'local-study', hypothesis: 'h', baseline: { name: 'paper', metrics: { loss: 1 } } });
    for (let i = 0; i < 3; i++) {
      const exp = store.createExperiment({ name: `e${i}`, study });
      exp.logMetric('loss', i);
      await exp.close();
    }
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    let remote = await api(server, key, 'GET', `/api/v1/studies/${study.id}`);
    expect(remote.status).toBe(200);
    expect(remote.data).toMatchObject({
      name: 'local-study',
      hypothesis: 'h',
      baseline: { name: 'paper', metrics: { loss: 1 } },
      statistics: { total: 3, completed: 3 },
    });
    expect(remote.data.members.map((m: { experimentId: string }) => m.experimentId)).toEqual(study.members().map((m) => m.experimentId));

    study.update({ status: 'completed', conclusion: 'e0 is best' });
    const late = store.createExperiment({ name: 'late', study });
    late.logMetric('loss', 5);
    await late.close();
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    remote = await api(server, key, 'GET', `/api/v1/studies/${study.id}`);
    expect(remote.data).toMatchObject({ status: 'completed', conclusion: 'e0 is best', statistics: { total: 4 } });

    // A membership the server holds otherwise is reported, not overwritten.
    const other = await api(server, key, 'POST', '/api/v1/studies', { name: 'remote-only' });
    const moved = store.createExperiment({ name: 'moved' });
    await moved.close();
    await store.publish({ remote: server.url, apiKey: key });
    await api(server, key, 'POST', `/api/v1/studies/${other.data.id}/experiments`, { experiment: moved.id });
    study.update({ status: 'active' });
    study.addExperiment(moved);
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([
      expect.objectContaining({ item: { kind: 'study', name: 'local-study' }, code: 'ALREADY_IN_STUDY', experimentId: moved.id }),
    ]);
  }, 60_000);
});
