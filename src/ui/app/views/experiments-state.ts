// The experiments page's state: the table, its filters, sort, columns, rows shown and selection, read from the URL and mirrored in it.

import type { Filter } from '../filter.js';
import { replaceQuery } from '../navigation.js';
import type { ExperimentTable } from '../../ui-api.js';
import { decodeCols, defaultColumns, encodeCols, type RowQuery } from './experiments-columns.js';

/** Rows rendered at once; "Show more" adds as many again. Filter and sort always run over every row. */
export const PAGE_ROWS = 500;

export interface TableState extends RowQuery {
  /** The project's table as last fetched (polling replaces it). */
  table: ExperimentTable;
  readonly project: string;
  filterText: string;
  statusFilter: string;
  tagFilter: string;
  sortId: string | null;
  order: 'asc' | 'desc';
  /** The param and metric columns shown; custom once the user chose them (else the defaults follow the data). */
  colIds: string[];
  customCols: boolean;
  /** The parsed filter text (null when empty or invalid). */
  condition: Filter | null;
  /** Rows rendered (a multiple of PAGE_ROWS). */
  limit: number;
  readonly selected: Set<string>;
  /** The ids of the rows rendered, in order. */
  renderedIds: string[];
}

/** The state the URL describes (`filter`, `status`, `tag`, `sort`, `order`, `cols`), over this table. */
export function readState(query: URLSearchParams, project: string, table: ExperimentTable): TableState {
  const queryCols = query.get('cols');
  return {
    table,
    project,
    filterText: query.get('filter') ?? '',
    statusFilter: query.get('status') ?? '',
    tagFilter: query.get('tag') ?? '',
    sortId: query.get('sort') || null,
    order: query.get('order') === 'desc' ? 'desc' : 'asc',
    customCols: queryCols !== null,
    colIds: queryCols !== null ? decodeCols(queryCols) : defaultColumns(table),
    condition: null,
    limit: PAGE_ROWS,
    selected: new Set<string>(),
    renderedIds: [],
  };
}

/** Mirrors the state in the URL (without a history entry). */
export function syncUrl(state: TableState): void {
  replaceQuery({
    project: state.project,
    filter: state.filterText || undefined,
    status: state.statusFilter || undefined,
    tag: state.tagFilter || undefined,
    sort: state.sortId ?? undefined,
    order: state.sortId ? state.order : undefined,
    cols: state.customCols ? encodeCols(state.colIds) : undefined,
  });
}
