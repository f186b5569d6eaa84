// Publishing to a real `lablog server` process over loopback, on SQLite and on PostgreSQL: what arrives equals what was logged, once.

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import pl from 'nodejs-polars';
import { tableFromIPC } from 'apache-arrow';
import { MAX_DATASETS } from '../src/model/dataset.js';
import { noisyPng, solidPng, tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

describe.each(SERVER_DATABASES)('publishing to a server on $kind', ({ create }) => {
  async function setup(args: string[] = []) {
    const db = await create();
    const key = await createKey(db, 'default', 'vision');
    const server = await startServer(db, { args });
    return { db, key, server };
  }

  it('stores every kind of data exactly as logged, and a second publish sends nothing', async () => {
    const { key, server } = await setup();
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'run', project: 'vision', tags: ['baseline', 'resnet'], description: 'first try' });
    exp.logParams({ lr: 0.001, optimizer: 'adam', pretrained: true, started: new Date('2026-01-02T03:04:05Z') });
    for (let i = 0; i < 25_000; i++) exp.logMetric('train/loss', 1 / (i + 1));
    for (const [step, value] of [
      [0, Number.NaN],
      [10, 0.5],
      [20, Number.POSITIVE_INFINITY],
      [35, -0.25],
    ] as const) {
      exp.logMetric('val/acc', value, { step, timestamp: 1_700_000_000_000 + step * 1.5 });
    }
    const png = await noisyPng(32, 24);
    await exp.logImage('samples', png, { caption: 'epoch 0' });
    await exp.logImage('samples', await solidPng(8, 8), { step: 5 });
    exp.logPlot('confusion', {
      data: [
        {
          type: 'heatmap',
          z: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      layout: { title: 'cm' },
    });
    exp.logTable('predictions', pl.DataFrame({ id: [1, 2, 3], label: ['cat', 'dog', 'cat'], p: [0.9, 0.8, 0.7] }));
    await exp.close();

    const report = await store.publish({ remote: server.url, apiKey: key, version: 'v1.2.0' });
    expect(report.problems).toEqual([]);
    expect(report.experiments).toBe(1);
    expect(report.accepted).toBe(25_000 + 4 + 2 + 1 + 1);

    const got = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
    expect(got.status).toBe(200);
    expect(got.data).toMatchObject({
      id: exp.id,
      name: 'run',
      project: 'vision',
      status: 'completed',
      version: 'v1.2.0',
      description: 'first try',
      tags: ['baseline', 'resnet'],
      params: { lr: 0.001, optimizer: 'adam', pretrained: true, started: '2026-01-02T03:04:05.000Z' },
    });
    const series = Object.fromEntries((got.data.series as { name: string; count: number }[]).map((s) => [s.name, s]));
    expect(series['train/loss']).toMatchObject({ kind: 'metric', count: 25_000, firstStep: 0, lastStep: 24_999, lastValue: 1 / 25_000 });
    expect(series['samples']).toMatchObject({ kind: 'image', count: 2 });

    const loss = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/metrics?key=${encodeURIComponent('train/loss')}`);
    const local = exp.getMetric('train/loss');
    expect(loss.data.steps).toEqual([...local.steps]);
    expect(loss.data.values).toEqual([...local.values]);
    expect(loss.data.timestamps).toEqual([...local.timestamps]);
    const acc = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/metrics?key=val/acc`);
    expect(acc.data).toEqual({
      key: 'val/acc',
      steps: [0, 10, 20, 35],
      // NaN and ±Infinity as tokens, never confused with a missing value (null)
      values: ['NaN', 0.5, 'Infinity', -0.25],
      timestamps: [1_700_000_000_000, 1_700_000_000_015, 1_700_000_000_030, 1_700_000_000_052.5],
    });

    const images = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/images?key=samples`);
    expect(images.data.images.map((i: { step: number; width: number; caption: string | null }) => [i.step, i.width, i.caption])).toEqual([
      [0, 32, 'epoch 0'],
      [5, 8, null],
    ]);
    const bytes = await api(server, key, 'GET', images.data.images[0].url);
    expect(bytes.headers.get('content-type')).toBe('image/png');
    expect(Buffer.compare(bytes.data, png)).toBe(0);

    const plots = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/plots?key=confusion`);
    expect(plots.data.plots[0].figure).toEqual({
      data: [
        {
          type: 'heatmap',
          z: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      layout: { title: 'cm' },
    });

    const arrow = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/tables/data?name=predictions&format=arrow`);
    expect(
      tableFromIPC(arrow.data)
        .toArray()
        .map((r) => r.toJSON()),
    ).toEqual([
      { id: 1, label: 'cat', p: 0.9 },
      { id: 2, label: 'dog', p: 0.8 },
      { id: 3, label: 'cat', p: 0.7 },
    ]);
    const json = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/tables/data?name=predictions&format=json`);
    expect(json.data.rows).toEqual([
      { id: 1, label: 'cat', p: 0.9 },
      { id: 2, label: 'dog', p: 0.8 },
      { id: 3, label: 'cat', p: 0.7 },
    ]);

    const again = await store.publish({ remote: server.url, apiKey: key });
    expect(again).toMatchObject({ experiments: 1, accepted: 0, skipped: 0, retries: 0, problems: [] });
  });

  it("caps an experiment's datasets at MAX_DATASETS over all its publications, keeping the first ones", async () => {
    const { key, server } = await setup();
    const id = randomUUID();
    const datasets = (from: number) =>
      Array.from({ length: 60 }, (_, i) => ({ role: 'train', name: `shard-${from + i}`, rows: from + i, loggedAt: 1_700_000_000_000 }));
    const publish = (status: string, sent: unknown[]) =>
      api(server, key, 'PUT', `/api/v1/experiments/${id}`, {
        project: 'vision',
        name: 'shards',
        status,
        createdAt: 1_700_000_000_000,
        tags: [],
        params: [],
        datasets: sent,
      });
    const first = await publish('running', datasets(0));
    expect(first.status, JSON.stringify(first.data)).toBe(200);
    const second = await publish('completed', datasets(60));
    expect(second.status).toBe(422);
    expect(second.data).toMatchObject({
      error: 'LIMIT_EXCEEDED',
      message: expect.stringContaining('MAX_DATASETS'),
      details: { experiment: id, limit: MAX_DATASETS, actual: 120 },
    });
    const got = await api(server, key, 'GET', `/api/v1/experiments/${id}`);
    expect(got.data.status).toBe('running');
    const kept = (got.data.datasets as { name: string; rows: number }[]).map((d) => d.rows).sort((a, b) => a - b);
    expect(kept).toEqual(Array.from({ length: 60 }, (_, i) => i));
    // The first 60 sent again, with up to MAX_DATASETS new ones: accepted.
    const again = await publish('completed', [...datasets(0), ...datasets(60).slice(0, MAX_DATASETS - 60)]);
    expect(again.status, JSON.stringify(again.data)).toBe(200);
    expect((await api(server, key, 'GET', `/api/v1/experiments/${id}`)).data.datasets).toHaveLength(MAX_DATASETS);
  });

  it('lists with filters, paging and sorting', async () => {
    const { key, server } = await setup();
    const { store } = tempStore();
    for (let i = 0; i < 5; i++) {
      const exp = store.createExperiment({ name: `e${i}`, tags: i % 2 === 0 ? ['even'] : ['odd'] });
      exp.logMetric('m', i);
      await exp.close(i === 4 ? { status: 'failed' } : undefined);
    }
    await store.publish({ remote: server.url, apiKey: key });
    const all = await api(server, key, 'GET', '/api/v1/experiments?project=default&sort=name&order=asc&limit=2&offset=1');
    expect(all.data.total).toBe(5);
    expect(all.data.experiments.map((e: { name: string }) => e.name)).toEqual(['e1', 'e2']);
    const even = await api(server, key, 'GET', '/api/v1/experiments?tags=even&sort=name&order=asc');
    expect(even.data.experiments.map((e: { name: string }) => e.name)).toEqual(['e0', 'e2', 'e4']);
    const failed = await api(server, key, 'GET', '/api/v1/experiments?status=failed');
    expect(failed.data.experiments.map((e: { name: string }) => e.name)).toEqual(['e4']);
    const bad = await api(server, key, 'GET', '/api/v1/experiments?sort=id;drop');
    expect(bad.status).toBe(400);
    expect(bad.data.error).toBe('INVALID_OPTION');
  });

  it('publishes what a resumed run rewrote: the remote drops the same points', async () => {
    const { key, server } = await setup();
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'resumable' });
    for (let i = 0; i < 100; i++) exp.logMetric('loss', i);
    await exp.close();
    await exp.publish({ remote: server.url, apiKey: key });
    exp.resumeFrom(50);
    for (let i = 50; i < 80; i++) exp.logMetric('loss', -i);
    await exp.close();
    const report = await exp.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([]);
    const remote = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/metrics?key=loss`);
    const local = store.getExperiment(exp.id).getMetric('loss');
    expect(remote.data.steps).toEqual([...local.steps]);
    expect(remote.data.values).toEqual([...local.values]);
    expect(local.values[79]).toBe(-79);
  });

  it('applies a resume even where the remote was published under another URL of the same server', async () => {
    const { key, server } = await setup();
    const alias = server.url.replace('127.0.0.1', 'localhost');
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'aliased' });
    for (let i = 0; i < 100; i++) exp.logMetric('loss', i);
    await exp.close();
    await exp.publish({ remote: server.url, apiKey: key });
    exp.resumeFrom(50);
    for (let i = 50; i < 80; i++) exp.logMetric('loss', -i);
    await exp.close();
    expect((await exp.publish({ remote: alias, apiKey: key })).problems).toEqual([]);
    expect((await exp.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    const remote = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/metrics?key=loss`);
    const local = store.getExperiment(exp.id).getMetric('loss');
    expect(remote.data.steps).toEqual([...local.steps]);
    expect(remote.data.values).toEqual([...local.values]);
  });

  it('reports a plot too large for the server and publishes the rest', async () => {
    const { key, server } = await setup(['--body-limit', '300000']);
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'plots' });
    const figure = (n: number) => ({ data: [{ y: Array.from({ length: n }, (_, i) => i / 7) }] });
    for (let i = 0; i < 40; i++) exp.logPlot('small', figure(1_000));
    exp.logPlot('huge', figure(100_000));
    for (let i = 0; i < 1_000; i++) exp.logMetric('loss', i);
    await exp.close();
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([expect.objectContaining({ item: { kind: 'plot', name: 'huge' }, code: 'PAYLOAD_TOO_LARGE' })]);
    const got = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
    expect(got.data.series.map((s: { name: string; count: number }) => [s.name, s.count])).toEqual([
      ['loss', 1_000],
      ['small', 40],
    ]);
    const plots = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}/plots?key=small`);
    expect(plots.data.plots[39].figure).toEqual(figure(1_000));
  });

  it('reports an item the server rejects and publishes the rest', async () => {
    const { key, server } = await setup(['--limit', 'maxMetricValues=1000']);
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'big', limits: { maxMetricValues: 10_000 } });
    for (let i = 0; i < 500; i++) exp.logMetric('small', i);
    for (let i = 0; i < 5_000; i++) exp.logMetric('huge', i);
    await exp.close();
    const report = await store.publish({ remote: server.url, apiKey: key });
    expect(report.problems).toEqual([
      expect.objectContaining({ experiment: 'big', item: { kind: 'metric', name: 'huge' }, code: 'LIMIT_EXCEEDED' }),
    ]);
    const got = await api(server, key, 'GET', `/api/v1/experiments/${exp.id}`);
    expect(got.data.series).toEqual([expect.objectContaining({ name: 'small', count: 500 })]);
  });
});
