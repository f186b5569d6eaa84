// Test support: a whole metric series read over REST, following the paged answer's `next` cursor.

import { api } from './server-process.js';

/** Most pages one read follows (a series past MAX_PAGES × limit is a test bug). */
const MAX_PAGES = 1_000;

/** GET /metrics page by page from the first step; the answer of the last page with every page's points in it. */
export async function readWholeMetric(server: { url: string }, key: string, experimentId: string, name: string) {
  const base = `/api/v1/experiments/${experimentId}/metrics?key=${encodeURIComponent(name)}`;
  let first: Awaited<ReturnType<typeof api>> | undefined;
  const steps: unknown[] = [];
  const values: unknown[] = [];
  const timestamps: unknown[] = [];
  let from: number | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await api(server, key, 'GET', from === undefined ? base : `${base}&fromStep=${from}`);
    first ??= page;
    if (page.status !== 200) return page;
    steps.push(...page.data.steps);
    values.push(...page.data.values);
    timestamps.push(...page.data.timestamps);
    from = page.data.next;
    if (from === undefined) break;
  }
  return { ...first!, data: { key: name, steps, values, timestamps } };
}
