// Ids: experiment, study and key ids are UUIDs, and a record is named by its id or its name.

/** An experiment, study or key id (a UUID, any case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string shaped like an id (UUID_PATTERN). */
export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

/** The first item whose id or name is `key`, if any. */
export function findByIdOrName<T extends { readonly id: string; readonly name: string }>(items: readonly T[], key: unknown): T | undefined {
  return items.find((item) => item.id === key || item.name === key);
}
