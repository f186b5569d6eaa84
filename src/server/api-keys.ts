// API keys: made random, shown once, stored as a sha256 hash, scoped to projects.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LablogError } from '../core/errors.js';
import type { ApiKeyRecord, ServerBackend } from '../store/server-backend.js';

const KEY_PREFIX = 'llk_';

/** sha256 (hex) of a key: keys are 256 random bits, so a fast hash is enough (no password stretching needed). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key for these projects and returns it: the only time the key itself is known. */
export async function createApiKey(backend: ServerBackend, projects: readonly string[], name: string | null = null): Promise<{ key: string; record: ApiKeyRecord }> {
  if (projects.length === 0) throw new LablogError('INVALID_OPTION', 'an API key needs at least one project (--project P)', { option: 'project' });
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

/** Looks keys up by hash, keeping answers for a short while so a busy publisher does not cost a query per request. */
export class KeyCache {
  readonly #backend: ServerBackend;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { record: ApiKeyRecord | undefined; until: number }>();

  constructor(backend: ServerBackend, ttlMs = 10_000) {
    this.#backend = backend;
    this.#ttlMs = ttlMs;
  }

  async find(key: string): Promise<ApiKeyRecord | undefined> {
    const hash = hashKey(key);
    const now = Date.now();
    const hit = this.#entries.get(hash);
    if (hit && hit.until > now) return hit.record;
    const record = await this.#backend.findKey(hash);
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(hash, { record, until: now + this.#ttlMs });
    return record;
  }
}
