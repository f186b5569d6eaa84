// The studies table's columns as both server drivers and the embedded store name them: patch fields, JSON fields, sorts.

import type { StudyPatch } from '../model/study.js';

/** StudyPatch fields and their columns: the only names an update puts in its statement. */
export const STUDY_PATCH_COLUMNS: Readonly<Record<string, string>> = {
  name: 'name',
  description: 'description',
  hypothesis: 'hypothesis',
  tags: 'tags',
  metadata: 'metadata',
  baseline: 'baseline',
  template: 'template',
  status: 'status',
  conclusion: 'conclusion',
  archiveReason: 'archive_reason',
  preserveArtifacts: 'preserve_artifacts',
} satisfies Record<keyof StudyPatch, string>;

/** The column of a patch field, or undefined for a name that is not one (own keys only: not `constructor`, …). */
export const studyPatchColumn = (field: string): string | undefined =>
  Object.hasOwn(STUDY_PATCH_COLUMNS, field) ? STUDY_PATCH_COLUMNS[field] : undefined;

/** Patch fields stored as JSON text. */
export const STUDY_JSON_FIELDS: ReadonlySet<string> = new Set(['tags', 'metadata', 'baseline', 'template']);

/** Sort keys of a study listing and their columns. */
export const STUDY_SORT_COLUMNS: Readonly<Record<string, string>> = { created_at: 'created_at', updated_at: 'updated_at', name: 'name' };
