// The studies pages: the list of studies, and one study with its question, statistics, scaling law, members, a link to compare them (and to its sweep page).

import './studies.css';
import { defaultMetricGoal } from '../../../model/metric-goal.js';
import { templateObjective } from '../../../model/study.js';
import { api, type StudyDetailJson, type StudyJson } from '../api.js';
import { formatDuration, formatNumber, formatTime, h, mount, statusBadge } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';
import { MAX_SERIES_EXPERIMENTS, type ExperimentRow } from '../../ui-api.js';
import { scalingPanel } from './study-scaling.js';

/** Characters of a hypothesis shown in the list (the whole text is the cell's tooltip). */
const HYPOTHESIS_CHARS = 120;

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1).trimEnd()}…`;
}

function tags(list: readonly string[]): HTMLElement[] {
  return list.map((t) => h('span', { class: 'tag' }, t));
}

const CREATE_SNIPPET = `import { openStore } from 'lablog';

const store = openStore();
const study = store.createStudy({
  name: 'lr-sweep',
  project: 'my-project',
  hypothesis: 'A larger learning rate reaches a lower val/loss',
  baseline: { name: 'paper', metrics: { 'val/loss': 0.35 } }, // or an experiment's name
});
for (const lr of [0.05, 0.2]) {
  const exp = store.createExperiment({ name: \`lr-\${lr}\`, project: 'my-project', study });
  exp.logParams({ learning_rate: lr });
  // … train, exp.logMetric('val/loss', loss) …
  await exp.close();
}
study.compare({ metrics: [{ name: 'val/loss', goal: 'minimize' }] });`;

export async function renderStudies(ctx: ViewContext): Promise<void> {
  const project = ctx.query.get('project') ?? undefined;
  const [list, overview] = await Promise.all([api.studies(project), api.overview().catch(() => null)]);
  if (ctx.signal.aborted) return;

  const projects = [...new Set([...(overview?.projects.map((p) => p.name) ?? []), ...(project !== undefined ? [project] : [])])].sort();
  const projectSelect = h(
    'select',
    { 'data-testid': 'studies-project' },
    h('option', { value: '' }, 'all projects'),
    projects.map((p) => h('option', { value: p }, p)),
  );
  projectSelect.value = project ?? '';
  projectSelect.addEventListener('change', () => {
    location.hash = href('/studies', { project: projectSelect.value || undefined });
  });
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('label', null, 'project ', projectSelect),
    h(
      'span',
      { class: 'muted' },
      list.total === list.studies.length ? `${list.total} studies` : `the newest ${list.studies.length} of ${list.total} studies`,
    ),
  );

  if (list.studies.length === 0) {
    mount(
      ctx.root,
      h('h1', null, 'Studies'),
      projects.length > 1 ? toolbar : null,
      h(
        'div',
        { class: 'empty', 'data-testid': 'studies-empty' },
        h('h2', null, project !== undefined ? `No studies in ${project} yet` : 'No studies yet'),
        h(
          'p',
          null,
          'A study groups experiments around a hypothesis, then compares them with statistics: rankings, Welch t-tests between configurations, correlations and the Pareto frontier.',
        ),
        h('p', null, 'Create one in your training code and attach experiments to it:'),
        h('pre', { class: 'snippet' }, h('code', null, CREATE_SNIPPET)),
        h(
          'p',
          null,
          'It shows here once logged (or published to this server); ',
          h('code', null, 'npx lablog studies'),
          ' lists them in a terminal.',
        ),
      ),
    );
    return;
  }

  const body = h(
    'tbody',
    null,
    list.studies.map((s) =>
      h(
        'tr',
        { 'data-id': s.id },
        h('td', { 'data-col': 'name', 'data-value': s.name }, h('a', { href: href(`/studies/${s.id}`) }, s.name)),
        h('td', { 'data-col': 'status', 'data-value': s.status }, statusBadge(s.status)),
        h('td', { 'data-col': 'project', 'data-value': s.project }, s.project),
        h('td', { 'data-col': 'tags' }, tags(s.tags)),
        h(
          'td',
          { 'data-col': 'hypothesis', class: 'hypothesis-cell', title: s.hypothesis ?? null },
          s.hypothesis === null ? h('span', { class: 'muted' }, '—') : truncate(s.hypothesis, HYPOTHESIS_CHARS),
        ),
        h('td', { 'data-col': 'members', class: 'num' }, h('span', { class: 'muted' }, '…')),
        h('td', { 'data-col': 'created', 'data-value': s.createdAt }, formatTime(s.createdAt)),
        h('td', { 'data-col': 'updated', 'data-value': s.updatedAt }, formatTime(s.updatedAt)),
      ),
    ),
  );
  mount(
    ctx.root,
    h('h1', null, 'Studies'),
    toolbar,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid studies-table', 'data-testid': 'studies' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['name', 'status', 'project', 'tags', 'hypothesis', 'members', 'created', 'updated'].map((c) =>
              h('th', { 'data-col': c, class: c === 'members' ? 'num' : null }, c),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  void fillMemberCounts(ctx, list.studies, body);
}

/** Member counts: the list answer has none, so they come from the projects' experiment tables (each row names its study). */
async function fillMemberCounts(ctx: ViewContext, studies: readonly StudyJson[], body: HTMLElement): Promise<void> {
  const counts = new Map<string, number>();
  const partial = new Set<string>();
  await Promise.all(
    [...new Set(studies.map((s) => s.project))].map(async (project) => {
      try {
        const table = await api.experiments(project);
        for (const row of table.experiments) if (row.studyId !== null) counts.set(row.studyId, (counts.get(row.studyId) ?? 0) + 1);
        if (table.truncated) partial.add(project);
      } catch {
        partial.add(project);
      }
    }),
  );
  if (ctx.signal.aborted) return;
  for (const s of studies) {
    const cell = body.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(s.id)}"] td[data-col="members"]`);
    if (!cell) continue;
    const n = counts.get(s.id) ?? 0;
    if (partial.has(s.project)) {
      mount(cell, n > 0 ? `≥ ${n}` : h('span', { class: 'muted' }, '—'));
    } else {
      cell.dataset['value'] = String(n);
      mount(cell, String(n));
    }
  }
}

type Template = { kind: string; parameters: Record<string, unknown> };

function asTemplate(value: unknown): Template | null {
  if (typeof value !== 'object' || value === null) return null;
  const t = value as { kind?: unknown; parameters?: unknown };
  if (typeof t.kind !== 'string') return null;
  return {
    kind: t.kind,
    parameters: typeof t.parameters === 'object' && t.parameters !== null ? (t.parameters as Record<string, unknown>) : {},
  };
}

/** A template parameter as text: arrays joined, search spaces one param a line. */
function describeParameter(value: unknown): (string | HTMLElement)[] {
  if (Array.isArray(value)) return [value.map((v) => String(v)).join(', ')];
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).map(([k, v]) =>
      h('div', null, h('span', { class: 'muted' }, `${k}: `), Array.isArray(v) ? v.map((x) => String(x)).join(', ') : JSON.stringify(v)),
    );
  }
  return [String(value)];
}

/** The metric and goal the study names in its template (the goal its name suggests when it states none), if any. */
function templateMetric(template: Template | null): { metric: string; goal: 'minimize' | 'maximize' } | null {
  const objective = template === null ? null : templateObjective(template);
  return objective === null ? null : { metric: objective.metric, goal: objective.goal ?? defaultMetricGoal(objective.metric) };
}

function stat(key: string, label: string, value: number | string | null, text: string | HTMLElement): HTMLElement[] {
  return [h('dt', null, label), h('dd', { 'data-stat': key, 'data-value': value }, text)];
}

export async function renderStudy(ctx: ViewContext, id: string): Promise<void> {
  const study = await api.study(id);
  if (ctx.signal.aborted) return;
  const table = await api.experiments(study.project).catch(() => null);
  if (ctx.signal.aborted) return;
  const rows = new Map<string, ExperimentRow>((table?.experiments ?? []).map((r) => [r.id, r]));
  const experimentLink = (experimentId: string) => {
    const row = rows.get(experimentId);
    return h('a', { href: href(`/experiments/${experimentId}`), 'data-id': experimentId }, row?.name ?? experimentId);
  };
  const template = asTemplate(study.template);
  const objective = templateMetric(template);

  const members = [...study.members].sort((a, b) => a.addedAt - b.addedAt);
  const memberIds = members.map((m) => m.experimentId);
  const compareIds = memberIds.slice(0, MAX_SERIES_EXPERIMENTS);

  mount(
    ctx.root,
    h('p', { class: 'crumbs' }, h('a', { href: href('/studies', { project: study.project }) }, 'Studies'), ' / ', study.project),
    h('h1', { class: 'study-title' }, study.name, ' ', statusBadge(study.status), ' ', tags(study.tags)),
    study.description !== null ? h('p', { class: 'study-description' }, study.description) : null,
    // A sweep's study says so in its metadata (createSweep sets it): its trials, history and importances are on the sweep page.
    study.metadata['sweep'] === true
      ? h(
          'p',
          null,
          h(
            'a',
            { class: 'button-link', 'data-testid': 'study-sweep', href: href(`/sweeps/${study.id}`) },
            'Sweep: trials, history, importances',
          ),
        )
      : null,
    h(
      'div',
      { class: 'study-top' },
      h(
        'section',
        { class: 'panel' },
        h('h2', null, 'Question'),
        h(
          'dl',
          { class: 'kv' },
          h('dt', null, 'hypothesis'),
          h('dd', { 'data-testid': 'hypothesis', class: 'prose' }, study.hypothesis ?? h('span', { class: 'muted' }, 'No hypothesis')),
          h('dt', null, 'baseline'),
          h('dd', { 'data-testid': 'baseline' }, baselineView(study, experimentLink)),
          h('dt', null, 'conclusion'),
          h('dd', { 'data-testid': 'conclusion', class: 'prose' }, study.conclusion ?? h('span', { class: 'muted' }, 'No conclusion yet')),
          study.archiveReason !== null ? [h('dt', null, 'archived because'), h('dd', { class: 'prose' }, study.archiveReason)] : null,
          h('dt', null, 'created'),
          h('dd', null, formatTime(study.createdAt)),
          h('dt', null, 'updated'),
          h('dd', null, formatTime(study.updatedAt)),
          Object.entries(study.metadata).flatMap(([k, v]) => [
            h('dt', null, k),
            h('dd', null, typeof v === 'string' ? v : JSON.stringify(v)),
          ]),
        ),
      ),
      statisticsView(study, rows, objective, experimentLink),
      template !== null
        ? h(
            'section',
            { class: 'panel', 'data-testid': 'template' },
            h('h2', null, `Template · ${template.kind}`),
            h(
              'dl',
              { class: 'kv' },
              Object.entries(template.parameters).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, describeParameter(v))]),
            ),
          )
        : null,
    ),
    template?.kind === 'progressive_scaling' && template.parameters['scaling_law_analysis'] !== false ? scalingPanel(ctx, study.id) : null,
    h(
      'div',
      { class: 'toolbar study-members-bar' },
      h('h2', null, `Members (${members.length})`),
      members.length >= 2
        ? h(
            'a',
            {
              class: 'button-link',
              'data-testid': 'compare-members',
              href: href('/compare', { ids: compareIds.join(','), metric: objective?.metric }),
            },
            compareIds.length < memberIds.length ? `Compare the first ${compareIds.length} members` : 'Compare members',
          )
        : null,
      table?.truncated
        ? h(
            'span',
            { class: 'muted' },
            `Names of members older than the newest ${table.experiments.length} experiments of ${study.project} are not loaded.`,
          )
        : null,
    ),
    members.length === 0
      ? h(
          'div',
          { class: 'empty', 'data-testid': 'members-empty' },
          h('p', null, 'No experiments in this study yet. Attach them when you create them:'),
          h(
            'pre',
            { class: 'snippet' },
            h(
              'code',
              null,
              `store.createExperiment({ name: 'run-1', project: '${study.project}', study })   // or study.addExperiment(exp, { notes, tags })`,
            ),
          ),
        )
      : membersTable(members, rows, objective?.metric ?? null),
  );
}

function baselineView(study: StudyDetailJson, experimentLink: (id: string) => HTMLElement): (string | HTMLElement)[] {
  const b = study.baseline;
  if (b === null) return [h('span', { class: 'muted' }, 'No baseline')];
  if ('experimentId' in b) return [experimentLink(b.experimentId)];
  return [
    h('span', { class: 'baseline-name' }, b.name),
    h(
      'span',
      { class: 'baseline-metrics' },
      Object.entries(b.metrics).map(([k, v]) =>
        h('span', { class: 'baseline-metric', 'data-metric': k, 'data-value': v }, `${k} = ${formatNumber(v)}`),
      ),
    ),
  ];
}

function statisticsView(
  study: StudyDetailJson,
  rows: ReadonlyMap<string, ExperimentRow>,
  objective: { metric: string; goal: 'minimize' | 'maximize' } | null,
  experimentLink: (id: string) => HTMLElement,
): HTMLElement {
  const s = study.statistics;
  // The server picks a best experiment only for a metric it is asked about: by default the template's metric, from the members' last values.
  let best = s.best;
  if (best === null && objective !== null) {
    for (const m of study.members) {
      const row = rows.get(m.experimentId);
      const value = row?.status === 'completed' ? row.metrics[objective.metric]?.last : null;
      if (row === undefined || typeof value !== 'number') continue;
      if (best === null || (objective.goal === 'minimize' ? value < best.value : value > best.value))
        best = { id: row.id, name: row.name, metric: objective.metric, value };
    }
  }
  const counts = (['total', 'completed', 'running', 'failed', 'crashed', 'cancelled'] as const).flatMap((k) =>
    stat(k, k, s[k], String(s[k])),
  );
  return h(
    'section',
    { class: 'panel' },
    h('h2', null, 'Statistics'),
    h(
      'dl',
      { class: 'kv', 'data-testid': 'statistics' },
      counts,
      stat(
        'best',
        'best',
        best?.value ?? null,
        best === null
          ? h('span', { class: 'muted' }, '—')
          : h('span', null, experimentLink(best.id), ` · ${best.metric} = ${formatNumber(best.value)}`),
      ),
      stat('totalTrainingTimeMs', 'total training time', s.totalTrainingTimeMs, formatDuration(s.totalTrainingTimeMs)),
      stat('meanTrainingTimeMs', 'mean training time', s.meanTrainingTimeMs, formatDuration(s.meanTrainingTimeMs)),
      stat('totalCost', 'total cost', s.totalCost, formatNumber(s.totalCost)),
    ),
  );
}

function membersTable(members: StudyDetailJson['members'], rows: ReadonlyMap<string, ExperimentRow>, metric: string | null): HTMLElement {
  const columns = ['name', 'status', ...(metric !== null ? [`metric:${metric}:last`] : []), 'notes', 'tags', 'added'];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid members-table', 'data-testid': 'members' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((c) =>
            h('th', { 'data-col': c, class: c.startsWith('metric:') ? 'num' : null }, c.startsWith('metric:') ? `${metric} (last)` : c),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        members.map((m) => {
          const row = rows.get(m.experimentId);
          const last = metric !== null ? (row?.metrics[metric]?.last ?? null) : null;
          return h(
            'tr',
            { 'data-id': m.experimentId },
            h(
              'td',
              { 'data-col': 'name', 'data-value': row?.name ?? null },
              h('a', { href: href(`/experiments/${m.experimentId}`) }, row?.name ?? m.experimentId),
            ),
            h(
              'td',
              { 'data-col': 'status', 'data-value': row?.status ?? null },
              row ? statusBadge(row.status) : h('span', { class: 'muted' }, 'unknown'),
            ),
            metric !== null ? h('td', { 'data-col': `metric:${metric}:last`, 'data-value': last, class: 'num' }, formatNumber(last)) : null,
            h('td', { 'data-col': 'notes', class: 'notes-cell' }, m.notes ?? ''),
            h('td', { 'data-col': 'tags' }, tags(m.tags)),
            h('td', { 'data-col': 'added', 'data-value': m.addedAt }, formatTime(m.addedAt)),
          );
        }),
      ),
    ),
  );
}
