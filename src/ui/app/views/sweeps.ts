// The sweeps list: every readable sweep (or a project's), newest first, with its status, search and progress, each linking to its page.

import './sweeps.css';
import { api } from '../api.js';
import { formatTime, h, mount, statusBadge } from '../dom.js';
import { href, type ViewContext } from '../navigation.js';

const CREATE_SNIPPET = `import { openStore } from 'lablog';

const store = openStore();
const sweep = store.createSweep({
  name: 'mlp-tuning', project: 'my-project', metric: 'val/loss', goal: 'min',
  space: { lr: { type: 'float', min: 1e-5, max: 1, log: true }, optimizer: { type: 'enum', values: ['sgd', 'adam'] } },
  sampler: { type: 'tpe' }, maxTrials: 50,
});
await sweep.optimize(async (trial) => train(trial.params)); // or: npx lablog sweep run mlp-tuning -- node train.js`;

export async function renderSweeps(ctx: ViewContext): Promise<void> {
  const project = ctx.query.get('project') ?? undefined;
  const [list, overview] = await Promise.all([api.sweeps(project), api.overview().catch(() => null)]);
  if (ctx.signal.aborted) return;
  const projects = [...new Set([...(overview?.projects.map((p) => p.name) ?? []), ...(project !== undefined ? [project] : [])])].sort();
  const select = h(
    'select',
    { 'data-testid': 'sweeps-project' },
    h('option', { value: '' }, 'all projects'),
    projects.map((p) => h('option', { value: p }, p)),
  );
  select.value = project ?? '';
  select.addEventListener('change', () => {
    location.hash = href('/sweeps', { project: select.value || undefined });
  });
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('label', null, 'project ', select),
    h('span', { class: 'muted' }, list.truncated ? `the newest ${list.sweeps.length} sweeps` : `${list.sweeps.length} sweeps`),
  );
  if (list.sweeps.length === 0) {
    mount(
      ctx.root,
      h('h1', null, 'Sweeps'),
      projects.length > 1 ? toolbar : null,
      h(
        'div',
        { class: 'empty', 'data-testid': 'sweeps-empty' },
        h('h2', null, project !== undefined ? `No sweeps in ${project} yet` : 'No sweeps yet'),
        h(
          'p',
          null,
          'A sweep searches hyperparameters: a sampler (grid, random, TPE) picks each trial’s params, a pruner stops the bad ones early.',
        ),
        h('pre', { class: 'snippet' }, h('code', null, CREATE_SNIPPET)),
        h('p', null, h('code', null, 'npx lablog sweep ls'), ' lists them in a terminal.'),
      ),
    );
    return;
  }
  mount(
    ctx.root,
    h('h1', null, 'Sweeps'),
    toolbar,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid sweeps-table', 'data-testid': 'sweeps' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['name', 'status', 'project', 'objective', 'sampler', 'max trials', 'created'].map((c) => h('th', { 'data-col': c }, c)),
          ),
        ),
        h(
          'tbody',
          null,
          list.sweeps.map((s) =>
            h(
              'tr',
              { 'data-id': s.id },
              h('td', { 'data-col': 'name' }, h('a', { href: href(`/sweeps/${s.id}`) }, s.name)),
              h('td', { 'data-col': 'status', 'data-value': s.status }, statusBadge(s.status)),
              h('td', { 'data-col': 'project' }, s.project),
              h('td', { 'data-col': 'objective' }, `${s.goal} ${s.metric}`),
              h('td', { 'data-col': 'sampler' }, s.sampler.type),
              h('td', { 'data-col': 'max trials', class: 'num' }, String(s.maxTrials)),
              h('td', { 'data-col': 'created', 'data-value': s.createdAt }, formatTime(s.createdAt)),
            ),
          ),
        ),
      ),
    ),
  );
}
