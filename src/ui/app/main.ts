// The lablog web app: a hash router over the views (experiments, experiment, compare, studies, study, sweeps, sweep, login).

import './styles.css';
import { api, whenUnauthenticated } from './api.js';
import { h, mount } from './dom.js';
import { renderCompare } from './views/compare.js';
import { renderExperiment } from './views/experiment.js';
import { renderExperiments } from './views/experiments.js';
import { renderLogin } from './views/login.js';
import { renderStudies, renderStudy } from './views/studies.js';
import { renderSweep } from './views/sweep.js';
import { renderSweeps } from './views/sweeps.js';
import { href, type View } from './navigation.js';

const ROUTES: [RegExp, View, string][] = [
  [/^\/?$/, renderExperiments, 'experiments'],
  [/^\/experiments$/, renderExperiments, 'experiments'],
  [/^\/experiments\/([^/]+)$/, renderExperiment, 'experiments'],
  [/^\/compare$/, renderCompare, 'experiments'],
  [/^\/studies$/, renderStudies, 'studies'],
  [/^\/studies\/([^/]+)$/, renderStudy, 'studies'],
  [/^\/sweeps$/, renderSweeps, 'sweeps'],
  [/^\/sweeps\/([^/]+)$/, renderSweep, 'sweeps'],
  [/^\/login$/, renderLogin, ''],
];

let current: AbortController | undefined;

async function route(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const [path = '/', search = ''] = location.hash.slice(1).split('?');
  const root = document.getElementById('app')!;
  for (const [pattern, view, nav] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    for (const link of document.querySelectorAll<HTMLElement>('[data-nav]')) link.classList.toggle('active', link.dataset['nav'] === nav);
    let params: string[];
    try {
      params = match.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      params = match.slice(1);
    }
    try {
      await view({ root, query: new URLSearchParams(search), signal: controller.signal }, ...params);
    } catch (error) {
      if (controller.signal.aborted) return;
      const e = error as { status?: number; message?: string };
      if (e.status === 401) return; // the login form is shown
      mount(
        root,
        h(
          'div',
          { class: 'error', role: 'alert' },
          h('h2', null, e.status === 404 ? 'Not found' : 'Something went wrong'),
          h('p', null, e.message ?? String(error)),
        ),
      );
    }
    return;
  }
  mount(
    root,
    h('div', { class: 'error' }, h('h2', null, 'Not found'), h('p', null, `No page ${path}. `, h('a', { href: '#/' }, 'Experiments'))),
  );
}

whenUnauthenticated(() => {
  if (!location.hash.startsWith('#/login')) location.hash = href('/login', { next: location.hash.slice(1) || '/' });
});

window.addEventListener('hashchange', () => void route());
void api
  .overview()
  .then((overview) => {
    const store = document.getElementById('store');
    if (store) store.textContent = overview.mode === 'local' ? overview.store : 'lablog server';
    // Views that offer writes (cancelling a run) show them on the team server only.
    document.body.dataset['mode'] = overview.mode;
  })
  .catch(() => {});
void route();
