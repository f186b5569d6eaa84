// Run publisher: sends an experiment's run — its snapshot when it changed, its log lines after the last acknowledged position — and passes a remote cancel request on to the local store.

import { createHash } from 'node:crypto';
import type { LablogError } from '../model/errors.js';
import { runSnapshot } from '../model/run-publication.js';
import { LIVE_RUN_STATUSES, type StoredLogLine } from '../model/run.js';
import type { WireRunAnswer, WireRunLogs, WireRunLogsAnswer } from '../remote/protocol.js';
import type { PublishSource } from '../store/publish-source.js';
import { isRetryable, type RemoteClient, type RetryPolicy } from './remote-client.js';

/** Log lines per publish request (the server takes at most MAX_LOG_LINES_PER_REQUEST). */
export const LOG_LINES_PER_REQUEST = 5_000;
/** Characters of log text per publish request, roughly (at least one line goes; the server takes at most MAX_LOG_BYTES_PER_REQUEST). */
export const LOG_CHARS_PER_REQUEST = 4 * 1024 * 1024;
/** Publish requests for one run's logs in one pass (a run logging faster than this is caught up by the next pass). */
const MAX_LOG_REQUESTS_PER_PASS = 1_000;

/** What publishing a run did: lines stored and already there, whether the remote asked for a cancel, and a problem if any. */
export interface RunPublication {
  readonly accepted: number;
  readonly skipped: number;
  /** The remote holds a cancel request the local store did not have: it was recorded here (the supervisor acts on it). */
  readonly cancelPassedOn: boolean;
  readonly problem?: LablogError;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The lines of a page that fit one request: at least one, at most LOG_CHARS_PER_REQUEST characters. */
function fitting(lines: readonly StoredLogLine[]): StoredLogLine[] {
  let chars = 0;
  let n = 0;
  while (n < lines.length && (n === 0 || chars + lines[n]!.text.length <= LOG_CHARS_PER_REQUEST)) chars += lines[n++]!.text.length;
  return lines.slice(0, n);
}

/**
 * Publishes the run of experiment `id` if it is one (its experiment published before). Throws what the
 * remote cannot be reached with (retryable); other failures are returned as the problem.
 */
export async function publishRun(
  source: PublishSource,
  client: RemoteClient,
  id: string,
  retry: RetryPolicy,
): Promise<RunPublication | undefined> {
  const runs = source.runs();
  const run = runs.getRun(id);
  if (run === undefined) return undefined;
  const remote = client.url;
  const path = `/api/v1/runs/${id}`;
  let accepted = 0;
  let skipped = 0;
  let remoteCancel: number | null | undefined;
  try {
    const ledger = source.runLedger(remote, id);
    const snapshot = runSnapshot(run, runs.attempts(id), runs.transitions(id));
    const hash = sha256(JSON.stringify(snapshot));
    if (hash !== ledger.snapshotHash) {
      const answer = await client.call<WireRunAnswer>('PUT', path, snapshot, retry);
      source.saveRunSnapshot(remote, id, hash, Date.now());
      remoteCancel = answer.run.cancelRequestedAt;
    }
    // Lines after the acknowledged position; a lost answer sends them again and the server skips what it has.
    let position = ledger.logPosition;
    for (let request = 0; request < MAX_LOG_REQUESTS_PER_PASS; request++) {
      const page = runs.readLogs(id, { after: position, limit: LOG_LINES_PER_REQUEST });
      if (page.lines.length === 0) break;
      const lines = fitting(page.lines);
      const body: WireRunLogs = { lines, linesDropped: page.linesDropped, bytesDropped: page.bytesDropped };
      const answer = await client.call<WireRunLogsAnswer>('POST', `${path}/logs`, body, retry);
      source.saveLogPosition(remote, id, answer.position, Date.now());
      accepted += answer.accepted;
      skipped += answer.skipped;
      remoteCancel = answer.cancelRequestedAt;
      position = Math.max(answer.position, lines[lines.length - 1]!.position);
    }
    // A live run whose requests this pass said nothing of a cancel: one cheap read, so a cancel made on the server arrives within a pass.
    const live = (LIVE_RUN_STATUSES as readonly string[]).includes(run.status);
    if (live && remoteCancel === undefined)
      remoteCancel = (await client.call<WireRunAnswer>('GET', path, undefined, retry)).run.cancelRequestedAt;
    let cancelPassedOn = false;
    if (live && remoteCancel !== null && remoteCancel !== undefined && run.cancelRequestedAt === null) {
      cancelPassedOn = runs.requestCancel(id, Date.now()).kind === 'requested';
    }
    return { accepted, skipped, cancelPassedOn };
  } catch (error) {
    if (isRetryable(error) || (error as LablogError).code === 'UNAUTHENTICATED') throw error;
    return { accepted, skipped, cancelPassedOn: false, problem: error as LablogError };
  }
}
