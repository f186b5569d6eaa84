// Wire protocol of /api/v1: JSON bodies the publisher sends and the server checks (a client may be old or hostile).

import { fromJsonNumber } from '../model/json-number.js';
import { LablogError, describeValue } from '../model/errors.js';
import { MAX_HOSTNAME_LENGTH, type Limits } from '../model/limits.js';
import { checkCaption, checkName, checkText, characterLength, excerpt } from '../model/validation.js';
import { checkProgress, type ExperimentProgress } from '../model/progress.js';
import { MAX_DATASETS, toDatasetRecord, type DatasetRecord } from '../model/dataset.js';
import { EXPERIMENT_STATUSES, type ExperimentStatus, type ParamRecord } from '../model/experiment.js';
import { ARITHMETIC, DELTA_I32, DELTA_U16, RAW, decodeColumnToArray, encodeColumn, type ColumnEncoding } from '../store/column-codec.js';
import { rejection } from '../store/ingest-plan.js';
import type { IngestMetric, PublishedExperiment, RejectedItem } from '../store/server-backend.js';
import type { LogIngestResult, PublishedLogs, RunSnapshot } from '../model/run-publication.js';
import type { RunRecord } from '../model/run.js';

export const API_PREFIX = '/api/v1';

/** A column in lablog's compact encoding (column-codec.ts), base64; or plain JSON numbers (null or 'NaN' for NaN, 'Infinity', '-Infinity'). */
export type WireColumn = { readonly encoding: number; readonly data: string } | readonly (number | null)[];

export interface WireMetric {
  readonly name: string;
  readonly after: number | null;
  /** Points in the item; required when the columns are encoded. */
  readonly count?: number;
  readonly steps: WireColumn;
  readonly values: WireColumn;
  readonly timestamps: WireColumn;
}

export interface WireImagePoint {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly hash: string;
}

export interface WirePlotPoint {
  readonly step: number;
  readonly timestamp: number;
  readonly caption: string | null;
  readonly figure: unknown;
}

export interface WireMedia<P> {
  readonly name: string;
  readonly after: number | null;
  readonly points: readonly P[];
}

export interface WireTable {
  readonly name: string;
  readonly hash: string;
  readonly loggedAt: number;
}

/** POST /api/v1/experiments/{id}/ingest */
export interface WireIngest {
  readonly metrics?: readonly WireMetric[];
  readonly images?: readonly WireMedia<WireImagePoint>[];
  readonly plots?: readonly WireMedia<WirePlotPoint>[];
  readonly tables?: readonly WireTable[];
}

/** PUT /api/v1/experiments/{id} */
export type WireExperiment = Omit<PublishedExperiment, 'id'>;

const SHA256 = /^[0-9a-f]{64}$/;
/** Metric points one ingest request may carry (the publisher sends at most 200k): bounds decoding memory. */
export const MAX_POINTS_PER_REQUEST = 2_000_000;
/** Series items (metrics, images, plots and tables together) one ingest request may carry: each costs a lookup and a write. */
export const MAX_SERIES_PER_REQUEST = 1_000;
/** Image and plot points one ingest request may carry: each image is read back and checked, each figure parsed. */
export const MAX_MEDIA_POINTS_PER_REQUEST = 1_000;
/** The range of a JavaScript Date, in ms since the epoch. */
const MAX_TIME = 8.64e15;
const PARAM_TYPES = ['boolean', 'number', 'string', 'date'];

function invalid(message: string, details: Record<string, unknown> = {}): LablogError {
  return new LablogError('INVALID_OPTION', message, details);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHash(value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value);
}

function finiteOrNull(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

function timeOrNull(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Math.abs(value) <= MAX_TIME);
}

/** Text a store can hold everywhere: well-formed (no lone surrogate), and no NUL (PostgreSQL text cannot hold it). */
function assertText(what: string, value: string): void {
  const error = checkText(what, value, Number.MAX_SAFE_INTEGER, 'INVALID_OPTION', { field: what });
  if (error) throw error;
}

/** A free-text field of at most `limit` characters (LIMIT_EXCEEDED, 422, naming the field, limit and actual), holdable by every store. */
function assertBoundedText(field: string, value: string, limit: number, rule: string): void {
  if (value.length > limit) {
    const length = characterLength(value);
    if (length > limit) {
      throw new LablogError('LIMIT_EXCEEDED', `${field} is ${length} characters; the limit is ${limit} (${rule})`, {
        field,
        limit,
        actual: length,
      });
    }
  }
  assertText(field, value);
}

/** A param's text is a valid encoding of its type (see core/param.ts). */
function paramValueError(type: string, value: string): string | undefined {
  switch (type) {
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : "a boolean param is 'true' or 'false'";
    case 'number':
      return value === 'NaN' || (value.trim() !== '' && !Number.isNaN(Number(value))) ? undefined : 'not a number';
    case 'date': {
      const ms = Date.parse(value);
      return Number.isNaN(ms) || Math.abs(ms) > MAX_TIME ? 'not an ISO date' : undefined;
    }
    default:
      return undefined;
  }
}

/** Encodes a column for the wire. */
export function encodeWireColumn(column: Float64Array): WireColumn {
  const { encoding, bytes } = encodeColumn(column);
  return { encoding, data: bytes.toString('base64') };
}

function encodedLength(encoding: number, count: number): number | undefined {
  switch (encoding) {
    case RAW:
      return 8 * count;
    case ARITHMETIC:
      return count === 0 ? 0 : 16;
    case DELTA_U16:
      return count === 0 ? 0 : 8 + 2 * (count - 1);
    case DELTA_I32:
      return count === 0 ? 0 : 8 + 4 * (count - 1);
    default:
      return undefined;
  }
}

/** Decodes one wire column of `count` values (undefined count: take the length of a plain array). */
export function decodeWireColumn(what: string, column: unknown, count?: number): Float64Array {
  if (Array.isArray(column)) {
    if (count !== undefined && column.length !== count) throw invalid(`${what} has ${column.length} values, expected ${count}`);
    const out = new Float64Array(column.length);
    for (let i = 0; i < column.length; i++) {
      const v: unknown = column[i];
      if (v === null) out[i] = Number.NaN;
      else if (typeof v === 'number') out[i] = v;
      else if (v === 'NaN' || v === 'Infinity' || v === '-Infinity')
        out[i] = fromJsonNumber(v)!; // as read answers carry them
      else throw invalid(`${what}[${i}] must be a number, null (NaN), 'NaN', 'Infinity' or '-Infinity', got ${describeValue(v)}`);
    }
    return out;
  }
  if (!isObject(column) || typeof column['encoding'] !== 'number' || typeof column['data'] !== 'string') {
    throw invalid(`${what} must be an array of numbers or { encoding, data }`);
  }
  if (count === undefined) throw invalid(`${what}: an encoded column needs a plain 'steps' array or a count`);
  const encoding = column['encoding'] as ColumnEncoding;
  const expected = encodedLength(encoding, count);
  if (expected === undefined) throw invalid(`${what}: unknown encoding ${encoding}`);
  const bytes = Buffer.from(column['data'] as string, 'base64');
  if (bytes.length !== expected) throw invalid(`${what}: ${bytes.length} bytes, expected ${expected} for ${count} values`);
  return decodeColumnToArray(encoding, bytes, count);
}

function after(what: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw invalid(`${what}.after must be a step (integer >= 0) or null, got ${describeValue(value)}`);
}

function itemsOf(body: Record<string, unknown>, field: string): unknown[] {
  const items = body[field];
  if (items === undefined) return [];
  if (!Array.isArray(items)) throw invalid(`'${field}' must be an array`);
  return items;
}

/**
 * Characters of a refused item's name echoed in an ingest answer. Longer than any name a publisher sends
 * (it checks names against the default limit first), so a publisher always recognises its item; a 10 MB
 * name comes back cut.
 */
export const MAX_ECHOED_NAME_CHARS = 1_000;

/** An item refused by its name before anything else is decoded. */
function refusedName(kind: RejectedItem['kind'], name: string, limits: Limits): RejectedItem | undefined {
  const error = checkName(`${kind === 'metric' ? 'series' : kind} name`, name, limits.maxNameLength);
  if (error === undefined) return undefined;
  const cut = rejection(kind, excerpt(name, MAX_ECHOED_NAME_CHARS), error);
  return { ...cut, message: excerpt(cut.message, MAX_ECHOED_NAME_CHARS) };
}

export interface DecodedIngest {
  /** Items refused before decoding (a count over the limit). */
  readonly rejected: RejectedItem[];
  readonly metrics: IngestMetric[];
  readonly images: WireMedia<WireImagePoint>[];
  readonly plots: WireMedia<WirePlotPoint>[];
  readonly tables: WireTable[];
}

/** Checks the shape of an ingest body and decodes its columns; step rules and limits are the store's (ingest-plan.ts). */
export function decodeIngest(body: unknown, limits: Limits): DecodedIngest {
  if (!isObject(body)) throw invalid('the body must be a JSON object { metrics, images, plots, tables }');
  const metricItems = itemsOf(body, 'metrics');
  const imageItems = itemsOf(body, 'images');
  const plotItems = itemsOf(body, 'plots');
  const tableItems = itemsOf(body, 'tables');
  // Counts are checked before anything is decoded: a 16-byte encoded column can claim any count.
  const itemCount = metricItems.length + imageItems.length + plotItems.length + tableItems.length;
  if (itemCount > MAX_SERIES_PER_REQUEST) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `a request may carry ${MAX_SERIES_PER_REQUEST} series items (MAX_SERIES_PER_REQUEST); this one has ${itemCount}`,
      {
        limit: MAX_SERIES_PER_REQUEST,
        actual: itemCount,
      },
    );
  }
  let mediaPoints = 0;
  for (const item of [...imageItems, ...plotItems])
    if (isObject(item) && Array.isArray(item['points'])) mediaPoints += item['points'].length;
  if (mediaPoints > MAX_MEDIA_POINTS_PER_REQUEST) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `a request may carry ${MAX_MEDIA_POINTS_PER_REQUEST} image and plot points (MAX_MEDIA_POINTS_PER_REQUEST); this one has ${mediaPoints}`,
      {
        limit: MAX_MEDIA_POINTS_PER_REQUEST,
        actual: mediaPoints,
      },
    );
  }
  let points = 0;
  const rejected: RejectedItem[] = [];
  const metrics = metricItems.flatMap((item, i): IngestMetric[] => {
    const what = `metrics[${i}]`;
    if (!isObject(item) || typeof item['name'] !== 'string') throw invalid(`${what} must be { name, after, steps, values, timestamps }`);
    const count = typeof item['count'] === 'number' ? item['count'] : Array.isArray(item['steps']) ? item['steps'].length : undefined;
    if (count === undefined || !Number.isSafeInteger(count) || count < 0) throw invalid(`${what}.count must be an integer >= 0`);
    points += count;
    if (points > MAX_POINTS_PER_REQUEST) {
      throw new LablogError('LIMIT_EXCEEDED', `a request may carry ${MAX_POINTS_PER_REQUEST} metric points; this one has more`, {
        limit: MAX_POINTS_PER_REQUEST,
        actual: points,
      });
    }
    // A name no store can hold is refused for its item alone (never the whole batch), before any store sees it.
    const badName = refusedName('metric', item['name'], limits);
    if (badName) {
      rejected.push(badName);
      return [];
    }
    if (count > limits.maxMetricValues) {
      const error = new LablogError(
        'LIMIT_EXCEEDED',
        `'${item['name']}': ${count} metric values; the limit is ${limits.maxMetricValues} (maxMetricValues)`,
        {
          key: item['name'],
          limit: limits.maxMetricValues,
          actual: count,
        },
      );
      rejected.push(rejection('metric', item['name'], error));
      return [];
    }
    return [
      {
        name: item['name'],
        after: after(what, item['after']),
        steps: decodeWireColumn(`${what}.steps`, item['steps'], count),
        values: decodeWireColumn(`${what}.values`, item['values'], count),
        timestamps: decodeWireColumn(`${what}.timestamps`, item['timestamps'], count),
      },
    ];
  });
  const media = <P>(
    kind: 'image' | 'plot',
    items: unknown[],
    point: (what: string, p: Record<string, unknown>, caption: string | null) => P,
  ): WireMedia<P>[] =>
    items.flatMap((item, i): WireMedia<P>[] => {
      const what = `${kind}s[${i}]`;
      if (!isObject(item) || typeof item['name'] !== 'string' || !Array.isArray(item['points'])) {
        throw invalid(`${what} must be { name, after, points: [...] }`);
      }
      const name = item['name'];
      const badName = refusedName(kind, name, limits);
      if (badName) {
        rejected.push(badName);
        return [];
      }
      let refused: LablogError | undefined;
      const decoded = item['points'].map((p: unknown, j: number) => {
        const at = `${what}.points[${j}]`;
        if (!isObject(p) || typeof p['step'] !== 'number' || typeof p['timestamp'] !== 'number' || !timeOrNull(p['timestamp'])) {
          throw invalid(`${at} must be { step, timestamp, caption, … }`);
        }
        const caption = p['caption'] ?? null;
        const captionError = checkCaption(name, caption);
        if (captionError) refused ??= captionError;
        return point(at, p, captionError ? null : (caption as string | null));
      });
      // A caption the library would refuse refuses its series item, like any other point of it that breaks a rule.
      if (refused) {
        rejected.push(rejection(kind, name, refused));
        return [];
      }
      return [{ name, after: after(what, item['after']), points: decoded }];
    });
  const images = media('image', imageItems, (what, p, caption): WireImagePoint => {
    if (!isHash(p['hash'])) throw invalid(`${what}.hash must be the sha256 (hex) of an uploaded PNG`);
    return { step: p['step'] as number, timestamp: p['timestamp'] as number, caption, hash: p['hash'] };
  });
  const plots = media('plot', plotItems, (_what, p, caption): WirePlotPoint => ({
    step: p['step'] as number,
    timestamp: p['timestamp'] as number,
    caption,
    figure: p['figure'],
  }));
  const tables = tableItems.flatMap((item, i): WireTable[] => {
    const what = `tables[${i}]`;
    if (
      !isObject(item) ||
      typeof item['name'] !== 'string' ||
      !isHash(item['hash']) ||
      !finiteOrNull(item['loggedAt']) ||
      item['loggedAt'] === null
    ) {
      throw invalid(`${what} must be { name, hash: sha256 of uploaded Arrow IPC bytes, loggedAt }`);
    }
    const badName = refusedName('table', item['name'], limits);
    if (badName) {
      rejected.push(badName);
      return [];
    }
    return [{ name: item['name'], hash: item['hash'], loggedAt: item['loggedAt'] as number }];
  });
  return { metrics, images, plots, tables, rejected };
}

/** Checks a published experiment against the limits; fails INVALID_OPTION (or INVALID_NAME, INVALID_PARAM_VALUE, LIMIT_EXCEEDED). */
export function decodeExperiment(id: string, body: unknown, limits: Limits): PublishedExperiment {
  if (!isObject(body)) throw invalid('the body must be a JSON object describing the experiment');
  for (const [what, value] of [
    ['project name', body['project']],
    ['experiment name', body['name']],
  ] as const) {
    const error = checkName(what, value, limits.maxNameLength);
    if (error) throw error;
  }
  const description = body['description'] ?? null;
  if (description !== null && typeof description !== 'string') throw invalid('description must be a string or null');
  if (description !== null) assertBoundedText('description', description, limits.maxDescriptionLength, 'maxDescriptionLength');
  const tags = body['tags'] ?? [];
  if (!Array.isArray(tags)) throw invalid('tags must be an array of strings');
  if (tags.length > limits.maxTags) {
    throw new LablogError('LIMIT_EXCEEDED', `${tags.length} tags; the limit is ${limits.maxTags} (maxTags)`, {
      limit: limits.maxTags,
      actual: tags.length,
    });
  }
  for (const tag of tags) {
    const error = checkName('tag', tag, limits.maxNameLength);
    if (error) throw error;
  }
  const status = body['status'];
  if (!(EXPERIMENT_STATUSES as readonly unknown[]).includes(status))
    throw invalid(`status must be one of ${EXPERIMENT_STATUSES.join(', ')}`);
  const createdAt = body['createdAt'];
  if (typeof createdAt !== 'number' || !timeOrNull(createdAt)) throw invalid('createdAt must be milliseconds since the epoch');
  for (const field of ['endedAt', 'heartbeatAt']) {
    if (!timeOrNull(body[field] ?? null)) throw invalid(`${field} must be milliseconds since the epoch or null`);
  }
  const hostname = body['hostname'] ?? null;
  if (hostname !== null && typeof hostname !== 'string') throw invalid('hostname must be a string or null');
  if (hostname !== null) assertBoundedText('hostname', hostname, MAX_HOSTNAME_LENGTH, 'MAX_HOSTNAME_LENGTH');
  const version = body['version'] ?? null;
  if (version !== null) {
    const error = checkName('version', version, limits.maxNameLength);
    if (error) throw error;
  }
  const rawParams = body['params'] ?? [];
  if (!Array.isArray(rawParams)) throw invalid('params must be an array of { key, type, value }');
  if (rawParams.length > limits.maxParams) {
    throw new LablogError('LIMIT_EXCEEDED', `${rawParams.length} params; the limit is ${limits.maxParams} (maxParams)`, {
      limit: limits.maxParams,
      actual: rawParams.length,
    });
  }
  const params = rawParams.map((p: unknown, i: number): ParamRecord => {
    if (!isObject(p) || !PARAM_TYPES.includes(p['type'] as string) || typeof p['value'] !== 'string') {
      throw invalid(`params[${i}] must be { key, type: boolean|number|string|date, value: text }`);
    }
    const error = checkName('param name', p['key'], limits.maxNameLength);
    if (error) throw error;
    // The library's rule for string params (length, lone surrogates, NUL), applied to every type's text.
    const textError = checkText(`param '${p['key'] as string}'`, p['value'], limits.maxParamValueLength, 'INVALID_PARAM_VALUE', {
      key: p['key'] as string,
    });
    if (textError) throw textError;
    const typeError = paramValueError(p['type'] as string, p['value']);
    if (typeError) {
      throw new LablogError('INVALID_PARAM_VALUE', `param '${p['key'] as string}' of type ${p['type'] as string}: ${typeError}`, {
        key: p['key'] as string,
      });
    }
    return { key: p['key'] as string, type: p['type'] as ParamRecord['type'], value: p['value'] };
  });
  const progress = decodeProgress(body['progress']);
  const datasets = decodeDatasets(body['datasets']);
  return {
    id,
    project: body['project'] as string,
    name: body['name'] as string,
    description,
    tags: [...new Set(tags as string[])],
    status: status as ExperimentStatus,
    createdAt,
    endedAt: (body['endedAt'] ?? null) as number | null,
    heartbeatAt: (body['heartbeatAt'] ?? null) as number | null,
    hostname,
    version: version as string | null,
    params,
    ...(progress ? { progress } : {}),
    ...(datasets ? { datasets } : {}),
  };
}

/** PUT /api/v1/runs/{id}: a run's snapshot (record, attempts, transitions); the experiment is published first. */
export type WireRun = RunSnapshot;
/** The answer to PUT /api/v1/runs/{id}: the run as the server holds it (cancelRequestedAt: a cancel asked for there). */
export interface WireRunAnswer {
  readonly run: RunRecord;
  readonly applied: boolean;
}
/** POST /api/v1/runs/{id}/logs: lines with the client's positions, after the last one the server acknowledged. */
export type WireRunLogs = PublishedLogs;
/** The answer to POST /api/v1/runs/{id}/logs: the server's last position, and the run's cancel request if any. */
export interface WireRunLogsAnswer extends LogIngestResult {
  readonly cancelRequestedAt: number | null;
}

/** The optional progress of a published experiment (absent or null: none sent, as from older clients). */
function decodeProgress(value: unknown): ExperimentProgress | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid('progress must be { pct, phase, at } or null');
  const error = checkProgress(value['pct'], value['phase']);
  if (error) throw error;
  const at = value['at'];
  if (typeof at !== 'number' || !timeOrNull(at)) throw invalid('progress.at must be milliseconds since the epoch');
  return { pct: value['pct'] as number, phase: (value['phase'] ?? null) as string | null, at };
}

/** The optional dataset references of a published experiment, each checked by the library's rules. */
function decodeDatasets(value: unknown): DatasetRecord[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid('datasets must be an array of { role, name, id, uri, digest, rows, loggedAt }');
  if (value.length > MAX_DATASETS) {
    throw new LablogError('LIMIT_EXCEEDED', `${value.length} datasets; the limit is ${MAX_DATASETS} (MAX_DATASETS)`, {
      limit: MAX_DATASETS,
      actual: value.length,
    });
  }
  return value.map((d: unknown, i: number) => {
    if (!isObject(d)) throw invalid(`datasets[${i}] must be an object`);
    const { loggedAt, ...input } = d;
    if (typeof loggedAt !== 'number' || !timeOrNull(loggedAt))
      throw invalid(`datasets[${i}].loggedAt must be milliseconds since the epoch`);
    const record = toDatasetRecord(input, loggedAt);
    if (record instanceof LablogError) throw record;
    return record;
  });
}
