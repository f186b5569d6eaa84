// Remote env: a launch's project variables from the team server (POST /api/v1/projects/:project/env/resolve), read with the project's API key.

import { LablogError } from '../model/errors.js';
import type { RunEnvironment } from './env-vars.js';
import type { RemoteSpec } from './publishing.js';

/** How long reading a project's variables from the server may take before the attempt fails. */
export const REMOTE_ENV_TIMEOUT_MS = 10_000;

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/**
 * The project's variables on the server `remote`, secrets in plain text (and listed, to redact). Rejects with
 * a LablogError naming the server and its answer's code; never with the body of a successful answer.
 */
export async function fetchRemoteEnv(remote: RemoteSpec, project: string): Promise<RunEnvironment> {
  const url = `${remote.url.replace(/\/+$/, '')}/api/v1/projects/${encodeURIComponent(project)}/env/resolve`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${remote.apiKey}` },
      signal: AbortSignal.timeout(REMOTE_ENV_TIMEOUT_MS),
    });
  } catch (error) {
    throw new LablogError(
      'REMOTE_UNAVAILABLE',
      `cannot read the env vars of project '${project}' from ${remote.url}: ${(error as Error).message}`,
      { remote: remote.url },
      { cause: error },
    );
  }
  let answer: unknown;
  try {
    answer = await response.json();
  } catch {
    answer = undefined;
  }
  if (!response.ok) {
    const sent = (answer as { error?: unknown; message?: unknown } | undefined) ?? {};
    const message = typeof sent.message === 'string' ? sent.message.slice(0, 300) : `HTTP ${response.status}`;
    throw new LablogError(
      response.status === 403 ? 'FORBIDDEN' : 'REMOTE_ERROR',
      `cannot read the env vars of project '${project}' from ${remote.url}: ${message}${typeof sent.error === 'string' ? ` [${sent.error}]` : ''}`,
      { remote: remote.url, httpStatus: response.status, ...(response.status === 403 ? { project } : {}) },
    );
  }
  const { env, secrets } = (answer ?? {}) as { env?: unknown; secrets?: unknown };
  if (!isStringRecord(env) || !Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string')) {
    throw new LablogError('REMOTE_ERROR', `${remote.url} answered the env vars of project '${project}' in an unknown shape`, {
      remote: remote.url,
    });
  }
  return { env, secrets: secrets as string[] };
}
