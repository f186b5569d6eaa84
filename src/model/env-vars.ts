// Env vars as records: the name rule, the value limits, the scopes (project, experiment) and how a listing shows a secret.

import { LablogError, describeValue } from './errors.js';
import { characterLength, excerpt } from './validation.js';

/** The rule an env var's name follows (POSIX names, and UbiOps' rule on underscores), as error messages state it. */
export const ENV_VAR_NAME_RULE =
  'letters (A-Z, a-z), digits and underscores, starting with a letter (not a digit or an underscore) and not ending with an underscore';
/** ENV_VAR_NAME_RULE as a pattern. */
export const ENV_VAR_NAME_PATTERN = /^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$/;
/** Longest env var name, in characters. */
export const MAX_ENV_VAR_NAME_LENGTH = 256;
/** Longest env var value, in characters (an empty value is allowed). */
export const MAX_ENV_VAR_VALUE_LENGTH = 32 * 1024;
/**
 * Shortest non-empty secret, in characters: a secret is replaced by `***` wherever it appears in captured
 * output, and a secret of one to three characters ("1", "ab") would blank out ordinary text.
 */
export const MIN_SECRET_LENGTH = 4;
/** The most variables one scope (a project, or an experiment) holds. */
export const MAX_ENV_VARS_PER_SCOPE = 1_000;

/** Where a variable of a resolved listing comes from: its project, or the experiment itself (shadowing the project's). */
export const ENV_INHERITANCES = ['project', 'experiment'] as const;
export type EnvInheritance = (typeof ENV_INHERITANCES)[number];

/** One variable as every listing shows it: a secret's value reads null. */
export interface EnvVar {
  readonly name: string;
  /** The value; null for a secret (it is never shown again). */
  readonly value: string | null;
  readonly secret: boolean;
  readonly inheritance: EnvInheritance;
  readonly project: string;
  /** The experiment of an experiment variable; absent for a project variable. */
  readonly experimentId?: string;
  readonly updatedAt: number;
}

/** Where a variable is stored: a project's (experimentId null) or one experiment's. */
export interface EnvScope {
  readonly project: string;
  readonly experimentId: string | null;
}

/** A variable as stored: a secret's value is its sealed form (core/secret-box.ts); the store never holds its plain text. */
export interface StoredEnvVar extends EnvScope {
  readonly name: string;
  readonly value: string;
  readonly secret: boolean;
  readonly updatedAt: number;
}

/** INVALID_NAME unless `name` follows ENV_VAR_NAME_RULE within MAX_ENV_VAR_NAME_LENGTH. */
export function assertEnvVarName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new LablogError('INVALID_NAME', `env var name must be a string, got ${describeValue(name)}`, { actual: describeValue(name) });
  }
  const length = characterLength(name);
  if (length > MAX_ENV_VAR_NAME_LENGTH) {
    throw new LablogError(
      'INVALID_NAME',
      `env var name is ${length} characters; the limit is ${MAX_ENV_VAR_NAME_LENGTH}: '${excerpt(name)}'`,
      { key: excerpt(name), limit: MAX_ENV_VAR_NAME_LENGTH, actual: length },
    );
  }
  if (!ENV_VAR_NAME_PATTERN.test(name)) {
    throw new LablogError('INVALID_NAME', `env var name '${excerpt(name)}' breaks the rule: ${ENV_VAR_NAME_RULE}`, {
      key: excerpt(name),
      actual: excerpt(name),
    });
  }
}

/**
 * INVALID_OPTION unless `value` is a string within MAX_ENV_VAR_VALUE_LENGTH (and, for a secret, empty or at
 * least MIN_SECRET_LENGTH long). The message never quotes the value: it may be a secret.
 */
export function assertEnvVarValue(name: string, value: unknown, secret: boolean): asserts value is string {
  if (typeof value !== 'string') {
    throw new LablogError(
      'INVALID_OPTION',
      `env var ${name}: the value must be a string, got ${secret ? 'a non-string' : describeValue(value)}`,
      {
        key: name,
        option: 'value',
      },
    );
  }
  const length = characterLength(value);
  if (length > MAX_ENV_VAR_VALUE_LENGTH) {
    throw new LablogError(
      'INVALID_OPTION',
      `env var ${name}: the value is ${length} characters; the limit is ${MAX_ENV_VAR_VALUE_LENGTH}`,
      {
        key: name,
        option: 'value',
        limit: MAX_ENV_VAR_VALUE_LENGTH,
        actual: length,
      },
    );
  }
  if (secret && length > 0 && length < MIN_SECRET_LENGTH) {
    throw new LablogError(
      'INVALID_OPTION',
      `env var ${name}: a secret is empty or at least ${MIN_SECRET_LENGTH} characters (it is redacted from captured output); this one has ${length}`,
      { key: name, option: 'value', limit: MIN_SECRET_LENGTH, actual: length },
    );
  }
}

/** The refusal to store a secret variable again as a plain one. */
export function secretDowngrade(scope: EnvScope, name: string): LablogError {
  const where = scope.experimentId === null ? `project '${scope.project}'` : `experiment ${scope.experimentId}`;
  return new LablogError(
    'SECRET_DOWNGRADE',
    `env var ${name} of ${where} is a secret; a secret cannot be turned back into a plain variable (delete it first, or set it as a secret)`,
    { key: name, project: scope.project, ...(scope.experimentId !== null ? { experimentId: scope.experimentId } : {}) },
  );
}

/** The listing of a stored variable (a secret's value null). */
export function listedEnvVar(stored: StoredEnvVar): EnvVar {
  return {
    name: stored.name,
    value: stored.secret ? null : stored.value,
    secret: stored.secret,
    inheritance: stored.experimentId === null ? 'project' : 'experiment',
    project: stored.project,
    ...(stored.experimentId !== null ? { experimentId: stored.experimentId } : {}),
    updatedAt: stored.updatedAt,
  };
}

/** A project's variables shadowed by an experiment's (same name): the resolved listing, sorted by name. */
export function resolveEnvVars<T extends StoredEnvVar>(projectVars: readonly T[], experimentVars: readonly T[]): T[] {
  const byName = new Map<string, T>();
  for (const v of projectVars) byName.set(v.name, v);
  for (const v of experimentVars) byName.set(v.name, v);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
