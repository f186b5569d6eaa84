// The compare view's study panel: the study's own comparison of the chosen experiments (rankings, Pareto frontier, Welch t-tests, insights).

import { api, ApiError, type ComparisonJson, type StudyDetailJson } from '../api.js';
import { formatNumber, h, mount } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';
import type { Goal } from '../../../model/metric-goal.js';
import { templateObjective } from '../../../model/study.js';
import { type CompareGoals } from './compare-goals.js';
import type { ExperimentRow } from '../../ui-api.js';

/** The study's own comparison (rankings, Pareto frontier, Welch t-tests, insights) of these experiments. */
export async function renderStudyComparison(
  ctx: ViewContext,
  section: HTMLElement,
  studyId: string,
  rows: readonly ExperimentRow[],
  metricKeys: readonly string[],
  names: ReadonlyMap<string, string>,
  goals: CompareGoals,
): Promise<void> {
  const box = h('div', { 'data-testid': 'study-comparison', 'data-study': studyId });
  const title = h('h2', null, 'Study comparison');
  mount(section, title, box);
  let study: StudyDetailJson | undefined;
  try {
    study = await api.study(studyId);
  } catch {
    // the comparison may still work; the study's name is only a label
  }
  if (ctx.signal.aborted) return;
  if (study !== undefined) mount(title, 'Study comparison · ', h('a', { href: href(`/studies/${studyId}`) }, study.name));

  // Defaults: the template's metric and objective, else the first metric with the goal its name suggests.
  const objective = templateObjective(study?.template ?? null);
  const templateMetric = objective?.metric;
  const templateGoal = objective?.goal;
  const initial = templateMetric !== undefined && metricKeys.includes(templateMetric) ? templateMetric : metricKeys[0]!;

  const picks = metricKeys.map((key) => {
    const check = h('input', { type: 'checkbox', 'data-testid': 'study-metric', value: key });
    check.checked = key === initial;
    const goal = h(
      'select',
      { 'data-testid': 'study-goal', 'data-metric': key },
      h('option', { value: 'minimize' }, 'minimize'),
      h('option', { value: 'maximize' }, 'maximize'),
    );
    goal.value = key === templateMetric && templateGoal !== undefined && !goals.stated(key) ? templateGoal : goals.of(key);
    return { key, check, goal };
  });
  const result = h('div', { class: 'study-result', 'data-testid': 'study-result' });
  let sequence = 0;
  const run = async (): Promise<void> => {
    const metrics = picks.filter((p) => p.check.checked).map((p) => ({ name: p.key, goal: p.goal.value as Goal }));
    const mine = ++sequence;
    if (metrics.length === 0) {
      mount(result, h('p', { class: 'note' }, 'Pick a metric to rank the experiments by.'));
      return;
    }
    result.classList.add('loading');
    let comparison: ComparisonJson;
    try {
      comparison = await api.compareStudy(studyId, { metrics, experiments: rows.map((r) => r.id) });
    } catch (error) {
      if (mine !== sequence || ctx.signal.aborted) return;
      result.classList.remove('loading');
      if (error instanceof ApiError && (error.code === 'INSUFFICIENT_RUNS' || error.status === 422)) {
        mount(
          result,
          h(
            'p',
            { class: 'note', 'data-testid': 'study-comparison-note' },
            `No comparison yet: ${error.message}. Only completed experiments are compared.`,
          ),
        );
      } else {
        mount(result, h('div', { class: 'error', role: 'alert' }, h('p', null, `The comparison failed: ${(error as Error).message}`)));
      }
      return;
    }
    if (mine !== sequence || ctx.signal.aborted) return;
    result.classList.remove('loading');
    mount(result, comparisonView(comparison, metrics, names, rows.length));
  };
  for (const p of picks) {
    p.check.addEventListener('change', () => void run());
    p.goal.addEventListener('change', () => void run());
  }
  mount(
    box,
    h(
      'p',
      { class: 'muted' },
      'Ranks the completed experiments by their final values; replicates (same params but the seed) are tested against each other with Welch’s t-test.',
    ),
    h(
      'div',
      { class: 'study-metrics' },
      picks.map((p) => h('label', { class: 'metric-pick' }, p.check, ' ', p.key, ' ', p.goal)),
    ),
    result,
  );
  await run();
}

function comparisonView(
  comparison: ComparisonJson,
  metrics: readonly { name: string; goal: Goal }[],
  names: ReadonlyMap<string, string>,
  chosen: number,
): HTMLElement[] {
  const name = (id: string) => names.get(id) ?? id;
  const link = (id: string) => h('a', { href: href(`/experiments/${id}`) }, name(id));
  const pareto = new Set(comparison.paretoFrontier);
  const out: HTMLElement[] = [];
  if (comparison.experiments.length < chosen) {
    out.push(h('p', { class: 'muted' }, `${comparison.experiments.length} of ${chosen} experiments are completed and compared.`));
  }

  const rankings = h('div', { class: 'rankings' });
  for (const { name: metric, goal } of metrics) {
    const ranking = comparison.rankings[metric] ?? [];
    const values = comparison.values[metric] ?? {};
    const stats = comparison.statistics[metric];
    const baseline = comparison.baseline?.metrics[metric];
    rankings.append(
      h(
        'div',
        { class: 'ranking', 'data-metric': metric },
        h('h3', null, `${metric} `, h('span', { class: 'muted' }, goal === 'minimize' ? '(lower is better)' : '(higher is better)')),
        h(
          'table',
          { class: 'grid' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { class: 'num' }, '#'),
              h('th', null, 'experiment'),
              h('th', { class: 'num' }, 'final'),
              h('th', { class: 'num' }, goal === 'minimize' ? 'best (min)' : 'best (max)'),
            ),
          ),
          h(
            'tbody',
            null,
            ranking.map((id, i) =>
              h(
                'tr',
                {
                  'data-testid': 'ranking',
                  'data-id': id,
                  'data-metric': metric,
                  'data-rank': i + 1,
                  class: pareto.has(id) ? 'on-pareto' : null,
                },
                h('td', { class: 'num' }, i + 1),
                h('td', null, link(id)),
                h('td', { class: 'num', 'data-value': values[id]?.final ?? null }, formatNumber(values[id]?.final)),
                h('td', { class: 'num', 'data-value': values[id]?.best ?? null }, formatNumber(values[id]?.best)),
              ),
            ),
          ),
        ),
        ranking.length === 0 ? h('p', { class: 'muted' }, `No completed experiment has a final value of ${metric}.`) : null,
        stats
          ? h(
              'p',
              { class: 'muted' },
              `mean ${formatNumber(stats.mean)} ± ${formatNumber(stats.std)} · min ${formatNumber(stats.min)} · max ${formatNumber(stats.max)} · n = ${stats.n}`,
            )
          : null,
        baseline !== undefined && comparison.baseline
          ? h('p', { class: 'muted', 'data-testid': 'baseline-value' }, `baseline ${comparison.baseline.name}: ${formatNumber(baseline)}`)
          : null,
      ),
    );
  }
  out.push(rankings);

  out.push(
    h(
      'div',
      { class: 'pareto', 'data-testid': 'pareto' },
      h('h3', null, 'Pareto frontier'),
      metrics.length < 2
        ? h('p', { class: 'muted' }, 'Pick two metrics or more: the frontier holds the experiments no other beats on all of them.')
        : comparison.paretoFrontier.length === 0
          ? h('p', { class: 'muted' }, 'No experiment has a value of every chosen metric.')
          : h(
              'p',
              null,
              `${comparison.paretoFrontier.length} of ${comparison.experiments.length}: `,
              comparison.paretoFrontier.map((id) =>
                h('a', { class: 'pareto-name', href: href(`/experiments/${id}`), 'data-id': id }, name(id)),
              ),
            ),
    ),
  );

  out.push(
    h(
      'div',
      { class: 'significance' },
      h('h3', null, 'Significance (Welch’s t-test)'),
      comparison.significance.length === 0
        ? h('p', { class: 'muted' }, 'Nothing to test: that needs two configurations with two completed runs or more each.')
        : h(
            'table',
            { class: 'grid', 'data-testid': 'significance' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['metric', 'best group', 'other group', 'mean A', 'mean B', 't', 'df', 'p'].map((t, i) =>
                  h('th', { class: i >= 3 ? 'num' : null }, t),
                ),
              ),
            ),
            h(
              'tbody',
              null,
              comparison.significance.map((s) =>
                h(
                  'tr',
                  { 'data-metric': s.metric, class: s.pValue !== null && s.pValue < 0.05 ? 'significant' : null },
                  h('td', null, s.metric),
                  h('td', { class: 'wrap' }, `${s.groupA} (n = ${s.idsA.length})`),
                  h('td', { class: 'wrap' }, `${s.groupB} (n = ${s.idsB.length})`),
                  h('td', { class: 'num' }, formatNumber(s.meanA)),
                  h('td', { class: 'num' }, formatNumber(s.meanB)),
                  h('td', { class: 'num', 'data-value': s.t }, formatNumber(s.t)),
                  h('td', { class: 'num', 'data-value': s.df }, formatNumber(s.df)),
                  h('td', { class: 'num', 'data-value': s.pValue }, formatNumber(s.pValue)),
                ),
              ),
            ),
          ),
    ),
  );

  if (comparison.correlations.length > 0) {
    out.push(
      h(
        'div',
        { class: 'correlations' },
        h('h3', null, 'Correlations with params'),
        h(
          'table',
          { class: 'grid', 'data-testid': 'correlations' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['param', 'metric', 'Pearson r', 'Spearman ρ', 'n'].map((t, i) => h('th', { class: i >= 2 ? 'num' : null }, t)),
            ),
          ),
          h(
            'tbody',
            null,
            comparison.correlations.map((c) =>
              h(
                'tr',
                null,
                h('td', null, c.param),
                h('td', null, c.metric),
                h('td', { class: 'num' }, formatNumber(c.pearson)),
                h('td', { class: 'num' }, formatNumber(c.spearman)),
                h('td', { class: 'num' }, c.n),
              ),
            ),
          ),
        ),
      ),
    );
  }

  out.push(
    h(
      'div',
      { class: 'insights' },
      h('h3', null, 'Insights'),
      comparison.insights.length === 0
        ? h('p', { class: 'muted' }, 'No insight from these numbers.')
        : h(
            'ul',
            { 'data-testid': 'insights' },
            comparison.insights.map((text) => h('li', null, text)),
          ),
    ),
  );
  return out;
}
