// Sweeps in one process: trials as experiments of the sweep's study, best and history, maxTrials, grid exhaustion, faulty objectives, stop/restart, resume with loadIfExists.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LablogError, openStore, type Store } from '../src/index.js';
import { tempDir } from './helpers.js';

const SPACE = {
  lr: { type: 'float', min: 1e-4, max: 1, log: true },
  optimizer: { type: 'enum', values: ['sgd', 'adam'] },
} as const;

function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore({ path: join(tempDir(), 'lablog.db') });
  return fn(store).finally(() => store.close());
}

const toy = (p: Record<string, unknown>) => (Math.log10(p['lr'] as number) + 2) ** 2 + (p['optimizer'] === 'adam' ? 0 : 0.5);

describe('sweep.optimize', () => {
  it('runs maxTrials trials, each an experiment of the sweep study with its params, and finds the best', () =>
    withStore(async (store) => {
      const sweep = store.createSweep({
        name: 'tune',
        project: 'mnist',
        metric: 'val/loss',
        space: SPACE,
        sampler: { type: 'tpe', seed: 3 },
        maxTrials: 25,
        parallel: 2,
      });
      expect(sweep.status).toBe('created');
      let concurrent = 0;
      let mostConcurrent = 0;
      const result = await sweep.optimize(async (trial) => {
        concurrent++;
        mostConcurrent = Math.max(mostConcurrent, concurrent);
        const loss = toy(trial.params);
        trial.experiment.logMetric('val/loss', loss, { step: 0 });
        await new Promise((resolve) => setTimeout(resolve, 5));
        concurrent--;
        return loss;
      });
      expect(result).toEqual({ status: 'finished', ran: { completed: 25, pruned: 0, failed: 0, stopped: 0 }, recovered: 0 });
      expect(mostConcurrent).toBe(2);
      const trials = sweep.trials();
      expect(trials.map((t) => t.number)).toEqual([...Array(25).keys()]);
      const study = sweep.study();
      expect(
        study
          .experiments()
          .map((e) => e.id)
          .sort(),
      ).toEqual(trials.map((t) => t.experimentId).sort());
      for (const t of trials) {
        const exp = store.getExperiment(t.experimentId!);
        expect(exp.name).toBe(`tune-${t.number}`);
        expect(exp.status).toBe('completed');
        expect(exp.getParams()).toEqual(t.params);
        expect(t.value).toBe(toy(t.params));
      }
      const best = sweep.best()!;
      expect(best.value).toBe(Math.min(...trials.map((t) => t.value!)));
      const history = sweep.history();
      expect(history).toHaveLength(25);
      expect(history[24]!.best).toBe(best.value);
      for (let i = 1; i < history.length; i++) expect(history[i]!.best).toBeLessThanOrEqual(history[i - 1]!.best);
      // A finished sweep gives no more trials.
      const again = await sweep.optimize(() => 0);
      expect(again.ran.completed).toBe(0);
    }));

  it('a grid sweep ends no_more_trials when every combination has run', () =>
    withStore(async (store) => {
      const sweep = store.createSweep({
        name: 'grid',
        metric: 'acc',
        goal: 'max',
        space: { opt: { type: 'enum', values: ['a', 'b', 'c'] }, n: { type: 'int', min: 1, max: 2 } },
        sampler: { type: 'grid' },
      });
      const seen: string[] = [];
      const result = await sweep.optimize((trial) => {
        seen.push(`${String(trial.params['opt'])}${String(trial.params['n'])}`);
        return trial.params['n'] as number;
      });
      expect(result.status).toBe('no_more_trials');
      expect(seen).toEqual(['a1', 'a2', 'b1', 'b2', 'c1', 'c2']);
      expect(sweep.best()!.value).toBe(2);
    }));

  it('an objective that throws, returns NaN or undefined, or never returns fails its trial; the sweep goes on', () =>
    withStore(async (store) => {
      const sweep = store.createSweep({ name: 'faults', metric: 'loss', space: SPACE, sampler: { type: 'random', seed: 1 }, maxTrials: 6 });
      const result = await sweep.optimize(
        (trial) => {
          if (trial.number === 0) throw new RangeError('diverged');
          if (trial.number === 1) return NaN;
          if (trial.number === 2) return undefined as unknown as number;
          if (trial.number === 3) return new Promise<number>(() => {}); // never settles
          if (trial.number === 4) return -Infinity;
          return 1;
        },
        { timeout: 300 },
      );
      expect(result.ran).toEqual({ completed: 1, pruned: 0, failed: 5, stopped: 0 });
      const errors = sweep.trials().map((t) => [t.status, t.error]);
      expect(errors).toEqual([
        ['failed', 'RangeError: diverged'],
        ['failed', "the objective returned number NaN; it must return the value of 'loss' (a finite number) or trial.pruned()"],
        ['failed', "the objective returned undefined; it must return the value of 'loss' (a finite number) or trial.pruned()"],
        ['failed', "the objective did not return within 300 ms (the trial's timeout)"],
        ['failed', "the objective returned number -Infinity; it must return the value of 'loss' (a finite number) or trial.pruned()"],
        ['completed', null],
      ]);
      expect(store.getExperiment(sweep.trials()[0]!.experimentId!).status).toBe('failed');
      expect(result.status).toBe('finished');
    }));

  it('prunes with the median pruner and keeps a pruned trial’s logged data', () =>
    withStore(async (store) => {
      const sweep = store.createSweep({
        name: 'prune',
        metric: 'loss',
        space: { x: { type: 'float', min: 0, max: 1 } },
        sampler: { type: 'random', seed: 5 },
        pruner: { type: 'median', warmupSteps: 2, startupTrials: 3 },
        maxTrials: 20,
      });
      await sweep.optimize((trial) => {
        const x = trial.params['x'] as number;
        let loss = 0;
        for (let step = 0; step < 8; step++) {
          loss = x + 1 / (step + 1);
          trial.experiment.logMetric('loss', loss, { step });
          if (trial.shouldPrune(step, loss)) return trial.pruned();
        }
        return loss;
      });
      const pruned = sweep.trials({ status: 'pruned' });
      expect(pruned.length).toBeGreaterThan(0);
      for (const t of pruned) {
        // Pruned at the first step past warm-up where it was worse than the median; its points stay.
        const steps = t.reports.length;
        expect(steps).toBeGreaterThanOrEqual(3);
        expect(steps).toBeLessThan(8);
        expect([...store.getExperiment(t.experimentId!).getMetric('loss').steps]).toEqual([...Array(steps).keys()]);
      }
      // Only trials with large x are pruned: every pruned x is above the median x of completed trials.
      const completed = sweep
        .trials({ status: 'completed' })
        .map((t) => t.params['x'] as number)
        .sort((a, b) => a - b);
      const median = completed[Math.floor(completed.length / 2)]!;
      for (const t of pruned) expect(t.params['x']).toBeGreaterThan(median * 0.5);
    }));

  it('an objective polling shouldPrune() without a report sees a stop made from outside', () =>
    withStore(async (store) => {
      const sweep = store.createSweep({ name: 'poll', metric: 'loss', space: SPACE, sampler: { type: 'random', seed: 2 }, maxTrials: 1 });
      const other = store.getSweep('poll');
      const result = await sweep.optimize(async (trial) => {
        for (let i = 0; i < 200; i++) {
          if (i === 3) other.stopTrial(trial.number);
          if (trial.shouldPrune()) return trial.pruned();
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return 1;
      });
      expect(result.ran).toEqual({ completed: 0, pruned: 0, failed: 0, stopped: 1 });
      expect(sweep.trials().map((t) => t.status)).toEqual(['stopped']);
    }));

  it('stops a running trial from outside and restarts an ended one with the same params', () =>
    withStore(async (store) => {
      const sweep = store.createSweep({ name: 'stop', metric: 'loss', space: SPACE, sampler: { type: 'random', seed: 2 }, maxTrials: 2 });
      const result = await sweep.optimize(async (trial) => {
        if (trial.number === 0) {
          store.getSweep('stop').stopTrial(0);
          expect(trial.shouldPrune(0, 1)).toBe(true);
          return trial.pruned();
        }
        return 2;
      });
      expect(result.ran).toEqual({ completed: 1, pruned: 0, failed: 0, stopped: 1 });
      expect(sweep.trials().map((t) => t.status)).toEqual(['stopped', 'completed']);
      expect(() => sweep.stopTrial(1)).toThrow(/trial 1 has ended \(completed\); there is nothing to stop/);
      const restarted = sweep.restartTrial(0);
      expect(restarted).toMatchObject({ number: 2, status: 'pending', retryOf: 0, params: sweep.trials()[0]!.params });
      const again = await sweep.optimize(() => 0.5);
      expect(again.ran.completed).toBe(1);
      expect(sweep.trials().map((t) => t.status)).toEqual(['stopped', 'completed', 'completed']);
      expect(sweep.best()).toMatchObject({ trial: 2, value: 0.5 });
      expect(() => sweep.stopTrial(9)).toThrow(LablogError);
    }));

  it('loadIfExists resumes the same sweep, and refuses one whose space changed, saying what changed', () =>
    withStore(async (store) => {
      const options = {
        name: 'again',
        metric: 'loss',
        space: SPACE,
        sampler: { type: 'tpe' as const, seed: 4 },
        maxTrials: 6,
        loadIfExists: true,
      };
      const first = store.createSweep(options);
      await first.optimize((t) => toy(t.params), { trials: 3 });
      expect(first.status).toBe('running');
      const second = store.createSweep(options);
      expect(second.id).toBe(first.id);
      await second.optimize((t) => toy(t.params));
      expect(second.trials().map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(second.status).toBe('finished');
      let error: LablogError | undefined;
      try {
        store.createSweep({ ...options, space: { ...SPACE, lr: { type: 'float', min: 1e-3, max: 1, log: true } } });
      } catch (e) {
        error = e as LablogError;
      }
      expect(error?.code).toBe('INVALID_OPTION');
      expect(error?.message).toContain(
        `param 'lr' changed from {"type":"float","min":0.0001,"max":1,"log":true} to {"type":"float","min":0.001,"max":1,"log":true}`,
      );
      expect(() => store.createSweep({ ...options, loadIfExists: false })).toThrow(/INVALID_NAME|already|exists/);
    }));
});
