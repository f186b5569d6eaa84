import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { runFixture, tempDir } from './helpers.js';
import { join } from 'node:path';
import { FIGURE, METRIC_STEPS, PARAMS, arrowTable, metricValue, png, polarsTable } from './fixtures/everything.js';

describe('round trip through a second process', () => {
  it('reads back exactly what another process logged: params, metrics, images, plots, tables', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('write-everything.ts', [path]);
    expect(child.stderr).toBe('');
    expect(child.code).toBe(0);
    const id = child.stdout.trim();

    const store = openStore({ path });
    try {
      const exp = store.getExperiment(id);
      expect(exp).toMatchObject({ name: 'everything', project: 'roundtrip', status: 'completed', tags: ['child'] });
      expect(exp.getParams()).toEqual(PARAMS);

      for (let series = 0; series < 3; series++) {
        const metric = exp.getMetric(`train/m${series}`);
        expect(metric.steps.length).toBe(METRIC_STEPS);
        for (let step = 0; step < METRIC_STEPS; step++) {
          if (
            metric.steps[step] !== step ||
            !Object.is(metric.values[step], metricValue(series, step)) ||
            metric.timestamps[step] !== 1_700_000_000_000 + step
          ) {
            throw new Error(
              `train/m${series} differs at step ${step}: ${metric.steps[step]} ${metric.values[step]} ${metric.timestamps[step]}`,
            );
          }
        }
      }
      expect(exp.getMetric('train/m0').values[100]).toBeNaN();
      expect(exp.getMetric('train/m0').values[101]).toBe(Infinity);

      const images = exp.getImages('val/image');
      expect(images.map((i) => [i.step, i.caption, i.width, i.height])).toEqual([
        [0, 'step 0', 8, 4],
        [10, 'step 1', 9, 4],
        [20, 'step 2', 10, 4],
      ]);
      for (let step = 0; step < 3; step++) expect(images[step]!.png.equals(await png(step))).toBe(true);

      expect(exp.getPlots('val/roc')).toEqual([{ step: 0, timestamp: expect.any(Number), caption: 'final', figure: FIGURE }]);

      expect((await exp.getTableDataFrame('polars')).frameEqual(polarsTable())).toBe(true);
      const arrow = await exp.getTable('arrow');
      expect(arrow.toArray().map((r) => r.toJSON())).toEqual(
        arrowTable()
          .toArray()
          .map((r) => r.toJSON()),
      );
      expect(String(arrow.schema.fields[0]!.type)).toBe('Int32');

      expect(exp.listSeries().map((s) => [s.name, s.kind, s.count])).toEqual([
        ['train/m0', 'metric', METRIC_STEPS],
        ['train/m1', 'metric', METRIC_STEPS],
        ['train/m2', 'metric', METRIC_STEPS],
        ['val/image', 'image', 3],
        ['val/roc', 'plot', 1],
      ]);
    } finally {
      await store.close();
    }
  });
});
