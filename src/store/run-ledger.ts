// The run part of the sync ledger (client side): per remote, the hash of the run snapshot and the last log position it acknowledged (types only).

/** What one remote has acknowledged of one run. */
export interface RunLedgerEntry {
  /** Hash of the run snapshot last acknowledged; null: never sent there. */
  readonly snapshotHash: string | null;
  /** The last log position the remote acknowledged (0: none). */
  readonly logPosition: number;
}

/** Per remote and run: what was acknowledged, so a re-run sync sends only what changed and lines only once. */
export interface RunLedger {
  runLedger(remote: string, runId: string): RunLedgerEntry;
  saveRunSnapshot(remote: string, runId: string, snapshotHash: string, now: number): void;
  /** Records the remote's last position; never moves it back (another publisher may have saved a later one). */
  saveLogPosition(remote: string, runId: string, position: number, now: number): void;
}
