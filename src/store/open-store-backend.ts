// Opens the embedded store's backend, picking its driver (SQLite, the only one for a local file).

import type { StoreBackend } from './backend.js';
import { SqliteBackend } from './sqlite/sqlite-backend.js';

/** The embedded store in the SQLite file `file` (created and migrated if needed). */
export function openStoreBackend(file: string): StoreBackend {
  return new SqliteBackend(file);
}
