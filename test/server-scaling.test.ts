// The scaling law of a progressive_scaling study over REST, on a real server process (SQLite and PostgreSQL): the library's numbers.

import { describe, expect, it } from 'vitest';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

const SIZES = [1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9];
const LOSSES = [3.412, 2.853, 2.447, 2.171, 1.995, 1.873, 1.801];
const PARAMETERS = {
  model_sizes: SIZES,
  metric: 'val/loss',
  objective: 'minimize',
  efficiency_metrics: ['flops'],
  performance_targets: { 'val/loss': 1.9, 'val/acc': 0.99 },
};

describe.each(SERVER_DATABASES)('the scaling law over REST on $kind', ({ create }) => {
  it('GET /api/v1/studies/:id/scaling-law answers what study.scalingLaw() does', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const other = await createKey(db, 'elsewhere');
    const server = await startServer(db);
    const { store } = tempStore();
    const local = store.createStudy({ name: 'scaling', template: 'progressive_scaling', templateParameters: PARAMETERS });
    for (const [i, size] of SIZES.entries()) {
      const exp = store.createExperiment({ name: `size-${size}`, study: local });
      exp.logParams({ model_size: size });
      exp.logMetric('val/loss', LOSSES[i]!);
      exp.logMetric('val/acc', 0.95 - 2 * size ** -0.2);
      exp.logMetric('flops', 6 * size);
      await exp.close();
    }
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    // The study is published with its members; its template too.
    const listed = await api(server, key, 'GET', '/api/v1/studies');
    const id = (listed.data.studies as { id: string; name: string }[]).find((s) => s.name === 'scaling')!.id;
    const bad = await api(server, key, 'POST', '/api/v1/studies', {
      name: 'bad',
      template: 'progressive_scaling',
      templateParameters: { ...PARAMETERS, model_sizes: [1, 2] },
    });
    expect(bad.status).toBe(400);
    expect(bad.data).toMatchObject({ error: 'INVALID_OPTION', details: { option: 'templateParameters.model_sizes' } });
    const empty = await api(server, key, 'POST', '/api/v1/studies', {
      name: 'empty',
      template: 'progressive_scaling',
      templateParameters: PARAMETERS,
    });
    expect(empty.status).toBe(201);
    expect((await api(server, key, 'GET', `/api/v1/studies/${empty.data.id}/scaling-law`)).data.error).toBe('INSUFFICIENT_RUNS');

    const remote = await api(server, key, 'GET', `/api/v1/studies/${id}/scaling-law`);
    expect(remote.status).toBe(200);
    const expected = JSON.parse(JSON.stringify(local.scalingLaw())) as Record<string, unknown>;
    expect(remote.data).toEqual(expected);
    expect(remote.data.fit.b).toBeCloseTo(0.34399270003, 8);
    expect(remote.data.targets[1]).toMatchObject({ metric: 'val/acc', size: null });
    expect((await api(server, other, 'GET', `/api/v1/studies/${id}/scaling-law`)).status).toBe(404);
    const plain = await api(server, key, 'POST', '/api/v1/studies', { name: 'plain' });
    expect((await api(server, key, 'GET', `/api/v1/studies/${plain.data.id}/scaling-law`)).data.error).toBe('INVALID_OPTION');
  });
});
