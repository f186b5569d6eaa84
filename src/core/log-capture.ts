// Log capture: a child's stdout and stderr cut into timestamped lines (each bounded), batched to the store, optionally echoed.

import { write as writeFd } from 'node:fs';
import type { LogLine, LogStream } from '../model/run.js';
import { NO_REDACTION, type Redactor } from './secret-redaction.js';

/** Longest line kept, in bytes; the rest of a longer line (one 50 MB line without a newline) is counted, not kept. */
export const MAX_LOG_LINE_BYTES = 64 * 1024;
/** Captured lines are written to the store at least this often… */
export const LOG_FLUSH_INTERVAL_MS = 200;
/** …or as soon as this many bytes of lines wait. */
export const LOG_BATCH_BYTES = 1024 * 1024;
/** The last lines of stderr kept for a failed run's errorMessage. */
export const ERROR_TAIL_LINES = 20;
/** Longest errorMessage, in characters (its end is kept). */
export const MAX_ERROR_MESSAGE_CHARS = 4_000;
/** Echoing to this process's stdout/stderr skips output (and counts it) while this many bytes wait to be written there. */
export const ECHO_BACKLOG_BYTES = 4 * 1024 * 1024;

/** How long echoing waits before writing again to a full non-blocking output. */
const ECHO_RETRY_MS = 10;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Copies output to a file descriptor without ever blocking the event loop: Node writes to pipes and
 * terminals synchronously on Linux, so a reader that stops reading (a paused pager) would stall the
 * supervisor and, through it, the child. Writes go one at a time through the thread pool; past
 * ECHO_BACKLOG_BYTES waiting, chunks are skipped and counted.
 */
class EchoSink {
  readonly #queue: Buffer[] = [];
  #waiting = 0;
  #writing = false;
  skipped = 0;

  constructor(readonly fd: number) {}

  push(chunk: Buffer): void {
    if (this.#waiting + chunk.length > ECHO_BACKLOG_BYTES) {
      this.skipped += chunk.length;
      return;
    }
    this.#queue.push(chunk);
    this.#waiting += chunk.length;
    if (!this.#writing) this.#next();
  }

  #next(): void {
    const chunk = this.#queue.shift();
    if (chunk === undefined) {
      this.#writing = false;
      return;
    }
    this.#writing = true;
    writeFd(this.fd, chunk, (error, written) => {
      if (error?.code === 'EAGAIN') {
        // Nothing was written.
      } else if (error || written >= chunk.length) {
        this.#waiting -= chunk.length;
      } else {
        this.#queue.unshift(chunk.subarray(written));
        this.#waiting -= written;
      }
      if (error?.code === 'EAGAIN') {
        // A non-blocking output that is full: try again shortly (the backlog bound still holds). Not unref'd:
        // what was accepted for echoing is written before the process exits, as a blocking write would be.
        this.#queue.unshift(chunk);
        setTimeout(() => this.#next(), ECHO_RETRY_MS);
        return;
      }
      // A closed or broken output (EPIPE): stop echoing, keep capturing.
      if (error) {
        this.skipped += this.#waiting;
        this.#queue.length = 0;
        this.#waiting = 0;
        this.#writing = false;
        return;
      }
      this.#next();
    });
  }
}

/** Cuts one stream's bytes into lines, keeping at most MAX_LOG_LINE_BYTES of each. */
class LineSplitter {
  readonly #parts: Buffer[] = [];
  #kept = 0;
  #cut = 0;

  constructor(readonly emit: (text: string, cutBytes: number) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      if (this.#kept === 0 && this.#cut === 0) {
        // The whole line is in this chunk: decoded straight from it, with no copy.
        const kept = Math.min(end - start, MAX_LOG_LINE_BYTES);
        const stop = kept > 0 && chunk[start + kept - 1] === CARRIAGE_RETURN ? start + kept - 1 : start + kept;
        this.emit(chunk.toString('utf8', start, stop), end - start - kept);
      } else {
        this.#take(chunk.subarray(start, end));
        this.#emitLine();
      }
      start = end + 1;
    }
    if (start < chunk.length) this.#take(chunk.subarray(start));
  }

  /** Emits what is left of a line without a final newline. */
  end(): void {
    if (this.#kept > 0 || this.#cut > 0) this.#emitLine();
  }

  #take(bytes: Buffer): void {
    const room = MAX_LOG_LINE_BYTES - this.#kept;
    if (bytes.length <= room) {
      // Copied: the chunk's memory is not held past this call.
      if (bytes.length > 0) this.#parts.push(Buffer.from(bytes));
      this.#kept += bytes.length;
    } else {
      if (room > 0) this.#parts.push(Buffer.from(bytes.subarray(0, room)));
      this.#kept += Math.max(0, room);
      this.#cut += bytes.length - Math.max(0, room);
    }
  }

  #emitLine(): void {
    let text = Buffer.concat(this.#parts).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const cut = this.#cut;
    this.#parts.length = 0;
    this.#kept = 0;
    this.#cut = 0;
    this.emit(text, cut);
  }
}

export interface LogCaptureOptions {
  /** Writes a batch of lines to the store (synchronously); a throw is reported and the batch dropped. */
  readonly write: (lines: LogLine[]) => void;
  readonly echo: boolean;
  readonly onProblem: (error: Error) => void;
}

/** The capture of one run's output across its attempts. */
export class LogCapture {
  readonly #options: LogCaptureOptions;
  #attempt = 1;
  #pending: LogLine[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #stderrTail: string[] = [];
  readonly #echo: Record<LogStream, EchoSink> | undefined;
  #splitters: Record<LogStream, LineSplitter>;
  #redact: Redactor = NO_REDACTION;

  constructor(options: LogCaptureOptions) {
    this.#options = options;
    this.#splitters = this.#newSplitters();
    this.#echo = options.echo ? { stdout: new EchoSink(1), stderr: new EchoSink(2) } : undefined;
  }

  #newSplitters(): Record<LogStream, LineSplitter> {
    return {
      stdout: new LineSplitter((text, cut) => this.#line('stdout', text, cut)),
      stderr: new LineSplitter((text, cut) => this.#line('stderr', text, cut)),
    };
  }

  /**
   * Starts capturing attempt `attempt` (its lines are stored under it; the stderr tail starts over). With a
   * redactor, each line is redacted before it is stored, kept for the error message or echoed: the echo is
   * then line by line (a secret split across two chunks is still found), not chunk by chunk.
   */
  startAttempt(attempt: number, redact: Redactor = NO_REDACTION): void {
    this.#attempt = attempt;
    this.#redact = redact;
    this.#stderrTail = [];
    this.#splitters = this.#newSplitters();
  }

  /** Takes a chunk of a stream as it arrives. */
  push(stream: LogStream, chunk: Buffer): void {
    if (this.#redact === NO_REDACTION) this.#echo?.[stream].push(chunk);
    this.#splitters[stream].push(chunk);
  }

  #line(stream: LogStream, raw: string, cutBytes: number): void {
    const text = this.#redact(raw);
    if (this.#redact !== NO_REDACTION) this.#echo?.[stream].push(Buffer.from(`${text}\n`, 'utf8'));
    this.#pending.push({ attempt: this.#attempt, stream, timestamp: Date.now(), text, cutBytes });
    this.#pendingBytes += text.length;
    if (stream === 'stderr') {
      this.#stderrTail.push(text.length > MAX_ERROR_MESSAGE_CHARS ? text.slice(-MAX_ERROR_MESSAGE_CHARS) : text);
      if (this.#stderrTail.length > ERROR_TAIL_LINES) this.#stderrTail.shift();
    }
    if (this.#pendingBytes >= LOG_BATCH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), LOG_FLUSH_INTERVAL_MS).unref();
  }

  /** Ends the attempt's streams (a last line without newline is kept) and writes everything pending. */
  endAttempt(): void {
    this.#splitters.stdout.end();
    this.#splitters.stderr.end();
    this.flush();
  }

  /** Writes the pending lines now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      this.#options.write(lines);
    } catch (error) {
      this.#options.onProblem(error as Error);
    }
  }

  /** The last lines of this attempt's stderr (null when it wrote none), at most MAX_ERROR_MESSAGE_CHARS. */
  stderrTail(): string | null {
    const text = this.#stderrTail.join('\n').trim();
    if (text.length === 0) return null;
    return text.length > MAX_ERROR_MESSAGE_CHARS ? text.slice(-MAX_ERROR_MESSAGE_CHARS) : text;
  }

  /** Bytes of output not echoed to the terminal because it could not keep up. */
  get echoSkipped(): number {
    return (this.#echo?.stdout.skipped ?? 0) + (this.#echo?.stderr.skipped ?? 0);
  }
}
