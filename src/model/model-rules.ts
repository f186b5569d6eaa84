// Registered models' rules: what a model name and an alias may be, and the errors every store gives for a missing model, a full one or a foreign artifact (pure functions).

import { MAX_MODEL_ALIASES, MAX_MODEL_VERSIONS } from './artifact.js';
import { LablogError } from './errors.js';
import { assertName } from './validation.js';

/** An alias made only of digits would be read as a version in a reference (`name@3`): refused. */
const VERSION_LIKE = /^\d+$/;

/**
 * Checks a model name: the name rules, and no '@' (a reference `name@alias` splits at it). INVALID_NAME
 * naming the rule and the value otherwise.
 */
export function assertModelName(name: unknown, maxLength: number): asserts name is string {
  assertName('model name', name, maxLength);
  if (name.includes('@')) {
    throw new LablogError('INVALID_NAME', `model name ${JSON.stringify(name)} must not contain '@' (it separates an alias or version)`, {
      key: name,
    });
  }
}

/** Checks an alias: the name rules, no '@', and not only digits (it would be read as a version number). */
export function assertAlias(alias: unknown, maxLength: number): asserts alias is string {
  assertName('model alias', alias, maxLength);
  if (alias.includes('@')) {
    throw new LablogError('INVALID_NAME', `model alias ${JSON.stringify(alias)} must not contain '@'`, { key: alias });
  }
  if (VERSION_LIKE.test(alias)) {
    throw new LablogError(
      'INVALID_NAME',
      `model alias ${JSON.stringify(alias)} is only digits: 'name@${alias}' would be read as version ${alias}`,
      {
        key: alias,
      },
    );
  }
}

/** MODEL_NOT_FOUND for a model (or one of its versions) that is not there. */
export function modelNotFound(project: string, name: string, version?: number): LablogError {
  return version === undefined
    ? new LablogError('MODEL_NOT_FOUND', `no model '${name}' in project '${project}'`, { key: name, project })
    : new LablogError('MODEL_NOT_FOUND', `model '${name}' in project '${project}' has no version ${version}`, {
        key: name,
        project,
        version,
      });
}

/** LIMIT_EXCEEDED when registering one more version would pass MAX_MODEL_VERSIONS (`latest`: the highest so far). */
export function assertVersionRoom(name: string, project: string, latest: number): void {
  if (latest >= MAX_MODEL_VERSIONS) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `model '${name}' has ${latest} versions; the limit is ${MAX_MODEL_VERSIONS} (MAX_MODEL_VERSIONS)`,
      {
        key: name,
        project,
        limit: MAX_MODEL_VERSIONS,
        actual: latest + 1,
      },
    );
  }
}

/** LIMIT_EXCEEDED when the model would have more than MAX_MODEL_ALIASES aliases (`count`: how many it would have). */
export function assertAliasRoom(name: string, project: string, count: number): void {
  if (count > MAX_MODEL_ALIASES) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `model '${name}' would have ${count} aliases; the limit is ${MAX_MODEL_ALIASES} (MAX_MODEL_ALIASES)`,
      {
        key: name,
        project,
        limit: MAX_MODEL_ALIASES,
        actual: count,
      },
    );
  }
}

/** ARTIFACT_NOT_FOUND when the artifact a version names is not one of the experiment's. */
export function artifactNotFound(experimentId: string, artifactId: string): LablogError {
  return new LablogError('ARTIFACT_NOT_FOUND', `experiment ${experimentId} has no artifact with id ${artifactId}`, {
    experiment: experimentId,
    key: artifactId,
  });
}
