// The metric and goal a study's template names, as the UI's study and compare pages read them.

import { describe, expect, it } from 'vitest';
import { templateObjective } from '../src/model/study.js';

describe('templateObjective', () => {
  it("takes grid_search's metric and objective, else ab_testing's success_metric", () => {
    expect(templateObjective({ kind: 'grid_search', parameters: { metric: 'val/loss', objective: 'minimize' } })).toEqual({
      metric: 'val/loss',
      goal: 'minimize',
    });
    expect(templateObjective({ kind: 'ab_testing', parameters: { success_metric: 'val/acc', variants: ['a', 'b'] } })).toEqual({
      metric: 'val/acc',
      goal: undefined,
    });
    // metric wins over success_metric when both are there.
    expect(templateObjective({ parameters: { metric: 'a', success_metric: 'b', objective: 'maximize' } })).toEqual({
      metric: 'a',
      goal: 'maximize',
    });
  });

  it('states no goal for an objective that is neither minimize nor maximize, and nothing without a metric name', () => {
    expect(templateObjective({ parameters: { metric: 'latency', objective: 'lowest' } })).toEqual({ metric: 'latency', goal: undefined });
    expect(templateObjective({ parameters: { metric: 3 } })).toBeNull();
    expect(templateObjective({ parameters: null })).toBeNull();
    expect(templateObjective({ kind: 'grid_search' })).toBeNull();
    expect(templateObjective(null)).toBeNull();
  });
});
