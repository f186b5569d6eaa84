// The metric-goal rule: whether lower or higher is better for a metric, from its name or as stated.

export const METRIC_GOALS = ['minimize', 'maximize'] as const;
/** Which way is better for a metric. */
export type Goal = (typeof METRIC_GOALS)[number];

/** Name words that mean lower is better: losses, errors, distances, costs, durations. */
export const LOWER_IS_BETTER_WORDS: ReadonlySet<string> = new Set([
  'loss',
  'losses',
  'nll',
  'error',
  'errors',
  'err',
  'mse',
  'mae',
  'rmse',
  'mape',
  'smape',
  'msle',
  'perplexity',
  'ppl',
  'cost',
  'costs',
  'wer',
  'cer',
  'ter',
  'fid',
  'kid',
  'regret',
  'distance',
  'divergence',
  'kl',
  'time',
  'seconds',
  'ms',
  'latency',
  'duration',
  'elapsed',
  'runtime',
  'penalty',
  'bpc',
  'bpb',
  'bpd',
]);
/** Name words that mean higher is better; the last goal word of a name decides (`error_reduction` → maximize). */
export const HIGHER_IS_BETTER_WORDS: ReadonlySet<string> = new Set([
  'acc',
  'accuracy',
  'f1',
  'auc',
  'auroc',
  'auprc',
  'precision',
  'recall',
  'bleu',
  'rouge',
  'meteor',
  'iou',
  'miou',
  'dice',
  'map',
  'ndcg',
  'mrr',
  'hit',
  'hits',
  'reward',
  'rewards',
  'return',
  'returns',
  'score',
  'r2',
  'throughput',
  'speedup',
  'reduction',
  'improvement',
  'gain',
  'psnr',
  'ssim',
  'sharpe',
  'utilization',
  'util',
  'ips',
  'fps',
  'qps',
  'tps',
]);

/** Inside a name with no separators (`trainloss`, `valerror`): the words that still mean lower is better. */
const LOWER_IS_BETTER_INSIDE = /loss|error|perplexity|latency|regret|rmse|mse|mae/;

/** The words of a metric name: split at separators (`/ _ - . :` and spaces) and camelCase humps (`valLoss`, `topKAccuracy` → topk accuracy; `mAP` stays one), lower-cased. */
export function metricNameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/**
 * The goal a metric's name suggests. The last word that names a goal decides (`val/loss` → minimize,
 * `loss_reduction` → maximize, `train/time_per_step` → minimize); a name with none is minimize when a loss, error, perplexity,
 * latency or regret is written inside one of its words (`trainloss`), else maximize. A name
 * this cannot read (`score_delta`, `kl_weight`) should have its goal stated where it is compared
 * (`goals`, `--metric name:min`, the compare view's goal switch).
 */
export function defaultMetricGoal(name: string): Goal {
  const words = metricNameWords(name);
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i]!;
    if (HIGHER_IS_BETTER_WORDS.has(word)) return 'maximize';
    if (LOWER_IS_BETTER_WORDS.has(word)) return 'minimize';
  }
  return LOWER_IS_BETTER_INSIDE.test(name.toLowerCase()) ? 'minimize' : 'maximize';
}

/** The goal stated for `name` in `goals`, else the one its name suggests. */
export function metricGoal(name: string, goals?: Readonly<Record<string, Goal>>): Goal {
  return (goals !== undefined && Object.hasOwn(goals, name) ? goals[name] : undefined) ?? defaultMetricGoal(name);
}

/** Reads a goal as users write it: 'min' | 'minimize' | 'max' | 'maximize' (any case); undefined for anything else. */
export function parseMetricGoal(text: string): Goal | undefined {
  const t = text.toLowerCase();
  if (t === 'min' || t === 'minimize') return 'minimize';
  if (t === 'max' || t === 'maximize') return 'maximize';
  return undefined;
}

/** True when `a` is strictly better than `b` under `goal`. */
export function isBetter(goal: Goal, a: number, b: number): boolean {
  return goal === 'minimize' ? a < b : a > b;
}
