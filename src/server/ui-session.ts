// UI sessions on the team server: an API key given once at login, then kept in an HttpOnly cookie of the browser.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LablogError } from '../core/errors.js';
import type { KeyCache } from './api-keys.js';
import type { SessionAnswer } from '../ui/ui-api.js';

export const SESSION_COOKIE = 'lablog_key';
/** A login lasts 30 days in the browser. */
const SESSION_MAX_AGE_S = 30 * 24 * 3600;
/** Routes answered without a key (the login itself). */
export const SESSION_ROUTES = ['/api/v1/session'];

function cookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined; // a malformed cookie is no cookie
      }
    }
  }
  return undefined;
}

/**
 * The key of the session cookie, if the request may use it: always for GET and HEAD; for other methods only
 * with the `x-lablog-ui` header, which a cross-site form cannot send (with SameSite=Strict, a second guard
 * against cross-site requests made with the user's cookie).
 */
export function sessionKey(request: FastifyRequest): string | undefined {
  const key = cookie(request.headers.cookie, SESSION_COOKIE);
  if (key === undefined) return undefined;
  if (request.method === 'GET' || request.method === 'HEAD' || request.headers['x-lablog-ui'] === '1') return key;
  return undefined;
}

function setCookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

export function registerSessionRoutes(app: FastifyInstance, keys: KeyCache): void {
  app.post('/api/v1/session', async (request, reply): Promise<SessionAnswer> => {
    const body = request.body as { key?: unknown } | undefined;
    const key = typeof body?.key === 'string' ? body.key.trim() : '';
    if (key.length === 0) throw new LablogError('VALIDATION', 'send { "key": "<API key>" }', { field: 'key' });
    const record = await keys.find(key);
    if (record === undefined) throw new LablogError('UNAUTHENTICATED', 'the API key is not valid', {});
    void reply.header('set-cookie', setCookie(request, key, SESSION_MAX_AGE_S));
    return { projects: record.projects };
  });

  app.delete('/api/v1/session', async (request, reply) => {
    return reply.header('set-cookie', setCookie(request, '', 0)).code(204).send();
  });
}
