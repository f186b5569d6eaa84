// The env var capability of a store: project and experiment variables, secrets kept sealed (types only).

import type { EnvScope, StoredEnvVar } from '../model/env-vars.js';
import type { Async } from './async.js';

/**
 * Env vars in a store. A secret's value arrives sealed (core seals and opens it; the store never sees its
 * plain text). Synchronous; failures throw LablogError (STORAGE_ERROR, or the typed code).
 */
export interface EnvStore {
  /**
   * Stores a variable (created, or replaced in its scope) and returns it as stored. A stored secret stays
   * one: setting it with `secret: false` fails SECRET_DOWNGRADE and changes nothing (checked in the same
   * statement as the write). A new variable past `maxPerScope` in its scope fails LIMIT_EXCEEDED.
   */
  setVar(entry: StoredEnvVar, maxPerScope: number): StoredEnvVar;
  getVar(scope: EnvScope, name: string): StoredEnvVar | undefined;
  /** The variables of exactly this scope (a project's without any experiment's), by name. */
  listVars(scope: EnvScope): StoredEnvVar[];
  /** Deletes a variable; false when there was none. */
  deleteVar(scope: EnvScope, name: string): boolean;
}

/** The same operations for a server's store: asynchronous, with the same rules and errors. */
export type ServerEnvStore = Async<EnvStore>;
