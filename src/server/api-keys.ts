// API keys: made random, shown once, stored as a sha256 hash, scoped to projects, looked up on every request, revoked.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LablogError } from '../model/errors.js';
import type { ApiKeyListing, ApiKeyRecord, ServerBackend } from '../store/server-backend.js';
import { UseThrottle } from './use-throttle.js';

const KEY_PREFIX = 'llk_';

/** sha256 (hex) of a key: keys are 256 random bits, so a fast hash is enough (no password stretching needed). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key for these projects and returns it: the only time the key itself is known. */
export async function createApiKey(
  backend: ServerBackend,
  projects: readonly string[],
  name: string | null = null,
): Promise<{ key: string; record: ApiKeyRecord }> {
  if (projects.length === 0)
    throw new LablogError('INVALID_OPTION', 'an API key needs at least one project (--project P)', { option: 'project' });
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = { id: randomUUID(), hash: hashKey(key), projects: [...new Set(projects)], name, createdAt: Date.now() };
  await backend.createKey(record);
  return { key, record };
}

/** The key of an `Authorization: Bearer <key>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * How often a key's last use is written: a server reads the key on every request and records the use only
 * when the stored time is older than this, so `lablog keys list` is right to this much at one write a minute.
 */
export const KEY_USE_RESOLUTION_MS = 60_000;

/**
 * Looks keys up by hash on every request, with no cache: a key revoked by any process sharing the database
 * is refused by the very next request on every replica. The lookup is one indexed query (the hash is unique).
 */
export class KeyLookup {
  readonly #backend: ServerBackend;
  readonly #uses = new UseThrottle(KEY_USE_RESOLUTION_MS);

  constructor(backend: ServerBackend) {
    this.#backend = backend;
  }

  async find(key: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.#backend.findKey(hashKey(key));
    if (record !== undefined) this.noteUse(record);
    return record;
  }

  /** Records the key's use when the stored time is older than KEY_USE_RESOLUTION_MS; never fails the request. */
  noteUse(record: ApiKeyRecord): void {
    const now = Date.now();
    if (record.lastUsedAt !== undefined && now - record.lastUsedAt < KEY_USE_RESOLUTION_MS) return;
    if (this.#uses.take(record.id, now)) this.#backend.touchKey(record.id, now).catch(() => {});
  }
}

/**
 * The unrevoked key with this id, or else the one with this name. No match is NOT_FOUND; a name that several
 * keys share is AMBIGUOUS_NAME, listing their ids (revoke by id then).
 */
export function resolveKey(keys: readonly ApiKeyListing[], nameOrId: string): ApiKeyListing {
  const byId = keys.find((k) => k.id === nameOrId);
  if (byId !== undefined) return byId;
  const named = keys.filter((k) => k.name === nameOrId);
  if (named.length === 1) return named[0]!;
  if (named.length === 0)
    throw new LablogError('NOT_FOUND', `no API key named or with id '${nameOrId}' (lablog keys list shows them)`, { key: nameOrId });
  throw new LablogError(
    'AMBIGUOUS_NAME',
    `${named.length} API keys are named '${nameOrId}': ${named.map((k) => k.id).join(', ')}; give the id of the one to revoke`,
    { key: nameOrId, ids: named.map((k) => k.id) },
  );
}

/** Revokes one key by name or id (see resolveKey): refused at once by every server, its UI sessions ended. */
export async function revokeApiKey(backend: ServerBackend, nameOrId: string, now = Date.now()): Promise<ApiKeyListing> {
  const key = resolveKey(await backend.listKeys(false), nameOrId);
  // Revoked meanwhile by someone else: the same answer as an unknown key.
  if (!(await backend.revokeKey(key.id, now)))
    throw new LablogError('NOT_FOUND', `no API key named or with id '${nameOrId}' (it was just revoked)`, { key: nameOrId });
  return { ...key, revokedAt: now };
}
