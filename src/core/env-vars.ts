// Env vars of the embedded store: set, list (resolved, with inheritance), delete, and what a run's child gets; secrets sealed here.

import { LablogError, describeValue } from '../model/errors.js';
import {
  MAX_ENV_VARS_PER_SCOPE,
  assertEnvVarName,
  assertEnvVarValue,
  listedEnvVar,
  resolveEnvVars,
  type EnvScope,
  type EnvVar,
  type StoredEnvVar,
} from '../model/env-vars.js';
import { resolveLimits } from '../model/limits.js';
import { assertKnownOptions, assertName, assertOptionsObject } from '../model/validation.js';
import type { EnvStore } from '../store/env-store.js';
import { DEFAULT_PROJECT } from './project.js';
import type { SecretBox } from './secret-box.js';

/** Where a variable is: a project (default 'default'), or an experiment (by id or name; its project then). */
export interface EnvScopeOptions {
  project?: string;
  experiment?: string;
}

export interface SetEnvOptions extends EnvScopeOptions {
  name: string;
  /** A string (empty is allowed); a secret's is empty or at least MIN_SECRET_LENGTH characters. */
  value: string;
  /** Sealed at rest and never shown again (listings read null); a secret stays one. Default false. */
  secret?: boolean;
}

export interface DeleteEnvOptions extends EnvScopeOptions {
  name: string;
}

/** What a run's child is given: the resolved variables in plain text, and the secrets' values to redact. */
export interface RunEnvironment {
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
}

/** What env vars need of their store. */
export interface EnvContext {
  readonly env: () => EnvStore;
  /** The project and id of an experiment by id or name (EXPERIMENT_NOT_FOUND, AMBIGUOUS_NAME otherwise). */
  readonly experiment: (idOrName: string, project: string | undefined) => { id: string; project: string };
  /** The key secrets are sealed with (`create`: make the key file on first use). */
  readonly secretBox: (create: boolean) => SecretBox;
}

/** The env vars of a store: `store.env`. */
export class EnvVars {
  readonly #context: EnvContext;

  /** @internal Use store.env. */
  constructor(context: EnvContext) {
    this.#context = context;
  }

  #scope(what: string, options: EnvScopeOptions): EnvScope {
    if (options.project !== undefined) assertName('project name', options.project, resolveLimits(undefined).maxNameLength);
    if (options.experiment !== undefined) {
      if (typeof options.experiment !== 'string' || options.experiment.length === 0) {
        throw new LablogError('INVALID_OPTION', `${what}: experiment must be an id or a name, got ${describeValue(options.experiment)}`, {
          option: 'experiment',
        });
      }
      const found = this.#context.experiment(options.experiment, options.project);
      return { project: found.project, experimentId: found.id };
    }
    return { project: options.project ?? DEFAULT_PROJECT, experimentId: null };
  }

  /**
   * Sets a variable of a project or an experiment (an experiment's shadows its project's). A secret is
   * sealed with the key file (created on first use) and never shown again; setting a secret as plain fails
   * SECRET_DOWNGRADE. Returns it as listings show it.
   */
  set(options: SetEnvOptions): EnvVar {
    assertOptionsObject('env.set', options);
    if (options === undefined) throw new LablogError('INVALID_OPTION', 'env.set: options { name, value } are required', { option: 'name' });
    assertKnownOptions('env.set', options, ['project', 'experiment', 'name', 'value', 'secret']);
    assertEnvVarName(options.name);
    const secret = options.secret ?? false;
    if (typeof secret !== 'boolean') {
      throw new LablogError('INVALID_OPTION', `env.set: secret must be a boolean, got ${describeValue(secret)}`, { option: 'secret' });
    }
    assertEnvVarValue(options.name, options.value, secret);
    const scope = this.#scope('env.set', options);
    const slot = { ...scope, name: options.name };
    const value = secret ? this.#context.secretBox(true).seal(slot, options.value) : options.value;
    const stored = this.#context.env().setVar({ ...slot, value, secret, updatedAt: Date.now() }, MAX_ENV_VARS_PER_SCOPE);
    return listedEnvVar(stored);
  }

  /**
   * The variables of a project, or (with `experiment`) an experiment's resolved ones: its project's, shadowed
   * by its own, each with its `inheritance`. Sorted by name; a secret's value is null.
   */
  list(options: EnvScopeOptions = {}): EnvVar[] {
    assertOptionsObject('env.list', options);
    assertKnownOptions('env.list', options, ['project', 'experiment']);
    return this.#resolved(this.#scope('env.list', options)).map(listedEnvVar);
  }

  /** Deletes a variable of exactly this scope (an experiment's, or its project's); NOT_FOUND when there is none. */
  delete(options: DeleteEnvOptions): void {
    assertOptionsObject('env.delete', options);
    if (options === undefined) throw new LablogError('INVALID_OPTION', 'env.delete: options { name } are required', { option: 'name' });
    assertKnownOptions('env.delete', options, ['project', 'experiment', 'name']);
    assertEnvVarName(options.name);
    const scope = this.#scope('env.delete', options);
    if (!this.#context.env().deleteVar(scope, options.name)) {
      const where = scope.experimentId === null ? `project '${scope.project}'` : `experiment ${scope.experimentId}`;
      throw new LablogError('NOT_FOUND', `no env var ${options.name} in ${where}`, { key: options.name });
    }
  }

  #resolved(scope: EnvScope): StoredEnvVar[] {
    const env = this.#context.env();
    const projectVars = env.listVars({ project: scope.project, experimentId: null });
    return scope.experimentId === null ? projectVars : resolveEnvVars(projectVars, env.listVars(scope));
  }

  /**
   * @internal What the child of a run of `experimentId` gets: the resolved variables, secrets opened (the key
   * file must exist then), and every secret value of the scopes to redact from its output.
   */
  forRun(project: string, experimentId: string): RunEnvironment {
    const env = this.#context.env();
    const projectVars = env.listVars({ project, experimentId: null });
    const experimentVars = env.listVars({ project, experimentId });
    const sealed = [...projectVars, ...experimentVars].filter((v) => v.secret);
    const box = sealed.length > 0 ? this.#context.secretBox(false) : undefined;
    const opened = new Map(sealed.map((v) => [v, box!.open(v, v.value)]));
    const resolved: Record<string, string> = {};
    for (const v of resolveEnvVars(projectVars, experimentVars)) resolved[v.name] = opened.get(v) ?? v.value;
    return { env: resolved, secrets: [...opened.values()] };
  }
}
