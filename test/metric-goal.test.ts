// The metric-goal rule (src/model/metric-goal.ts): one rule for lower vs higher is better, used by the export,
// the CLI, study statistics and the UI; and the goal a user states where the name does not tell.

import { describe, expect, it } from 'vitest';
import { defaultMetricGoal, isBetter, metricGoal, metricNameWords, parseMetricGoal } from '../src/model/metric-goal.js';

describe('defaultMetricGoal', () => {
  it('minimizes losses, errors, distances, costs and durations', () => {
    const names = [
      'loss',
      'train/loss',
      'val_loss',
      'valLoss',
      'trainloss',
      'val/error',
      'error_rate',
      'rmse',
      'mae',
      'perplexity',
      'ppl',
      'wer',
      'cer',
      'cost',
      'latency',
      'p99_latency',
      'inference/latency_ms',
      'epoch_time',
      'train/time_per_step',
      'step.duration',
      'regret',
      'fid',
      'kl',
      'nll',
    ];
    expect(Object.fromEntries(names.map((n) => [n, defaultMetricGoal(n)]))).toEqual(Object.fromEntries(names.map((n) => [n, 'minimize'])));
  });

  it('maximizes accuracies, scores, rewards and throughputs, and names with no goal word', () => {
    const names = [
      'acc',
      'val/acc',
      'accuracy',
      'top5_accuracy',
      'f1',
      'F1Score',
      'auc',
      'mAP',
      'bleu',
      'reward',
      'episode/return',
      'throughput',
      'items_per_sec',
      'loss_reduction',
      'error_reduction',
      'lr',
      'epoch',
    ];
    expect(Object.fromEntries(names.map((n) => [n, defaultMetricGoal(n)]))).toEqual(Object.fromEntries(names.map((n) => [n, 'maximize'])));
  });

  it('lets the last goal word of a name decide', () => {
    expect(defaultMetricGoal('accuracy_loss')).toBe('minimize');
    expect(defaultMetricGoal('loss_improvement')).toBe('maximize');
  });

  it('splits names at separators and camelCase humps, keeping acronyms whole', () => {
    expect(metricNameWords('val/topKAccuracy.p99-latency_ms')).toEqual(['val', 'topk', 'accuracy', 'p99', 'latency', 'ms']);
    expect(metricNameWords('mAP@50')).toEqual(['map', '50']);
  });
});

describe('a stated goal', () => {
  it('wins over the name', () => {
    expect(metricGoal('latency', { latency: 'maximize' })).toBe('maximize');
    expect(metricGoal('score_delta', { score_delta: 'minimize' })).toBe('minimize');
    expect(metricGoal('latency', { other: 'maximize' })).toBe('minimize');
    // an own key only: a name like a prototype member is not a stated goal
    expect(metricGoal('constructor', {})).toBe('maximize');
  });

  it('is read as users write it', () => {
    expect(['min', 'MIN', 'minimize', 'max', 'Maximize', 'lower', ''].map(parseMetricGoal)).toEqual([
      'minimize',
      'minimize',
      'minimize',
      'maximize',
      'maximize',
      undefined,
      undefined,
    ]);
  });

  it('orders values', () => {
    expect([isBetter('minimize', 1, 2), isBetter('minimize', 2, 1), isBetter('maximize', 2, 1), isBetter('maximize', 1, 1)]).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });
});
