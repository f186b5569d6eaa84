// Trial channel: where a running trial's reports go and where its pruner reads the other trials — the store directly, or a sweep port with reports sent in the background and trials re-read at most once a second.

import type { TrialRecord, TrialStatus } from '../model/sweep.js';
import type { SweepStore } from '../store/sweep-store.js';
import type { SweepPort } from './sweep-port.js';

/** How old a remote sweep's trials may be when a pruner reads them (they are re-read in the background). */
export const REMOTE_TRIALS_REFRESH_MS = 1_000;

/** Synchronous for the objective's loop (`if (trial.shouldPrune(epoch, loss)) …`): it never waits on the network. */
export interface TrialChannel {
  /** Records a report; the trial's status as known now (a stop shows here), undefined when it is gone. */
  report(number: number, step: number, value: number): TrialStatus | undefined;
  /** Every trial of the sweep as known now. */
  trials(): readonly TrialRecord[];
  /** Resolves once every report made so far has been recorded (or has failed to be). */
  flush(): Promise<void>;
}

/** A channel straight to a store of this process: each report is in the store when report() returns. */
export function storeTrialChannel(store: SweepStore, sweepId: string): TrialChannel {
  return {
    report: (number, step, value) => store.reportTrial(sweepId, number, step, value, Date.now()),
    trials: () => store.trials(sweepId),
    flush: async () => undefined,
  };
}

/**
 * A channel over a port (a team server): reports are sent in order in the background, trials are the last
 * ones read (a read starts when they are older than REMOTE_TRIALS_REFRESH_MS). A failed send is retried by
 * the port; one that still fails is dropped, and the trial goes on (a pruner then sees fewer reports).
 */
export function portTrialChannel(port: SweepPort, initial: readonly TrialRecord[]): TrialChannel {
  let known: readonly TrialRecord[] = initial;
  let readAt = Date.now();
  let reading = false;
  const statuses = new Map<number, TrialStatus | undefined>();
  let sent: Promise<void> = Promise.resolve();
  const refresh = (): void => {
    if (reading || Date.now() - readAt < REMOTE_TRIALS_REFRESH_MS) return;
    reading = true;
    port
      .trials()
      .then((trials) => (known = trials))
      .catch(() => undefined)
      .finally(() => {
        reading = false;
        readAt = Date.now();
      });
  };
  return {
    report(number, step, value) {
      sent = sent.then(async () => {
        try {
          statuses.set(number, await port.report(number, step, value));
        } catch {
          // Left out: the trial's value is what it returns; a pruner sees the reports that arrived.
        }
      });
      refresh();
      const heard = statuses.get(number);
      return statuses.has(number) ? heard : (known.find((t) => t.number === number)?.status ?? 'running');
    },
    trials() {
      refresh();
      return known;
    },
    flush: () => sent,
  };
}
