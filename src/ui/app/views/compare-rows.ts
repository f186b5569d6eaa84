// The compare view's rows: the chosen experiments' table rows, and the metric and param names and values the sections read from them.

import { api } from '../api.js';
import { fromJsonNumber, type JsonNumber } from '../../../model/json-number.js';
import type { ExperimentRow, ParamValue } from '../../ui-api.js';

export type Stat = 'last' | 'min' | 'max';

export const collator = new Intl.Collator(undefined, { numeric: true });

export const finite = (v: JsonNumber | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

export function statOf(row: ExperimentRow, metric: string, stat: Stat): number | null {
  const summary = row.metrics[metric];
  return summary === undefined ? null : fromJsonNumber(summary[stat]);
}

/** A param as a stable text, for "does it differ" and categorical axes. */
function paramKey(value: ParamValue | undefined): string {
  return value === undefined ? '∅' : `${typeof value}:${String(value)}`;
}

/** The rows of the chosen experiments, in the order of `ids`, and the ids no readable project has. */
export async function loadRows(ids: readonly string[]): Promise<{ rows: ExperimentRow[]; missing: string[] }> {
  const table = await api.experimentsByIds(ids);
  const found = new Map(table.experiments.map((row) => [row.id, row]));
  return { rows: ids.flatMap((id) => found.get(id) ?? []), missing: ids.filter((id) => !found.has(id)) };
}

/** Metric names of the rows, most shared first, then by name. */
export function metricKeysOf(rows: readonly ExperimentRow[]): string[] {
  const counts = new Map<string, number>();
  for (const row of rows) for (const key of Object.keys(row.metrics)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || collator.compare(a, b));
}

export function paramKeysOf(rows: readonly ExperimentRow[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort(collator.compare);
}

export function differs(rows: readonly ExperimentRow[], key: string): boolean {
  return new Set(rows.map((r) => paramKey(r.params[key]))).size > 1;
}
