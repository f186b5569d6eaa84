// Errors on the wire: the body a server answers a failure with, and how a client reads a code back (old and unknown codes included).

import { LablogError } from '../model/errors.js';
import { isErrorCode, type CommonErrorDetails, type ErrorCode, type ErrorDetails } from '../model/error-codes.js';
import type { IngestResult, RejectedItem } from '../store/server-backend.js';

/** The details a server sends with code `C`: that code's shape (strings cut), except a STORAGE_ERROR's, which name the database and stay in the server's log. */
export type AnswerDetails<C extends ErrorCode> = C extends 'STORAGE_ERROR' ? CommonErrorDetails : ErrorDetails<C>;

/** The body of every failed answer of /api/v1: `{ error: CODE, message, details }`. */
export type ErrorAnswer<C extends ErrorCode = ErrorCode> = {
  [K in C]: { readonly error: K; readonly message: string; readonly details: AnswerDetails<K> };
}[C];

/**
 * Codes older lablog servers answered with, and the code each is now. `VALIDATION` (a request breaking a
 * rule) became the library's `INVALID_OPTION`: one name for one thing.
 */
export const RENAMED_ERROR_CODES: Readonly<Record<string, ErrorCode>> = Object.freeze({ VALIDATION: 'INVALID_OPTION' });

/** The closest known code for an HTTP status, when a server sends a code this lablog does not know. */
function codeOfStatus(status: number | undefined): ErrorCode {
  switch (status) {
    case 400:
      return 'INVALID_OPTION';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 408:
      return 'REQUEST_TIMEOUT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 429:
      return 'RATE_LIMITED';
    default:
      return status !== undefined && status >= 500 ? 'REMOTE_UNAVAILABLE' : 'REMOTE_ERROR';
  }
}

/** What a client makes of the code a server sent. */
export interface ReadCode {
  readonly code: ErrorCode;
  /** True when the server's code was known (or renamed): its details have that code's shape. */
  readonly known: boolean;
  /** The code as sent, when it was renamed or unknown. */
  readonly sent?: string;
}

/**
 * Reads a code sent by a server (an answer's `error`, a refused item's `error`): a known code stays,
 * a renamed one becomes its new name, an unknown one becomes the closest code for `status` (REMOTE_ERROR
 * without one) and is kept in `sent`; no code at all (not a lablog answer) is REMOTE_ERROR.
 */
export function readSentCode(sent: unknown, status?: number): ReadCode {
  if (isErrorCode(sent)) return { code: sent, known: true };
  if (typeof sent !== 'string') return { code: 'REMOTE_ERROR', known: false };
  if (Object.hasOwn(RENAMED_ERROR_CODES, sent)) return { code: RENAMED_ERROR_CODES[sent]!, known: true, sent };
  return { code: codeOfStatus(status), known: false, sent };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An item of an ingest answer's `rejected` list, its code read as above (details kept for a known code, else only the code sent). */
export function readRejectedItem(item: unknown): RejectedItem {
  const sent = isRecord(item) ? item : {};
  const { code, known, sent: original } = readSentCode(sent['error']);
  const details = known && isRecord(sent['details']) ? sent['details'] : {};
  return {
    kind: sent['kind'] as RejectedItem['kind'],
    name: typeof sent['name'] === 'string' ? sent['name'] : '',
    error: code,
    message: typeof sent['message'] === 'string' ? sent['message'] : code,
    details: { ...details, ...(known || original === undefined ? {} : { remoteCode: original }) },
  } as RejectedItem;
}

/** The wait a Retry-After header asks for (seconds or an HTTP date), in ms. */
function retryAfterMs(header: string): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) ? seconds * 1000 : Math.max(0, Date.parse(header) - Date.now());
}

/** What answerError reads of a failed HTTP answer. */
export interface FailedResponse {
  readonly status: number;
  readonly statusText: string;
  /** The Retry-After header, if any. */
  readonly retryAfter: string | null;
  /** The body. */
  readonly text: string;
}

/**
 * The LablogError for a failed answer of `remote` to `request` (e.g. `POST /api/v1/…`): the status decides
 * first (429 is RATE_LIMITED, a 5xx other than STORAGE_ERROR is REMOTE_UNAVAILABLE, as from a proxy), then
 * the code the body sent (readSentCode). Details: the server's for a known code, with the status, the
 * remote and the Retry-After wait; a STORAGE_ERROR names the remote as its location (the server keeps its
 * own database's details).
 */
export function answerError(remote: string, request: string, response: FailedResponse): LablogError {
  const { status, retryAfter, text } = response;
  let answer: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) answer = parsed;
  } catch {
    // not a lablog server answer: the status decides
  }
  const read = readSentCode(answer['error'], status);
  const context: CommonErrorDetails = {
    httpStatus: status,
    remote,
    ...(retryAfter === null ? {} : { retryAfterMs: retryAfterMs(retryAfter) }),
    ...(read.known || read.sent === undefined ? {} : { remoteCode: read.sent }),
  };
  const code: ErrorCode =
    status === 429 ? 'RATE_LIMITED' : status >= 500 && read.code !== 'STORAGE_ERROR' ? 'REMOTE_UNAVAILABLE' : read.code;
  const sentDetails = read.known && read.code === code && isRecord(answer['details']) ? answer['details'] : {};
  const details =
    code === 'STORAGE_ERROR' ? { driver: 'remote', driverCode: null, location: remote, ...context } : { ...sentDetails, ...context };
  const message = typeof answer['message'] === 'string' ? answer['message'] : response.statusText;
  // The details are the server's for this code (checked above), or only the context: they fit the code's shape.
  return new LablogError(code, `${request}: ${status} ${message}`.trimEnd(), details as ErrorDetails<typeof code>);
}

/** An ingest answer with the codes of its refused items read as above (the rest as sent). */
export function readIngestResult(answer: IngestResult): IngestResult {
  return { ...answer, rejected: (Array.isArray(answer.rejected) ? answer.rejected : []).map(readRejectedItem) };
}

/** A member a study publication (PUT /api/v1/studies/{id}) refused: the experiment, and why. */
export interface StudyMemberRejection {
  readonly experimentId: string;
  readonly error: ErrorCode;
  readonly message: string;
}
