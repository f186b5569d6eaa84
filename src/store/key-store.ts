// The key capability of a server's store: API keys (hashes only) and the UI sessions opened with them (types only).

export interface ApiKeyRecord {
  readonly id: string;
  /** sha256 (hex) of the key; the key itself is never stored. */
  readonly hash: string;
  readonly projects: readonly string[];
  readonly name: string | null;
  readonly createdAt: number;
  /** When a server last accepted it (recorded at most once a minute); absent when never used, or not read. */
  readonly lastUsedAt?: number;
}

/** A key as `lablog keys list` shows it: everything but its hash. */
export interface ApiKeyListing {
  readonly id: string;
  readonly name: string | null;
  readonly projects: readonly string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  /** When it was revoked; null while it is valid. */
  readonly revokedAt: number | null;
}

/** A UI session on the server: the browser's cookie holds a random id, the store only its sha256. */
export interface UiSessionRecord {
  /** sha256 (hex) of the session id. */
  readonly hash: string;
  readonly keyId: string;
  readonly createdAt: number;
  /** Absolute end, fixed at login. */
  readonly expiresAt: number;
  /** Last request seen with it (recorded at most every few seconds), for the idle limit. */
  readonly lastSeenAt: number;
}

/** API keys and UI sessions. Failures throw a LablogError. */
export interface KeyStore {
  createKey(key: ApiKeyRecord): void;
  /** The unrevoked key with this hash: one indexed query, made on every request (so revocation is immediate). */
  findKey(hash: string): ApiKeyRecord | undefined;
  /** Every key but its hash, oldest first; revoked ones only with `includeRevoked`. */
  listKeys(includeRevoked: boolean): ApiKeyListing[];
  /** Marks the key revoked and deletes its UI sessions, in one transaction; false when no unrevoked key has this id. */
  revokeKey(id: string, now: number): boolean;
  /** Records that the key was used at `now` (the caller decides how often). */
  touchKey(id: string, now: number): void;

  /** Stores a new session, then deletes the key's oldest past `maxPerKey`; in one transaction. */
  createSession(session: UiSessionRecord, maxPerKey: number): void;
  /** The session with this hash and its key, unless the key was revoked: one indexed query (a join). */
  findSession(hash: string): { session: UiSessionRecord; key: ApiKeyRecord } | undefined;
  /** Records a request seen with the session at `now` (the caller decides how often). */
  touchSession(hash: string, now: number): void;
  deleteSession(hash: string): void;
  /** Deletes sessions past their end (expiresAt <= now) or idle since `idleBefore`; returns how many. */
  deleteExpiredSessions(now: number, idleBefore: number): number;
}
