// The experiments page with nothing to show: how to log a first experiment into the store it reads.

import { emptyState, h } from '../dom.js';
import type { Overview } from '../../ui-api.js';

const SNIPPET = (project: string) => `import { openStore } from 'lablog';

const store = openStore(); // ./.lablog/lablog.db, or $LABLOG_DIR/lablog.db
const exp = store.createExperiment({ name: 'first', project: '${project}' });
exp.logParams({ learning_rate: 0.01, batch_size: 32 });
for (let step = 0; step < 100; step++) {
  exp.logMetric('train/loss', 1 / (step + 1), { step });
}
await exp.close(); // status 'completed'`;

/** What to do when there is nothing to show: a logging snippet for a first experiment. */
export function firstExperimentHelp(overview: Overview, project: string | null): HTMLElement {
  const box = emptyState(
    project === null ? 'No experiments yet' : `No experiments in ${project} yet`,
    overview.mode === 'local'
      ? ['This UI reads ', h('code', null, overview.store), '. Log a first experiment into that store from your training code:']
      : [
          'Nothing your API key may read has been published to this server yet. Log an experiment (and publish it with ',
          h('code', null, 'LABLOG_REMOTE'),
          '):',
        ],
  );
  box.append(
    h('pre', { class: 'snippet' }, h('code', null, SNIPPET(project ?? 'default'))),
    h(
      'p',
      null,
      'Run it (for example with ',
      h('code', null, 'npx tsx train.ts'),
      '), then reload this page. The experiment shows up here while it runs.',
    ),
  );
  return box;
}
