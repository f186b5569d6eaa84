// Env var routes: a project's variables over REST — list (secrets' values null), set, delete, and resolve (plain text, for a launching client's API key only).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError, describeValue } from '../model/errors.js';
import {
  MAX_ENV_VARS_PER_SCOPE,
  assertEnvVarName,
  assertEnvVarValue,
  listedEnvVar,
  type EnvScope,
  type EnvVar,
} from '../model/env-vars.js';
import { resolveLimits } from '../model/limits.js';
import { assertName } from '../model/validation.js';
import type { SecretBox } from '../core/secret-box.js';
import type { ServerBackend } from '../store/server-backend.js';
import { bearerToken } from './api-keys.js';

/** The environment variable `lablog server` reads its secret key from: 64 hex digits (32 bytes), as the library's key file holds. */
export const SERVER_SECRET_KEY_ENV = 'LABLOG_SECRET_KEY';

/** What GET …/env answers. */
export interface EnvListing {
  readonly vars: EnvVar[];
}

/** What POST …/env/resolve answers: every variable of the project in plain text, secrets opened. */
export interface ResolvedEnv {
  readonly env: Record<string, string>;
  readonly secrets: string[];
}

/** The project of the route, if the request's API key holds it (FORBIDDEN otherwise: the route names the project). */
function projectOf(request: FastifyRequest): EnvScope {
  const { project } = request.params as { project: string };
  assertName('project name', project, resolveLimits(undefined).maxNameLength);
  if (!request.apiKey.projects.includes(project)) {
    throw new LablogError('FORBIDDEN', `this API key has no access to project '${project}'`, { project });
  }
  return { project, experimentId: null };
}

function noKey(what: string): LablogError {
  return new LablogError('SECRET_KEY_ERROR', `this server has no secret key (start it with ${SERVER_SECRET_KEY_ENV}): it cannot ${what}`, {
    reason: 'missing',
  });
}

/**
 * A request the framework could not parse (a body that is not JSON): its message can quote the body, which
 * may hold a secret, so it is replaced by one that quotes nothing.
 */
function withoutBody(error: unknown): unknown {
  if (error instanceof LablogError) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const cause = (error as { code?: unknown }).code;
    return new LablogError('INVALID_OPTION', 'the body must be JSON: { "value": string, "secret"?: boolean }', {
      field: 'body',
      ...(typeof cause === 'string' ? { cause } : {}),
    });
  }
  return error;
}

/**
 * Registers the env routes. `secrets`: the box of the server's key (LABLOG_SECRET_KEY); without one, plain
 * variables work and secrets are refused (SECRET_KEY_ERROR), never stored unsealed.
 */
export function registerEnvRoutes(app: FastifyInstance, backend: ServerBackend, secrets: SecretBox | undefined): void {
  const env = () => backend.env();
  void app.register(async (routes) => {
    routes.setErrorHandler((error) => {
      throw withoutBody(error);
    });

    routes.get('/api/v1/projects/:project/env', async (request): Promise<EnvListing> => {
      const scope = projectOf(request);
      return { vars: (await env().listVars(scope)).map(listedEnvVar) };
    });

    routes.put('/api/v1/projects/:project/env/:name', async (request) => {
      const scope = projectOf(request);
      const { name } = request.params as { name: string };
      assertEnvVarName(name);
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new LablogError('INVALID_OPTION', 'the body must be JSON: { "value": string, "secret"?: boolean }', { field: 'body' });
      }
      const { value, secret = false, ...rest } = body as Record<string, unknown>;
      const unknown = Object.keys(rest);
      if (unknown.length > 0) {
        throw new LablogError('INVALID_OPTION', `unknown field '${unknown[0]!.slice(0, 40)}'; the body is { value, secret }`, {
          field: 'body',
        });
      }
      if (typeof secret !== 'boolean') {
        throw new LablogError('INVALID_OPTION', `secret must be a boolean, got ${describeValue(secret)}`, { field: 'secret' });
      }
      assertEnvVarValue(name, value, secret);
      let stored = value;
      if (secret) {
        if (secrets === undefined) throw noKey('store a secret');
        stored = secrets.seal({ ...scope, name }, value);
      }
      const set = await env().setVar({ ...scope, name, value: stored, secret, updatedAt: Date.now() }, MAX_ENV_VARS_PER_SCOPE);
      return listedEnvVar(set);
    });

    routes.delete('/api/v1/projects/:project/env/:name', async (request, reply) => {
      const scope = projectOf(request);
      const { name } = request.params as { name: string };
      assertEnvVarName(name);
      if (!(await env().deleteVar(scope, name))) {
        throw new LablogError('NOT_FOUND', `no env var ${name} in project '${scope.project}'`, { key: name });
      }
      return reply.code(204).send();
    });

    // Plain text only for an API key sent as a Bearer token (a launching client), never for a UI session.
    routes.post('/api/v1/projects/:project/env/resolve', async (request): Promise<ResolvedEnv> => {
      const scope = projectOf(request);
      if (bearerToken(request.headers.authorization) === undefined) {
        throw new LablogError('FORBIDDEN', 'resolving env vars takes an API key (Authorization: Bearer), not a UI session', {
          project: scope.project,
        });
      }
      const resolved: Record<string, string> = {};
      const opened: string[] = [];
      for (const v of await env().listVars(scope)) {
        if (!v.secret) {
          resolved[v.name] = v.value;
          continue;
        }
        if (secrets === undefined) throw noKey(`open the secret ${v.name}`);
        const plain = secrets.open(v, v.value);
        resolved[v.name] = plain;
        opened.push(plain);
      }
      return { env: resolved, secrets: opened };
    });
  });
}
