// Datasets an experiment used: references (role, name, id, uri, digest, rows), never copies, with their rules.

import { LablogError, describeValue } from './errors.js';
import { checkName, checkText } from './validation.js';

/** Roles lablog names; any other role following the name rules is accepted too. */
export const DATASET_ROLES = ['train', 'validation', 'test'] as const;
/** Longest dataset role and name, in characters (the name rules apply). */
export const MAX_DATASET_NAME_LENGTH = 200;
/** Longest dataset id (a registry's identifier), in characters. */
export const MAX_DATASET_ID_LENGTH = 200;
/** Longest dataset uri, in characters. */
export const MAX_DATASET_URI_LENGTH = 2_048;
/** Longest dataset digest (e.g. 'sha256:…'), in characters. */
export const MAX_DATASET_DIGEST_LENGTH = 200;
/** Datasets per experiment (distinct role and name). */
export const MAX_DATASETS = 100;

/** What exp.logDataset takes. */
export interface DatasetInput {
  readonly role: (typeof DATASET_ROLES)[number] | (string & {});
  readonly name: string;
  readonly id?: string | null;
  readonly uri?: string | null;
  readonly digest?: string | null;
  readonly rows?: number | null;
}

/** A dataset reference as stored; (role, name) is unique per experiment. */
export interface DatasetRecord {
  readonly role: string;
  readonly name: string;
  readonly id: string | null;
  readonly uri: string | null;
  readonly digest: string | null;
  readonly rows: number | null;
  /** When it was (last) logged, in milliseconds since the epoch. */
  readonly loggedAt: number;
}

const KNOWN_FIELDS = ['role', 'name', 'id', 'uri', 'digest', 'rows'];

/** The record of a dataset input, or the rule it breaks (INVALID_OPTION / INVALID_NAME, naming the rule and the value). */
export function toDatasetRecord(input: unknown, loggedAt: number): DatasetRecord | LablogError {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return new LablogError(
      'INVALID_OPTION',
      `logDataset expects an object like { role: 'train', name: 'mnist' }, got ${describeValue(input)}`,
      {
        actual: describeValue(input),
      },
    );
  }
  const fields = input as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.includes(key)) {
      return new LablogError('INVALID_OPTION', `logDataset: unknown field '${key}'; known fields: ${KNOWN_FIELDS.join(', ')}`, {
        option: key,
      });
    }
  }
  const roleError = checkName('dataset role', fields['role'], MAX_DATASET_NAME_LENGTH);
  if (roleError) return roleError;
  const nameError = checkName('dataset name', fields['name'], MAX_DATASET_NAME_LENGTH);
  if (nameError) return nameError;
  const texts: [string, number][] = [
    ['id', MAX_DATASET_ID_LENGTH],
    ['uri', MAX_DATASET_URI_LENGTH],
    ['digest', MAX_DATASET_DIGEST_LENGTH],
  ];
  for (const [field, limit] of texts) {
    const value = fields[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      return new LablogError('INVALID_OPTION', `logDataset: ${field} must be a string, got ${describeValue(value)}`, {
        option: field,
        actual: describeValue(value),
      });
    }
    const error = checkText(`dataset ${field}`, value, limit, 'INVALID_OPTION', { option: field });
    if (error) return error;
  }
  const rows = fields['rows'];
  if (rows !== undefined && rows !== null && (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0)) {
    return new LablogError('INVALID_OPTION', `logDataset: rows must be a non-negative safe integer, got ${describeValue(rows)}`, {
      option: 'rows',
      actual: describeValue(rows),
    });
  }
  return {
    role: fields['role'] as string,
    name: fields['name'] as string,
    id: (fields['id'] as string | null | undefined) ?? null,
    uri: (fields['uri'] as string | null | undefined) ?? null,
    digest: (fields['digest'] as string | null | undefined) ?? null,
    rows: (rows as number | null | undefined) ?? null,
    loggedAt,
  };
}

/** The key a dataset is unique by within an experiment: its role and name (NUL cannot occur in either). */
export function datasetKey(dataset: { readonly role: string; readonly name: string }): string {
  return `${dataset.role}\u0000${dataset.name}`;
}

/**
 * The LIMIT_EXCEEDED error (naming MAX_DATASETS and the count there would be) when storing `incoming` beside an
 * experiment's `existingKeys` (datasetKey of each stored dataset) would pass MAX_DATASETS; else the count there
 * would be. A dataset of a key already stored (or repeated in `incoming`) replaces it and does not count twice.
 * Only new keys can pass the limit: re-sending the datasets of an experiment already over it still works.
 */
export function tooManyDatasets(
  experiment: string,
  existingKeys: ReadonlySet<string>,
  incoming: readonly { readonly role: string; readonly name: string }[],
): number | LablogError {
  const added = new Set(incoming.map(datasetKey).filter((key) => !existingKeys.has(key)));
  const actual = existingKeys.size + added.size;
  if (added.size === 0 || actual <= MAX_DATASETS) return actual;
  return new LablogError(
    'LIMIT_EXCEEDED',
    `experiment ${experiment} would have ${actual} datasets (${existingKeys.size} stored, ${added.size} new); the limit is ${MAX_DATASETS} (MAX_DATASETS)`,
    { experiment, limit: MAX_DATASETS, actual },
  );
}
