// Opens a local store for a publisher, picking its driver (SQLite, the only one for a local file).

import type { PublishSource } from './publish-source.js';
import { SqlitePublishSource } from './sqlite/sqlite-publish-source.js';

/** A publish source over the local store at `location`, on its own connection (close it when done). */
export function openPublishSource(location: string): PublishSource {
  return new SqlitePublishSource(location);
}
