// Tables as records: a logged Arrow table and its summary.

export interface TableRecord {
  readonly name: string;
  /** Arrow IPC stream bytes. */
  readonly ipc: Buffer;
  readonly rows: number;
  readonly columns: number;
  readonly loggedAt: number;
}

export type TableSummary = Omit<TableRecord, 'ipc'>;
