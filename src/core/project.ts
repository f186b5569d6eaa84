// Project: the namespace experiments and studies live in; names are unique per project.

/** The project of experiments and studies created without one. */
export const DEFAULT_PROJECT = 'default';
