// Navigation: what a view gets from the router, links to routes, and changing the current route's query.

/** What a view gets: where to draw, the route's query, and a signal aborted when the user navigates away. */
export interface ViewContext {
  readonly root: HTMLElement;
  readonly query: URLSearchParams;
  /** Aborted when another route is shown: stop polling, drop late answers. */
  readonly signal: AbortSignal;
}

export type View = (ctx: ViewContext, ...params: string[]) => Promise<void> | void;

/** A link to a route: `href('/experiments/ID')`, `href('/compare', { ids: 'a,b' })`. */
export function href(path: string, query?: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') search.set(k, v);
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

/** Changes the current route's query without adding a history entry or re-rendering (for filters and sort). */
export function replaceQuery(query: Record<string, string | undefined>): void {
  const [path] = location.hash.slice(1).split('?');
  history.replaceState(null, '', href(path || '/', query));
}
