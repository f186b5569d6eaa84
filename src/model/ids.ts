// Id patterns: experiment, study and key ids are UUIDs.

/** An experiment, study or key id (a UUID, any case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string shaped like an id (UUID_PATTERN). */
export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}
