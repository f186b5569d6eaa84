// `lablog env set`, `env ls`, `env rm`: the env vars of a project or an experiment, secrets never printed.

import { LablogError } from '../model/errors.js';
import type { EnvScopeOptions } from '../core/env-vars.js';
import type { Store } from '../core/store.js';
import { assertEnvVarName, assertEnvVarValue, type EnvVar } from '../model/env-vars.js';
import { renderTable } from './text-table.js';

/** How `env ls` shows a secret's value (it is never read back). */
export const HIDDEN_VALUE = '***';

export interface EnvCommandOptions {
  project?: string;
  experiment?: string;
}

function scopeOf(opts: EnvCommandOptions): EnvScopeOptions {
  return {
    ...(opts.project !== undefined ? { project: opts.project } : {}),
    ...(opts.experiment !== undefined ? { experiment: opts.experiment } : {}),
  };
}

function where(variable: EnvVar): string {
  return variable.experimentId === undefined ? `project '${variable.project}'` : `experiment ${variable.experimentId}`;
}

/**
 * `NAME=VALUE` split at the first '='; INVALID_OPTION without one. For a secret the argument is not quoted
 * (without its '=' it may be the secret itself).
 */
export function parseAssignment(text: string, secret: boolean): { name: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    const got = secret ? 'an argument without NAME= (not shown: it may be the secret)' : `'${text.slice(0, 40)}'`;
    throw new LablogError('INVALID_OPTION', `env set: expected NAME=VALUE, got ${got}`, { option: 'assignment' });
  }
  return { name: text.slice(0, eq), value: text.slice(eq + 1) };
}

/** Sets each NAME=VALUE (all checked first, so a bad one sets none); one line per variable, values of secrets never shown. */
export function runEnvSet(store: Store, assignments: string[], opts: EnvCommandOptions & { secret?: boolean }): string {
  const parsed = assignments.map((text) => parseAssignment(text, opts.secret ?? false));
  for (const { name, value } of parsed) {
    assertEnvVarName(name);
    assertEnvVarValue(name, value, opts.secret ?? false);
  }
  const lines: string[] = [];
  for (const { name, value } of parsed) {
    const set = store.env.set({ ...scopeOf(opts), name, value, secret: opts.secret ?? false });
    lines.push(`set ${set.name}${set.secret ? ' (secret)' : ''} in ${where(set)}`);
  }
  return lines.join('\n');
}

/** The table of a scope's resolved variables: NAME, VALUE (*** for a secret), SECRET, INHERITANCE. */
export function renderEnvList(store: Store, opts: EnvCommandOptions): string {
  const vars = store.env.list(scopeOf(opts));
  const scope = opts.experiment !== undefined ? `experiment '${opts.experiment}'` : `project '${opts.project ?? 'default'}'`;
  if (vars.length === 0) return `No env vars for ${scope} in ${store.path}.`;
  const rows = vars.map((v) => [v.name, v.secret ? HIDDEN_VALUE : (v.value ?? ''), v.secret ? 'yes' : 'no', v.inheritance]);
  return renderTable(['NAME', 'VALUE', 'SECRET', 'INHERITANCE'], rows);
}

/** Deletes variables of exactly this scope. */
export function runEnvRm(store: Store, names: string[], opts: EnvCommandOptions): string {
  return names
    .map((name) => {
      store.env.delete({ ...scopeOf(opts), name });
      return `removed ${name}`;
    })
    .join('\n');
}
