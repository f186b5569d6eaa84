// `lablog ls`: lists experiments with their status and what each holds.

import type { Store, ListExperimentsOptions } from '../core/store.js';
import { renderTable } from './text-table.js';
import { formatDuration, formatNumber, formatTime } from './format.js';

export function renderExperimentList(store: Store, options: ListExperimentsOptions): string {
  const experiments = store.listExperiments(options);
  if (experiments.length === 0) {
    const where = options.project ? ` in project '${options.project}'` : '';
    return `No experiments${where} in ${store.path}.`;
  }
  const now = Date.now();
  const rows = experiments.map((exp) => {
    const series = exp.listSeries();
    let metrics = 0;
    let values = 0;
    let images = 0;
    let plots = 0;
    for (const s of series) {
      if (s.kind === 'metric') {
        metrics++;
        values += s.count;
      } else if (s.kind === 'image') images += s.count;
      else plots += s.count;
    }
    const end = exp.endedAt?.getTime() ?? (exp.status === 'running' ? now : null);
    return [
      exp.id.slice(0, 8),
      exp.project,
      exp.name,
      exp.status,
      exp.progress === null ? '-' : `${formatNumber(Number(exp.progress.pct.toFixed(1)))}%`,
      formatTime(exp.createdAt),
      end === null ? '-' : formatDuration(end - exp.createdAt.getTime()),
      String(Object.keys(exp.getParams()).length),
      String(metrics),
      String(values),
      String(images),
      String(plots),
      String(exp.listTables().length),
    ];
  });
  const header = [
    'ID',
    'PROJECT',
    'NAME',
    'STATUS',
    'PROGRESS',
    'STARTED',
    'DURATION',
    'PARAMS',
    'METRICS',
    'VALUES',
    'IMAGES',
    'PLOTS',
    'TABLES',
  ];
  const table = renderTable(header, rows, [
    'left',
    'left',
    'left',
    'left',
    'right',
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ]);
  return `${table}\n\n${experiments.length} experiment${experiments.length === 1 ? '' : 's'} in ${store.path}`;
}
