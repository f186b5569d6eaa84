// The sync ledger capability of the embedded store: what each remote has acknowledged of each experiment (types only).

/** A truncation (resume from a step) the local store recorded, in order, for publishers to replay. */
export interface Truncation {
  readonly seq: number;
  readonly fromStep: number;
}

/** What one remote has acknowledged of one experiment. */
export interface LedgerEntry {
  /** Hash of the experiment description last acknowledged; null: never published there. */
  readonly metaHash: string | null;
  readonly remoteName: string | null;
  /** The last truncation (resumeFrom) the remote has applied. */
  readonly truncationSeq: number;
  /** Per series: the last step the remote acknowledged. */
  readonly series: ReadonlyMap<string, number>;
  /** Per table: the loggedAt the remote acknowledged. */
  readonly tables: ReadonlyMap<string, number>;
}

/** Per remote and experiment: what was acknowledged, kept beside the data so a re-run sync sends only what is new. */
export interface SyncLedger {
  /** The truncations recorded for an experiment after `seq`, in order. */
  truncationsAfter(experimentId: string, seq: number): Truncation[];
  ledger(remote: string, experimentId: string): LedgerEntry;
  saveMeta(remote: string, experimentId: string, metaHash: string, remoteName: string, now: number): void;
  saveTruncation(remote: string, experimentId: string, seq: number, fromStep: number): void;
  /**
   * Records acknowledged steps, unless the remote's truncation seq is no longer `truncationSeq` (another
   * publisher sent a truncation since these answers were given); false then, and nothing is saved.
   */
  saveWatermarks(remote: string, experimentId: string, watermarks: ReadonlyMap<string, number>, truncationSeq: number): boolean;
  saveTable(remote: string, experimentId: string, name: string, loggedAt: number): void;
}
