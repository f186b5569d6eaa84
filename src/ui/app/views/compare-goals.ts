// The compare view's metric goals: the goal each metric's name suggests, unless the user stated one (kept in the URL).

import { defaultMetricGoal, type Goal } from '../../../model/metric-goal.js';

/** A metric's goal as the compare view uses it: stated in the URL's `goals` query, else from its name. */
export class CompareGoals {
  readonly #stated: Map<string, Goal>;

  private constructor(stated: Map<string, Goal>) {
    this.#stated = stated;
  }

  /** Reads the `goals` query: JSON of metric → 'min' | 'max' (metric names may hold any character); anything else is ignored. */
  static fromQuery(text: string | null): CompareGoals {
    const stated = new Map<string, Goal>();
    if (text !== null) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          for (const [name, goal] of Object.entries(parsed)) {
            if (goal === 'min') stated.set(name, 'minimize');
            else if (goal === 'max') stated.set(name, 'maximize');
          }
        }
      } catch {
        // a hand-edited URL: the names' goals apply
      }
    }
    return new CompareGoals(stated);
  }

  of(metric: string): Goal {
    return this.#stated.get(metric) ?? defaultMetricGoal(metric);
  }

  /** True when the user stated this metric's goal. */
  stated(metric: string): boolean {
    return this.#stated.has(metric);
  }

  /** States the other goal for this metric. */
  flip(metric: string): void {
    this.#stated.set(metric, this.of(metric) === 'minimize' ? 'maximize' : 'minimize');
  }

  /** The `goals` query for the URL, or undefined when nothing is stated. */
  toQuery(): string | undefined {
    if (this.#stated.size === 0) return undefined;
    return JSON.stringify(Object.fromEntries([...this.#stated].map(([name, goal]) => [name, goal === 'minimize' ? 'min' : 'max'])));
  }
}
