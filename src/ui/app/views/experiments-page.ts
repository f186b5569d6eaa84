// What the parts of the experiments page share: its state, the elements they fill, and the redraws they ask for.

import type { TableState } from './experiments-state.js';

export interface ExperimentsPage {
  readonly state: TableState;
  readonly thead: HTMLTableSectionElement;
  readonly tbody: HTMLTableSectionElement;
  readonly rowCount: HTMLElement;
  readonly truncatedNote: HTMLElement;
  readonly more: HTMLElement;
  readonly compareButton: HTMLButtonElement;
  readonly clearButton: HTMLButtonElement;
  readonly columnsChooser: HTMLDetailsElement;
  /** Re-parses the filter (keys may have changed), then redraws the table and the URL. */
  update(): void;
  /** Redraws the table from the state. */
  renderTable(): void;
}
