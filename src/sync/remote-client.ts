// Remote client: calls a lablog server's /api/v1 with a Bearer key; turns answers into typed errors, retrying the retryable ones with backoff.

import { LablogError } from '../model/errors.js';
import { answerError } from '../remote/error-answer.js';

/** First wait after a retryable failure; doubled per attempt, with jitter, up to MAX_BACKOFF_MS. */
export const INITIAL_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 30_000;
/** One request gives up after this long. */
export const REQUEST_TIMEOUT_MS = 60_000;

export interface RemoteOptions {
  /** The server's base URL, e.g. http://lablog.internal:5380 */
  readonly url: string;
  readonly apiKey: string;
}

/** Failures worth trying again: the server is down, overloaded, rate-limiting, or its store is busy. */
export function isRetryable(error: unknown): boolean {
  const code = (error as LablogError).code;
  return code === 'REMOTE_UNAVAILABLE' || code === 'RATE_LIMITED' || code === 'STORAGE_ERROR';
}

/** The wait before attempt `attempt` (1-based): the server's Retry-After when it gave one, else exponential with jitter. */
export function backoffMs(attempt: number, error: unknown): number {
  const retryAfter = (error as LablogError).details?.['retryAfterMs'];
  if (typeof retryAfter === 'number' && retryAfter >= 0) return Math.min(retryAfter, MAX_BACKOFF_MS);
  const base = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** (attempt - 1));
  return base / 2 + Math.random() * (base / 2);
}

export function normalizeRemoteUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LablogError('INVALID_OPTION', `remote must be an http(s) URL like http://host:5380, got '${url}'`, { option: 'remote' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new LablogError('INVALID_OPTION', `remote must be an http(s) URL, got '${url}'`, { option: 'remote' });
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

export interface RetryPolicy {
  /** Stop retrying once this time (ms since epoch) has passed. */
  readonly deadline?: number;
  readonly maxAttempts?: number;
  /** Called before each wait, for progress output. */
  readonly onRetry?: (error: LablogError, waitMs: number) => void;
  readonly signal?: AbortSignal;
}

export class RemoteClient {
  readonly url: string;
  readonly #apiKey: string;
  /** Requests sent, and retried, for reports. */
  requests = 0;
  retries = 0;

  constructor(options: RemoteOptions) {
    this.url = normalizeRemoteUrl(options.url);
    if (typeof options.apiKey !== 'string' || options.apiKey.length === 0) {
      throw new LablogError('INVALID_OPTION', 'an API key is required to publish (apiKey, --api-key or LABLOG_API_KEY)', {
        option: 'apiKey',
      });
    }
    this.#apiKey = options.apiKey;
  }

  /** One request, no retry. Rejects with a LablogError carrying the server's code (see answerError), or REMOTE_UNAVAILABLE. */
  async send<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    this.requests++;
    const binary = Buffer.isBuffer(body);
    let response: Response;
    try {
      const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#apiKey}`,
          ...(body === undefined ? {} : { 'content-type': binary ? 'application/octet-stream' : 'application/json' }),
        },
        body: body === undefined ? undefined : binary ? body : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (cause) {
      throw new LablogError('REMOTE_UNAVAILABLE', `cannot reach ${this.url}: ${(cause as Error).message}`, { remote: this.url }, { cause });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return (text.length > 0 ? JSON.parse(text) : undefined) as T;
    throw answerError(this.url, `${method} ${path}`, {
      status: response.status,
      statusText: response.statusText,
      retryAfter: response.headers.get('retry-after'),
      text,
    });
  }

  /** Sends, retrying retryable failures with backoff until the policy's deadline or attempts run out. */
  async call<T>(method: string, path: string, body: unknown, policy: RetryPolicy = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send<T>(method, path, body, policy.signal);
      } catch (error) {
        if (!isRetryable(error) || policy.signal?.aborted) throw error;
        const wait = backoffMs(attempt, error);
        const outOfTime = policy.deadline !== undefined && Date.now() + wait > policy.deadline;
        if (outOfTime || attempt >= (policy.maxAttempts ?? Infinity)) throw error;
        this.retries++;
        policy.onRetry?.(error as LablogError, wait);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }
}
