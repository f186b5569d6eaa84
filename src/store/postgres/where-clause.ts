// The WHERE clause of every PostgreSQL read that filters experiments or studies: one builder, values as numbered parameters.

/** What a read of experiments or studies filters on (ExperimentQuery, StudyFilter, or a lookup by name). */
export interface RowFilter {
  readonly name?: string;
  readonly project?: string;
  /** Only rows in these projects (an API key's scope); an empty list matches nothing. */
  readonly projects?: readonly string[];
  /** One status (studies), or any of several (experiments; an empty list filters nothing). */
  readonly status?: string | readonly string[];
  /** Rows carrying every one of these tags. */
  readonly tags?: readonly string[];
}

/** The tables a filter applies to, and how each keeps its tags. */
export type FilteredTable = 'experiments' | 'studies';

/**
 * The WHERE clause ('' when nothing filters) of a read of `table`; each value is pushed to `args` and named
 * by its position ($1, $2, …), so a caller may have pushed parameters before and push more after.
 */
export function whereClause(table: FilteredTable, filter: RowFilter, args: unknown[]): string {
  const arg = (value: unknown) => {
    args.push(value);
    return `$${args.length}`;
  };
  const clauses: string[] = [];
  if (filter.name !== undefined) clauses.push(`name = ${arg(filter.name)}`);
  if (filter.project !== undefined) clauses.push(`project = ${arg(filter.project)}`);
  if (filter.projects !== undefined) clauses.push(`project = ANY (${arg([...filter.projects])}::text[])`);
  if (typeof filter.status === 'string') clauses.push(`status = ${arg(filter.status)}`);
  else if (filter.status !== undefined && filter.status.length > 0) clauses.push(`status = ANY (${arg([...filter.status])}::text[])`);
  const tags = [...new Set(filter.tags ?? [])];
  if (table === 'experiments') {
    // Tags of experiments are rows of experiment_tags (indexed by tag): one EXISTS per tag.
    for (const tag of tags) {
      clauses.push(`EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = experiments.id AND t.tag = ${arg(tag)})`);
    }
  } else if (tags.length > 0) {
    // Tags of studies are a jsonb array: it contains all of them.
    clauses.push(`tags @> ${arg(JSON.stringify(tags))}::jsonb`);
  }
  return clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
}
