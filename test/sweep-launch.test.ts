// Launched trials (lablog sweep run): each trial a run of a real child process with its params, its value the metric it logged last; pruned and failed runs end their trials.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';
import { tsFixture } from './support/runs.js';

describe('sweep.run', () => {
  it('launches each trial as a run, reads its value from the metric it logged, prunes through the run, fails a failed run', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const sweep = store.createSweep({
        name: 'launched',
        project: 'p',
        metric: 'loss',
        space: { x: { type: 'enum', values: [0.1, 0.2, 0.3, 2, 3] } },
        sampler: { type: 'grid' },
        pruner: { type: 'median', warmupSteps: 1, startupTrials: 2 },
      });
      const result = await sweep.run({ ...tsFixture('sweep-trial.ts'), parallel: 1, grace: 2_000 });
      expect(result.status).toBe('no_more_trials');
      const trials = sweep.trials();
      expect(trials.map((t) => [t.params['x'], t.status])).toEqual([
        [0.1, 'completed'],
        [0.2, 'completed'],
        [0.3, 'failed'],
        [2, 'pruned'],
        [3, 'pruned'],
      ]);
      // Completed: the last loss logged, x + 1/6.
      expect(trials[0]!.value).toBeCloseTo(0.1 + 1 / 6, 12);
      expect(trials[1]!.value).toBeCloseTo(0.2 + 1 / 6, 12);
      expect(trials[2]!.error).toMatch(/^the run ended failed \(exit 2\): x = 0\.3 is refused/);
      for (const t of trials) {
        const run = store.getRun(t.experimentId!).record();
        expect(run.name).toBe(`launched-${t.number}`);
        expect(store.getExperiment(t.experimentId!).getParams()).toEqual(t.params);
      }
      // A pruned trial's run was cancelled after warm-up, before its last epoch; what it logged is kept.
      for (const t of trials.slice(3)) {
        expect(store.getRun(t.experimentId!).record().status).toBe('cancelled');
        const steps = store.getExperiment(t.experimentId!).getMetric('loss').steps;
        expect(steps.length).toBeGreaterThanOrEqual(2);
        expect(steps.length).toBeLessThan(6);
      }
      expect(sweep.study().experiments()).toHaveLength(5);
    } finally {
      await store.close();
    }
  }, 120_000);
});
