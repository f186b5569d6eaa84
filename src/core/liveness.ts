// Liveness: decides when a 'running' experiment's process is gone, so it can be shown as crashed.

import { hostname } from 'node:os';
import { MAX_HOSTNAME_LENGTH } from '../model/limits.js';
import type { ExperimentRecord } from '../model/experiment.js';
import { LIVE_RUN_STATUSES, type RunRecord } from '../model/run.js';
import type { TrialRecord } from '../model/sweep.js';

/** A running experiment writes its heartbeat at least this often, even when it logs nothing. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** On another host (where its pid cannot be checked), a run whose heartbeat is older than this is gone. */
export const STALE_HEARTBEAT_MS = 5 * 60_000;

/** This machine's name as recorded with its experiments (cut to MAX_HOSTNAME_LENGTH, which servers enforce). */
export const THIS_HOST = hostname().slice(0, MAX_HOSTNAME_LENGTH);

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when a record says 'running' but its process has died: on this host, its pid no longer exists;
 * elsewhere, its heartbeat is stale.
 */
export function isCrashed(record: ExperimentRecord, now: number): boolean {
  if (record.status !== 'running') return false;
  if (record.hostname === THIS_HOST && record.pid !== null) {
    if (record.pid === process.pid) return false;
    return !isProcessAlive(record.pid);
  }
  const lastSign = record.heartbeatAt ?? record.updatedAt;
  return now - lastSign > STALE_HEARTBEAT_MS;
}

/**
 * True when a run says it is in flight (pending, running, cancelling) but its supervisor on this host has
 * died. A run supervised on another host is not judged here (its experiment's heartbeat is).
 */
export function isRunOrphaned(record: RunRecord): boolean {
  if (!(LIVE_RUN_STATUSES as readonly string[]).includes(record.status)) return false;
  if (record.hostname !== THIS_HOST || record.supervisorPid === process.pid) return false;
  return !isProcessAlive(record.supervisorPid);
}

/**
 * True when a trial says 'running' but its worker is gone: on this host, its pid no longer exists (this
 * process's own trials are alive); elsewhere, its heartbeat is older than STALE_HEARTBEAT_MS.
 */
export function isTrialOrphaned(trial: TrialRecord, now: number): boolean {
  if (trial.status !== 'running' || trial.worker === null) return false;
  if (trial.worker.host === THIS_HOST) return trial.worker.pid !== process.pid && !isProcessAlive(trial.worker.pid);
  return now - (trial.heartbeatAt ?? trial.createdAt) > STALE_HEARTBEAT_MS;
}
