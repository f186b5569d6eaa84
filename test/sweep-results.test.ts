// A sweep's results as pure functions (best, history, importances) against hand-computed cases, and the Sweep handle giving the same numbers.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { bestTrial, sweepHistory, sweepImportances } from '../src/core/sweep-results.js';
import { paramImportances } from '../src/core/param-importance.js';
import type { TrialRecord, TrialStatus } from '../src/model/sweep.js';
import { tempDir } from './helpers.js';

function trial(number: number, status: TrialStatus, value: number | null, x = number): TrialRecord {
  return {
    sweepId: 's',
    number,
    status,
    params: { x },
    value,
    reports: [],
    experimentId: `e${number}`,
    retryOf: null,
    error: null,
    worker: null,
    heartbeatAt: null,
    createdAt: 0,
    startedAt: null,
    completedAt: null,
  };
}

describe('sweep results', () => {
  // Out of order on purpose: the history follows trial numbers, whatever order the store gives.
  const trials = [
    trial(3, 'completed', 2),
    trial(0, 'completed', 5),
    trial(1, 'pruned', 0.1),
    trial(2, 'completed', 3),
    trial(4, 'failed', null),
    trial(5, 'completed', 2),
    trial(6, 'running', null),
  ];

  it('gives the best completed trial (ties: the earliest), never a pruned one', () => {
    expect(bestTrial({ goal: 'minimize' }, trials)).toEqual({ trial: 3, params: { x: 3 }, value: 2, experimentId: 'e3' });
    expect(bestTrial({ goal: 'maximize' }, trials)).toEqual({ trial: 0, params: { x: 0 }, value: 5, experimentId: 'e0' });
    expect(bestTrial({ goal: 'minimize' }, [trial(0, 'pruned', 1)])).toBeNull();
  });

  it('gives the history of completed trials by number with the best so far', () => {
    expect(sweepHistory({ goal: 'minimize' }, trials)).toEqual([
      { trial: 0, value: 5, best: 5 },
      { trial: 2, value: 3, best: 3 },
      { trial: 3, value: 2, best: 2 },
      { trial: 5, value: 2, best: 2 },
    ]);
    expect(sweepHistory({ goal: 'maximize' }, trials).map((p) => p.best)).toEqual([5, 5, 5, 5]);
  });

  it('computes importances over the completed trials only', () => {
    const space = { x: { type: 'float', min: 0, max: 10 } } as const;
    expect(sweepImportances({ space }, trials)).toEqual(
      paramImportances(space, [
        { params: { x: 0 }, value: 5 },
        { params: { x: 2 }, value: 3 },
        { params: { x: 3 }, value: 2 },
        { params: { x: 5 }, value: 2 },
      ]),
    );
    expect(sweepImportances({ space }, trials)).toHaveLength(1);
  });

  it('are what the Sweep handle answers', async () => {
    const store = openStore({ path: join(tempDir(), 'lablog.db') });
    try {
      const sweep = store.createSweep({
        name: 'tune',
        metric: 'loss',
        space: { lr: { type: 'float', min: 0, max: 1 }, opt: { type: 'enum', values: ['a', 'b'] } },
        sampler: { type: 'random', seed: 7 },
        maxTrials: 10,
      });
      await sweep.optimize((t) => {
        if (t.number === 4) throw new Error('boom');
        return (t.params['lr'] as number) + (t.params['opt'] === 'a' ? 0 : 1);
      });
      const record = store.getSweep('tune');
      const stored = sweep.trials();
      expect(stored.filter((t) => t.status === 'failed')).toHaveLength(1);
      expect(record.best()).toEqual(bestTrial(record.record(), stored));
      expect(record.history()).toEqual(sweepHistory(record.record(), stored));
      expect(record.history()).toHaveLength(9);
      expect(record.importances()).toEqual(sweepImportances(record.record(), stored));
      expect(
        record
          .importances()
          .map((i) => i.param)
          .sort(),
      ).toEqual(['lr', 'opt']);
    } finally {
      await store.close();
    }
  });
});
