// `lablog studies`, `lablog study show` and `lablog compare`: studies, their statistics, scaling laws and comparisons as text.

import { defaultMetricGoal, parseMetricGoal as parseGoal, type Goal } from '../model/metric-goal.js';
import { LablogError } from '../model/errors.js';
import type { ListStudiesOptions, Store } from '../core/store.js';
import type { Study } from '../core/study.js';
import type { Comparison, MetricGoal } from '../core/study-comparison.js';
import type { ScalingLawAnalysis } from '../core/study-scaling.js';
import { powerLawValue } from '../core/scaling-law.js';
import { formatDuration, formatNumber, formatTime } from './format.js';
import { renderTable } from './text-table.js';

export function renderStudyList(store: Store, options: ListStudiesOptions): string {
  const studies = store.listStudies(options);
  if (studies.length === 0) return `No studies${options.project ? ` in project '${options.project}'` : ''} in ${store.path}.`;
  const rows = studies.map((s) => {
    const stats = s.statistics();
    return [
      s.id.slice(0, 8),
      s.project,
      s.name,
      s.status,
      formatTime(s.createdAt),
      String(stats.total),
      String(stats.completed),
      s.tags.join(', '),
    ];
  });
  const table = renderTable(['ID', 'PROJECT', 'NAME', 'STATUS', 'CREATED', 'EXPERIMENTS', 'COMPLETED', 'TAGS'], rows, [
    'left',
    'left',
    'left',
    'left',
    'left',
    'right',
    'right',
    'left',
  ]);
  const total = store.countStudies(options);
  return `${table}\n\n${studies.length} of ${total} stud${total === 1 ? 'y' : 'ies'} in ${store.path}`;
}

export function renderStudy(study: Study, metric?: MetricGoal): string {
  const stats = study.statistics(metric ? { metric: metric.name, goal: metric.goal } : undefined);
  const lines = [
    `study       ${study.name}`,
    `id          ${study.id}`,
    `project     ${study.project}`,
    `status      ${study.status}`,
    `created     ${formatTime(study.createdAt)}`,
  ];
  if (study.tags.length > 0) lines.push(`tags        ${study.tags.join(', ')}`);
  if (study.description) lines.push(`description ${study.description}`);
  if (study.hypothesis) lines.push(`hypothesis  ${study.hypothesis}`);
  if (study.baseline) {
    lines.push(
      'metrics' in study.baseline
        ? `baseline    ${study.baseline.name}: ${Object.entries(study.baseline.metrics)
            .map(([k, v]) => `${k} ${formatNumber(v)}`)
            .join(', ')}`
        : `baseline    experiment ${study.baseline.experimentId}`,
    );
  }
  if (study.conclusion) lines.push(`conclusion  ${study.conclusion}`);
  if (study.archiveReason) lines.push(`archived    ${study.archiveReason}`);
  lines.push(
    '',
    `experiments ${stats.total}: ${stats.completed} completed, ${stats.running} running, ${stats.failed} failed, ${stats.crashed} crashed, ${stats.cancelled} cancelled`,
    `time        ${formatDuration(stats.totalTrainingTimeMs)} in all${stats.meanTrainingTimeMs === null ? '' : `, ${formatDuration(stats.meanTrainingTimeMs)} on average`}`,
  );
  if (stats.totalCost !== null) lines.push(`cost        ${formatNumber(stats.totalCost)}`);
  if (stats.best) lines.push(`best        ${stats.best.name}: ${stats.best.metric} ${formatNumber(stats.best.value)}`);
  const experiments = study.experiments();
  if (experiments.length > 0) {
    const rows = experiments.map((e) => [e.id.slice(0, 8), e.name, e.status, formatTime(e.createdAt)]);
    lines.push('', renderTable(['ID', 'NAME', 'STATUS', 'STARTED'], rows));
  }
  if (study.template?.kind === 'progressive_scaling' && study.template.parameters['scaling_law_analysis'] !== false) {
    lines.push('', renderScalingLaw(study));
  }
  return lines.join('\n');
}

/** The scaling law of a progressive_scaling study: the points, the fit with its intervals, and each target's size. */
export function renderScalingLaw(study: Study): string {
  let analysis: ScalingLawAnalysis;
  try {
    analysis = study.scalingLaw();
  } catch (error) {
    if (error instanceof LablogError && error.code === 'INSUFFICIENT_RUNS') return `scaling law  not fitted yet: ${error.message}`;
    throw error;
  }
  const { fit, points, targets, metric, sizeParam } = analysis;
  const efficiency = points.length > 0 ? Object.keys(points[0]!.efficiency) : [];
  const lines = [`scaling law  ${metric} = a·N^(−b) + c, N = ${sizeParam}, fitted by least squares on ${fit.n} completed experiments`];
  lines.push(
    renderTable(
      ['SIZE', 'EXPERIMENT', metric.toUpperCase(), 'FITTED', ...efficiency.map((e) => e.toUpperCase())],
      points.map((p) => [
        formatNumber(p.size),
        p.name,
        formatNumber(p.value),
        formatNumber(powerLawValue(fit, p.size)),
        ...efficiency.map((e) => formatNumber(p.efficiency[e] ?? null)),
      ]),
      ['right', 'left', 'right', 'right', ...efficiency.map(() => 'right' as const)],
    ),
  );
  const level = `${Math.round(fit.confidenceLevel * 100)}%`;
  lines.push(
    '',
    renderTable(
      ['PARAM', 'ESTIMATE', 'STD ERROR', `${level} INTERVAL`],
      (['a', 'b', 'c'] as const).map((k) => [
        k,
        formatNumber(fit[k]),
        fit.standardErrors === null ? '-' : formatNumber(fit.standardErrors[k]),
        fit.confidenceIntervals === null
          ? '-'
          : `${formatNumber(fit.confidenceIntervals[k][0])} … ${formatNumber(fit.confidenceIntervals[k][1])}`,
      ]),
      ['left', 'right', 'right', 'right'],
    ),
    `R² ${formatNumber(fit.rSquared)}, RSS ${formatNumber(fit.rss)}, n ${fit.n}, ${fit.degreesOfFreedom} residual degrees of freedom` +
      (fit.confidenceIntervals === null ? ' (no intervals: they need at least 4 points)' : ''),
  );
  if (fit.exponentAtBound) lines.push(`warning: b is at the end of the searched range; the data do not determine the exponent`);
  if (analysis.skipped.length > 0) lines.push(`not fitted: ${analysis.skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
  if (targets.length > 0) {
    lines.push('', 'targets');
    for (const t of targets) {
      lines.push(
        t.size === null
          ? `  ${t.metric} ${formatNumber(t.target)}: unreachable: ${t.reason}`
          : `  ${t.metric} ${formatNumber(t.target)}: predicted at ${sizeParam} ≈ ${formatNumber(t.size)}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Parses `name:min` / `name:max` (the name may contain ':' and '/'); a bare `name` takes the goal its name
 * suggests (model/metric-goal.ts), so `val/acc` is maximized and `latency` minimized.
 */
export function parseMetricGoal(text: string): MetricGoal {
  const at = text.lastIndexOf(':');
  const stated = at > 0 ? parseGoal(text.slice(at + 1)) : undefined;
  if (stated !== undefined) return { name: text.slice(0, at), goal: stated };
  if (text.length === 0 || text.endsWith(':')) {
    throw new LablogError('INVALID_OPTION', `--metric takes NAME, NAME:min or NAME:max, got '${text}'`, { option: 'metric' });
  }
  return { name: text, goal: defaultMetricGoal(text) };
}

/** Parses `--goal name:min|max` options into a goal per metric; each must state its goal. */
export function parseStatedGoals(texts: readonly string[]): Record<string, Goal> {
  const goals = Object.create(null) as Record<string, Goal>;
  for (const text of texts) {
    const at = text.lastIndexOf(':');
    const goal = at > 0 ? parseGoal(text.slice(at + 1)) : undefined;
    if (goal === undefined) throw new LablogError('INVALID_OPTION', `--goal takes NAME:min or NAME:max, got '${text}'`, { option: 'goal' });
    goals[text.slice(0, at)] = goal;
  }
  return goals;
}

export function renderComparison(study: Study, comparison: Comparison, metrics: readonly MetricGoal[]): string {
  const names = new Map(study.experiments().map((e) => [e.id, e.name]));
  const name = (id: string) => names.get(id) ?? id.slice(0, 8);
  const lines = [`${study.name}: ${comparison.experiments.length} completed experiments compared`];
  for (const { name: metric, goal } of metrics) {
    const s = comparison.statistics[metric]!;
    lines.push(
      '',
      `${metric} (${goal}): mean ${formatNumber(s.mean)}, std ${formatNumber(s.std)}, min ${formatNumber(s.min)}, max ${formatNumber(s.max)}, n ${s.n}`,
    );
    const rows = comparison.rankings[metric]!.map((id, i) => {
      const v = comparison.values[metric]![id]!;
      return [String(i + 1), name(id), formatNumber(v.final), formatNumber(v.best)];
    });
    lines.push(renderTable(['RANK', 'EXPERIMENT', 'FINAL', 'BEST'], rows, ['right', 'left', 'right', 'right']));
  }
  if (comparison.significance.length > 0) {
    lines.push('', 'significance (Welch t-test)');
    lines.push(
      renderTable(
        ['METRIC', 'GROUP A', 'GROUP B', 'T', 'DF', 'P'],
        comparison.significance.map((r) => [r.metric, r.groupA, r.groupB, formatNumber(r.t), formatNumber(r.df), formatNumber(r.pValue)]),
        ['left', 'left', 'left', 'right', 'right', 'right'],
      ),
    );
  }
  if (comparison.correlations.length > 0) {
    lines.push('', 'correlations');
    lines.push(
      renderTable(
        ['PARAM', 'METRIC', 'PEARSON', 'SPEARMAN', 'N'],
        comparison.correlations.map((c) => [c.param, c.metric, formatNumber(c.pearson), formatNumber(c.spearman), String(c.n)]),
        ['left', 'left', 'right', 'right', 'right'],
      ),
    );
  }
  if (comparison.paretoFrontier.length > 0) lines.push('', `Pareto frontier: ${comparison.paretoFrontier.map(name).join(', ')}`);
  if (comparison.insights.length > 0) lines.push('', 'insights', ...comparison.insights.map((i) => `  - ${i}`));
  return lines.join('\n');
}
