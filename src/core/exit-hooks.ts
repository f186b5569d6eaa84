// Exit hooks: flush every open experiment when the process exits, is interrupted or crashes.

/** Status to record for experiments still open when the process ends; null: flush only. */
export type ExitStatus = 'completed' | 'failed' | 'cancelled' | null;

/** At exit, all experiments together wait at most this long for their writes. */
export const EXIT_MAX_WAIT_MS = 30_000;

export interface ExitParticipant {
  /**
   * Synchronously writes what is buffered and, unless status is null, ends the experiment. Waits no
   * later than `deadline` (shared by every experiment of the process). Never throws.
   */
  onProcessExit(status: ExitStatus, deadline: number): void;
  /**
   * Called once every participant has written: asks for what it wrote to be put on stable storage,
   * without waiting (the requests of all participants then share fsyncs). Never throws.
   */
  requestDurableAtExit?(): void;
  /** Then waits for that, no later than `deadline`. Never throws. */
  awaitDurableAtExit?(deadline: number): void;
}

const participants = new Set<ExitParticipant>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function finishAll(status: ExitStatus): void {
  const deadline = Date.now() + EXIT_MAX_WAIT_MS;
  const finishing = [...participants];
  // One experiment failing must not stop the others: each step of each is on its own.
  for (const participant of finishing) {
    try {
      participant.onProcessExit(status, deadline);
    } catch {
      // Reported by the participant where it can be.
    }
  }
  for (const participant of finishing) {
    try {
      participant.requestDurableAtExit?.();
    } catch {
      // As above.
    }
  }
  for (const participant of finishing) {
    try {
      participant.awaitDurableAtExit?.(deadline);
    } catch {
      // As above.
    }
  }
}

function onExit(code: number): void {
  finishAll(code === 0 ? 'completed' : 'failed');
}

function onUncaught(): void {
  // A program with its own 'uncaughtException' handler goes on: only write what is buffered. Otherwise
  // the process is about to end, and its 'exit' code records 'failed' if this flush did not.
  finishAll(process.listenerCount('uncaughtException') > 0 ? null : 'failed');
}

function onSignal(signal: NodeJS.Signals): void {
  // Listening to a signal disables Node's default action (exit). If lablog is the only listener, the
  // program did not ask to survive the signal: record the run as cancelled and re-raise the signal.
  const alone = process.listenerCount(signal) === 1;
  finishAll(alone ? 'cancelled' : null);
  if (alone) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function install(): void {
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onUncaught);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

export function trackForExit(participant: ExitParticipant): void {
  if (participants.size === 0) install();
  participants.add(participant);
}

export function untrackForExit(participant: ExitParticipant): void {
  if (participants.delete(participant) && participants.size === 0) uninstall();
}
