// Run supervisor: starts a run's child in its own process group, captures its output, enforces timeout, cancel and retries, records every attempt.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { trackForExit, untrackForExit, type ExitParticipant, type ExitStatus } from './exit-hooks.js';
import { LogCapture } from './log-capture.js';
import { RUN_ATTEMPT_ENV, RUN_EXPERIMENT_ENV, RUN_PARAMS_ENV, RUN_STORE_ENV } from './run-attach.js';
import { HEARTBEAT_INTERVAL_MS } from './liveness.js';
import type { ResolvedLaunch } from './run-options.js';
import { watchProcessGroup, type RunWatcher } from './run-watcher.js';
import type { AttemptOutcome, FinalRunStatus, RunRecord } from '../model/run.js';
import type { StoreBackend } from '../store/backend.js';
import type { RunEnvironment } from './env-vars.js';
import { secretRedactor } from './secret-redaction.js';

/** The supervisor reads the store for a cancel request this often (a request from another process is seen within it). */
export const CANCEL_POLL_MS = 250;
/** After the child exits, its stdout and stderr are read to their end for at most this long (a grandchild may hold them). */
export const STREAM_DRAIN_MS = 2_000;

/** Why the supervisor stops a child itself. */
type StopReason = 'timed_out' | 'cancelled';

/** How one attempt went. */
interface AttemptResult {
  readonly outcome: AttemptOutcome;
  /** The command could not be started at all (not found, not executable): retrying cannot help. */
  readonly unstartable: boolean;
}

export interface SupervisorInit {
  readonly backend: StoreBackend;
  readonly runId: string;
  readonly storePath: string;
  readonly launch: ResolvedLaunch;
  /** The child's LABLOG_PARAMS. */
  readonly paramsJson: string;
  /** The env vars of the run's project and experiment, read at each attempt's start (secrets opened). */
  readonly environment: () => Promise<RunEnvironment>;
  /** Problems that cannot be thrown (a log batch the store refused), as warnings. */
  readonly onProblem: (error: Error) => void;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

export class RunSupervisor {
  /** Settles with the run's final record (never rejects: failures to start are a failed run). */
  readonly done: Promise<RunRecord>;
  readonly #init: SupervisorInit;
  readonly #capture: LogCapture;
  #child: ChildProcess | undefined;
  #stopReason: StopReason | undefined;
  #cancelSeen = false;
  #killTimer: NodeJS.Timeout | undefined;
  /** Set while a child runs: what the process does for it if it exits first. */
  readonly #exitParticipant: ExitParticipant = { onProcessExit: (status) => this.#onProcessExit(status) };

  constructor(init: SupervisorInit) {
    this.#init = init;
    const runs = init.backend.runs();
    this.#capture = new LogCapture({
      write: (lines) => runs.appendLogs(init.runId, lines, init.launch.logCapBytes),
      echo: init.launch.echo,
      onProblem: init.onProblem,
    });
    this.done = this.#supervise();
  }

  /**
   * The supervising process ends while the child runs: its group gets SIGTERM (the watcher SIGKILLs it
   * after the grace period), the captured lines are written, and the run ends 'cancelled' when the
   * process was interrupted, else 'crashed' (it exited before its run). status null: the program handles
   * the signal itself (lablog run cancels), nothing to do.
   */
  #onProcessExit(status: ExitStatus): void {
    const child = this.#child;
    if (status === null || child === undefined) return;
    untrackForExit(this.#exitParticipant);
    this.#child = undefined;
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGTERM');
    this.#capture.endAttempt();
    const interrupted = status === 'cancelled';
    this.#init.backend.runs().endAttempt(
      this.#init.runId,
      {
        status: interrupted ? 'cancelled' : 'crashed',
        exitCode: null,
        signal: null,
        errorMessage: interrupted ? 'the supervising process was interrupted' : 'the supervising process exited before its run ended',
        timeCompleted: Date.now(),
      },
      true,
    );
  }

  /** Acts on a cancel request now (the caller recorded it in the store). */
  cancelRequested(): void {
    this.#cancelSeen = true;
    this.#stop('cancelled');
  }

  async #supervise(): Promise<RunRecord> {
    const { backend, runId, launch } = this.#init;
    const runs = backend.runs();
    const heartbeat = setInterval(() => this.#heartbeat(), HEARTBEAT_INTERVAL_MS).unref();
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.#cancelPending()) {
          runs.transition(runId, 'cancelled', Date.now());
          break;
        }
        const result = await this.#attempt(attempt);
        const retry = result.outcome.status === 'failed' && !result.unstartable && attempt <= launch.retries;
        if (retry && this.#cancelPending()) {
          // Cancelled between a failed attempt and its retry: the run is cancelled, the attempt stays failed.
          runs.endAttempt(runId, result.outcome, false);
          runs.transition(runId, 'cancelling', Date.now());
          runs.transition(runId, 'cancelled', Date.now());
          break;
        }
        runs.endAttempt(runId, result.outcome, !retry);
        if (!retry) break;
      }
    } catch (error) {
      this.#init.onProblem(error as Error);
    } finally {
      clearInterval(heartbeat);
    }
    const skipped = this.#capture.echoSkipped;
    if (skipped > 0) {
      process.stderr.write(
        `lablog: ${skipped} bytes of the run's output were not echoed here (this output did not keep up); the run's log has them (within its cap): lablog logs ${runId}\n`,
      );
    }
    return runs.getRun(runId)!;
  }

  #heartbeat(): void {
    try {
      const now = Date.now();
      this.#init.backend.write({
        experimentId: this.#init.runId,
        params: [],
        metrics: [],
        images: [],
        plots: [],
        tables: [],
        heartbeatAt: now,
      });
    } catch (error) {
      this.#init.onProblem(error as Error);
    }
  }

  #cancelPending(): boolean {
    if (this.#cancelSeen) return true;
    const record = this.#init.backend.runs().getRun(this.#init.runId);
    this.#cancelSeen = record?.cancelRequestedAt != null;
    return this.#cancelSeen;
  }

  /** Stops the child's whole group: SIGTERM now, SIGKILL after the grace period. */
  #stop(reason: StopReason): void {
    const child = this.#child;
    if (child === undefined || child.pid === undefined || this.#stopReason !== undefined) return;
    this.#stopReason = reason;
    if (reason === 'cancelled') {
      try {
        this.#init.backend.runs().transition(this.#init.runId, 'cancelling', Date.now());
      } catch (error) {
        // Stopping the child matters more than recording 'cancelling'.
        this.#init.onProblem(error as Error);
      }
    }
    signalGroup(child.pid, 'SIGTERM');
    this.#killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), this.#init.launch.graceMs);
  }

  async #attempt(attempt: number): Promise<AttemptResult> {
    const { backend, runId, launch, storePath, paramsJson } = this.#init;
    const runs = backend.runs();
    this.#stopReason = undefined;
    // Read at each attempt: a variable set between attempts (lablog env set --experiment) applies to the next.
    let environment: RunEnvironment;
    try {
      environment = await this.#init.environment();
    } catch (error) {
      this.#capture.startAttempt(attempt);
      runs.startAttempt(runId, attempt, null, Date.now());
      // The message names variables and the key, never a value.
      const reason = `cannot start '${launch.command}': its env vars could not be read: ${(error as Error).message}`;
      return {
        outcome: { status: 'failed', exitCode: null, signal: null, errorMessage: reason, timeCompleted: Date.now() },
        unstartable: true,
      };
    }
    this.#capture.startAttempt(attempt, secretRedactor(environment.secrets));
    const ended = (status: FinalRunStatus, exitCode: number | null, signal: string | null, errorMessage: string | null) => ({
      status,
      exitCode,
      signal,
      errorMessage,
      timeCompleted: Date.now(),
    });
    if (!existsSync(launch.cwd)) {
      runs.startAttempt(runId, attempt, null, Date.now());
      return Promise.resolve({
        outcome: ended('failed', null, null, `cannot start '${launch.command}': the working directory ${launch.cwd} does not exist`),
        unstartable: true,
      });
    }
    return new Promise<AttemptResult>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(launch.command, [...launch.args], {
          cwd: launch.cwd,
          env: {
            ...process.env,
            ...environment.env,
            ...launch.env,
            [RUN_STORE_ENV]: storePath,
            [RUN_EXPERIMENT_ENV]: runId,
            [RUN_PARAMS_ENV]: paramsJson,
            [RUN_ATTEMPT_ENV]: String(attempt),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
          // Its own process group (pgid = its pid): a timeout or cancel stops it and every process it forked.
          detached: true,
        });
      } catch (error) {
        runs.startAttempt(runId, attempt, null, Date.now());
        resolve({
          outcome: ended('failed', null, null, `cannot start '${launch.command}': ${(error as Error).message}`),
          unstartable: true,
        });
        return;
      }
      this.#child = child;
      let watcher: RunWatcher | undefined;
      let deadline: NodeJS.Timeout | undefined;
      let poll: NodeJS.Timeout | undefined;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let finished = false;
      const finish = (result: AttemptResult) => {
        if (finished) return;
        finished = true;
        clearTimeout(deadline);
        clearInterval(poll);
        clearTimeout(this.#killTimer);
        untrackForExit(this.#exitParticipant);
        this.#capture.endAttempt();
        watcher?.release();
        this.#child = undefined;
        resolve(result);
      };
      child.stdout!.on('data', (chunk: Buffer) => this.#capture.push('stdout', chunk));
      child.stderr!.on('data', (chunk: Buffer) => this.#capture.push('stderr', chunk));
      /** Runs an event handler's store work; a store failure is reported, never thrown into the event loop. */
      const guarded = (fn: () => void) => {
        try {
          fn();
        } catch (error) {
          this.#init.onProblem(error as Error);
        }
      };
      child.on('error', (error: NodeJS.ErrnoException) => {
        if (child.pid !== undefined) return;
        // Never started: no process, so no zombie to reap.
        const reason = error.code === 'ENOENT' ? 'command not found' : error.code === 'EACCES' ? 'permission denied' : error.message;
        guarded(() => runs.startAttempt(runId, attempt, null, Date.now()));
        finish({
          outcome: ended('failed', null, null, `cannot start '${launch.command}': ${reason} (${error.message})`),
          unstartable: true,
        });
      });
      child.on('spawn', () => {
        const pid = child.pid!;
        guarded(() => runs.startAttempt(runId, attempt, pid, Date.now()));
        watcher = watchProcessGroup(pid, launch.graceMs);
        trackForExit(this.#exitParticipant);
        deadline = setTimeout(() => this.#stop('timed_out'), launch.timeoutMs);
        poll = setInterval(() => {
          try {
            if (!this.#cancelSeen && this.#cancelPending()) this.#stop('cancelled');
          } catch (error) {
            // Never throw from a timer: the store may be busy; the next poll tries again.
            this.#init.onProblem(error as Error);
          }
        }, CANCEL_POLL_MS);
      });
      child.on('exit', (code, signal) => {
        exit = { code, signal };
        // From here a cancel or the deadline has nothing left to stop.
        this.#child = undefined;
        // What the child left behind in its group goes with it.
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        const drain = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(this.#result(exit!));
        }, STREAM_DRAIN_MS);
        drain.unref();
      });
      child.on('close', () => {
        if (exit === undefined) return;
        finish(this.#result(exit));
      });
    });
  }

  #result(exit: { code: number | null; signal: NodeJS.Signals | null }): AttemptResult {
    const { launch } = this.#init;
    const now = Date.now();
    const base = { exitCode: exit.code, signal: exit.signal, timeCompleted: now };
    if (this.#stopReason === 'timed_out') {
      return { outcome: { ...base, status: 'timed_out', errorMessage: `timed out after ${launch.timeoutMs} ms` }, unstartable: false };
    }
    if (this.#stopReason === 'cancelled')
      return { outcome: { ...base, status: 'cancelled', errorMessage: 'cancelled' }, unstartable: false };
    if (exit.code === 0) return { outcome: { ...base, status: 'completed', errorMessage: null }, unstartable: false };
    const how = exit.signal !== null ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return { outcome: { ...base, status: 'failed', errorMessage: this.#capture.stderrTail() ?? how }, unstartable: false };
  }
}
