// Study rules: what creating, updating, archiving, cloning and deleting a study accept and produce (shared by the library and the server).

import { randomUUID } from 'node:crypto';
import { LablogError, describeValue } from '../model/errors.js';
import { DEFAULT_LIMITS } from '../model/limits.js';
import { DEFAULT_PROJECT } from './project.js';
import { checkTemplate } from './study-template.js';
import type { StudyTemplateKind } from '../model/study.js';
import { assertKnownOptions, assertName, assertOptionsObject, checkName, checkText, loneSurrogateIndex } from '../model/validation.js';
import { STUDY_STATUSES, type StudyPatch, type StudyRecord, type StudyStatus } from '../model/study.js';

/** Experiments one study may hold. */
export const MAX_STUDY_EXPERIMENTS = 1_000;
/** Longest description, hypothesis, conclusion, note or archive reason, in characters. */
export const MAX_STUDY_TEXT = 10_000;
/** Largest study metadata (or clone modifications), in bytes of JSON. */
export const MAX_STUDY_METADATA_BYTES = 64 * 1024;
/** Metrics of an external baseline { name, metrics }. */
export const MAX_BASELINE_METRICS = 500;
const MAX_NAME = DEFAULT_LIMITS.maxNameLength;

export interface CreateStudyOptions {
  name: string;
  project?: string;
  description?: string;
  hypothesis?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** An experiment (id or name) of the project, or an external result { name, metrics: { validation_loss: 0.452 } }. */
  baseline?: string | { name: string; metrics: Record<string, number> };
  template?: StudyTemplateKind;
  /**
   * The template's parameters (grid_search: search_space, objective, metric; ab_testing: variants, success_metric, …;
   * progressive_scaling: model_sizes, metric, objective, efficiency_metrics, performance_targets, scaling_law_analysis, size_param).
   */
  templateParameters?: Record<string, unknown>;
}

export interface StudyUpdate {
  name?: string;
  description?: string | null;
  hypothesis?: string | null;
  tags?: string[];
  metadata?: Record<string, unknown>;
  status?: StudyStatus;
  conclusion?: string | null;
}

export interface AddExperimentOptions {
  notes?: string;
  tags?: string[];
}

export interface ArchiveOptions {
  reason: string;
  /** Keep the members' images, plots and tables (default true); false deletes them, keeping params and metrics. */
  preserveArtifacts?: boolean;
}

export interface CloneOptions {
  name: string;
  description?: string;
  /** Recorded with the clone (metadata.modifications): what the new study changes. */
  modifications?: Record<string, unknown>;
  /** Copy the member experiments (new ids, all their data) into the clone; an experiment belongs to one study. Default false. */
  copyExperiments?: boolean;
}

const CREATE_OPTIONS = [
  'name',
  'project',
  'description',
  'hypothesis',
  'tags',
  'metadata',
  'baseline',
  'template',
  'templateParameters',
] as const;

export function newStudyId(): string {
  return randomUUID();
}

export function assertText(where: string, field: string, value: unknown, nullable = true): void {
  if (value === undefined || (nullable && value === null)) return;
  if (typeof value !== 'string') {
    throw new LablogError('INVALID_OPTION', `${where}: ${field} must be a string, got ${describeValue(value)}`, { option: field });
  }
  const error = checkText(`${where}: ${field}`, value, MAX_STUDY_TEXT, 'INVALID_OPTION', { option: field });
  if (error) throw error;
}

export function assertTags(where: string, tags: unknown): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw new LablogError('INVALID_OPTION', `${where}: tags must be an array of strings`, { option: 'tags' });
  if (tags.length > DEFAULT_LIMITS.maxTags) {
    throw new LablogError('INVALID_OPTION', `${where}: ${tags.length} tags; the limit is ${DEFAULT_LIMITS.maxTags}`, {
      option: 'tags',
      limit: DEFAULT_LIMITS.maxTags,
      actual: tags.length,
    });
  }
  for (const tag of tags) assertName('tag', tag, MAX_NAME);
  return [...new Set(tags as string[])];
}

export function assertMetadata(where: string, metadata: unknown): Record<string, unknown> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new LablogError('INVALID_OPTION', `${where}: metadata must be a JSON object`, { option: 'metadata' });
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch (cause) {
    throw new LablogError('INVALID_OPTION', `${where}: metadata must be JSON-serialisable (${(cause as Error).message})`, {
      option: 'metadata',
    });
  }
  assertMetadataSize(where, 'metadata', json);
  const copy = JSON.parse(json) as Record<string, unknown>;
  assertWellFormedJson(where, 'metadata', copy);
  return copy;
}

/** JSON metadata fits MAX_STUDY_METADATA_BYTES. */
function assertMetadataSize(where: string, field: string, json: string): void {
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_STUDY_METADATA_BYTES) {
    throw new LablogError(
      'INVALID_OPTION',
      `${where}: ${field} is ${bytes} bytes of JSON; the limit is ${MAX_STUDY_METADATA_BYTES} (MAX_STUDY_METADATA_BYTES)`,
      {
        option: field,
        limit: MAX_STUDY_METADATA_BYTES,
        actual: bytes,
      },
    );
  }
}

/** Every key and string of parsed JSON is well-formed (a lone surrogate is escaped by JSON.stringify, and PostgreSQL refuses the escape). */
function assertWellFormedJson(where: string, field: string, value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (loneSurrogateIndex(v) >= 0)
        throw new LablogError(
          'INVALID_OPTION',
          `${where}: ${field} holds a string with a lone surrogate (half of a character); stores cannot hold it`,
          { option: field },
        );
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, item] of Object.entries(v)) {
        stack.push(key, item);
      }
    }
  }
}

/** An external baseline { name, metrics: { metric: number } }: a valid name, at most MAX_BASELINE_METRICS metric names. */
export function checkExternalBaseline(where: string, value: unknown): { name: string; metrics: Record<string, number> } | LablogError {
  const b = value as { name?: unknown; metrics?: unknown };
  const metrics = b?.metrics;
  if (
    typeof b !== 'object' ||
    b === null ||
    typeof b.name !== 'string' ||
    typeof metrics !== 'object' ||
    metrics === null ||
    Array.isArray(metrics) ||
    Object.values(metrics).some((v) => typeof v !== 'number')
  ) {
    return new LablogError('INVALID_OPTION', `${where}: baseline is an experiment id or name, or { name, metrics: { metric: number } }`, {
      option: 'baseline',
      field: 'baseline',
    });
  }
  const nameError = checkName('baseline name', b.name, MAX_NAME);
  if (nameError) return nameError;
  const entries = Object.entries(metrics as Record<string, number>);
  if (entries.length > MAX_BASELINE_METRICS) {
    return new LablogError(
      'INVALID_OPTION',
      `${where}: the baseline has ${entries.length} metrics; the limit is ${MAX_BASELINE_METRICS} (MAX_BASELINE_METRICS)`,
      {
        option: 'baseline.metrics',
        limit: MAX_BASELINE_METRICS,
        actual: entries.length,
      },
    );
  }
  for (const [metric] of entries) {
    const error = checkName('baseline metric name', metric, MAX_NAME);
    if (error) return error;
  }
  return { name: b.name, metrics: Object.fromEntries(entries) };
}

/**
 * A new study's record from createStudy options. A baseline given as an experiment's id or name is
 * returned in `baselineExperiment` for the caller to resolve (the record's baseline is then null).
 */
export function studyRecordFrom(options: CreateStudyOptions, now: number): { record: StudyRecord; baselineExperiment?: string } {
  assertOptionsObject('createStudy', options);
  if (options === undefined) throw new LablogError('INVALID_OPTION', 'createStudy: options { name } are required', { option: 'name' });
  assertKnownOptions('createStudy', options, CREATE_OPTIONS);
  assertName('study name', options.name, MAX_NAME);
  const project = options.project ?? DEFAULT_PROJECT;
  assertName('project name', project, MAX_NAME);
  for (const field of ['description', 'hypothesis'] as const) assertText('createStudy', field, options[field]);
  const tags = assertTags('createStudy', options.tags);
  const metadata = assertMetadata('createStudy', options.metadata);
  let baseline: StudyRecord['baseline'] = null;
  let baselineExperiment: string | undefined;
  if (typeof options.baseline === 'string') baselineExperiment = options.baseline;
  else if (options.baseline !== undefined) {
    const checked = checkExternalBaseline('createStudy', options.baseline);
    if (checked instanceof LablogError) throw checked;
    baseline = checked;
  }
  if (options.template === undefined && options.templateParameters !== undefined) {
    throw new LablogError('INVALID_OPTION', 'createStudy: templateParameters needs a template', { option: 'templateParameters' });
  }
  const template = options.template === undefined ? null : checkTemplate(options.template, options.templateParameters);
  const record: StudyRecord = {
    id: newStudyId(),
    project,
    name: options.name,
    description: options.description ?? null,
    hypothesis: options.hypothesis ?? null,
    tags,
    metadata,
    baseline,
    template,
    status: 'active',
    conclusion: null,
    archiveReason: null,
    preserveArtifacts: null,
    createdAt: now,
    updatedAt: now,
  };
  return baselineExperiment === undefined ? { record } : { record, baselineExperiment };
}

/** The stored patch of study.update's changes. */
export function studyPatchFrom(changes: StudyUpdate): StudyPatch {
  assertOptionsObject('update', changes);
  if (changes === undefined) return {};
  assertKnownOptions('update', changes, ['name', 'description', 'hypothesis', 'tags', 'metadata', 'status', 'conclusion']);
  const patch: { -readonly [K in keyof StudyPatch]: StudyPatch[K] } = {};
  if (changes.name !== undefined) {
    assertName('study name', changes.name, MAX_NAME);
    patch.name = changes.name;
  }
  for (const field of ['description', 'hypothesis', 'conclusion'] as const) {
    assertText('update', field, changes[field]);
    if (changes[field] !== undefined) patch[field] = changes[field];
  }
  if (changes.tags !== undefined) patch.tags = assertTags('update', changes.tags);
  if (changes.metadata !== undefined) patch.metadata = assertMetadata('update', changes.metadata);
  if (changes.status !== undefined) {
    if (!(STUDY_STATUSES as readonly unknown[]).includes(changes.status)) {
      throw new LablogError(
        'INVALID_OPTION',
        `update: status must be active, completed or archived, got ${describeValue(changes.status)}`,
        { option: 'status' },
      );
    }
    patch.status = changes.status;
  }
  return patch;
}

/** A member's notes and tags, checked. */
export function memberFrom(options: AddExperimentOptions | undefined): { notes: string | null; tags: string[] } {
  assertOptionsObject('addExperiment', options);
  if (options) assertKnownOptions('addExperiment', options, ['notes', 'tags']);
  assertText('addExperiment', 'notes', options?.notes);
  return { notes: options?.notes ?? null, tags: assertTags('addExperiment', options?.tags) };
}

/** An experiment joins only a study that is not archived, in its own project. */
export function assertCanJoin(study: StudyRecord, experiment: { id: string; name: string; project: string }): void {
  if (experiment.project !== study.project) {
    throw new LablogError(
      'INVALID_OPTION',
      `experiment '${experiment.name}' is in project '${experiment.project}', the study in '${study.project}'`,
      {
        experimentId: experiment.id,
      },
    );
  }
  if (study.status === 'archived') {
    throw new LablogError('INVALID_OPTION', `study '${study.name}' is archived; update its status to add experiments`, {
      study: study.name,
    });
  }
}

/** The patch of study.archive, and whether artifacts are kept. */
export function archivePatchFrom(options: ArchiveOptions): { patch: StudyPatch; preserveArtifacts: boolean } {
  assertOptionsObject('archive', options);
  if (options === undefined || typeof options.reason !== 'string' || options.reason.length === 0) {
    throw new LablogError('INVALID_OPTION', 'archive: a reason is required, e.g. { reason: "results written up" }', { option: 'reason' });
  }
  assertKnownOptions('archive', options, ['reason', 'preserveArtifacts']);
  assertText('archive', 'reason', options.reason, false);
  const preserveArtifacts = options.preserveArtifacts ?? true;
  if (typeof preserveArtifacts !== 'boolean')
    throw new LablogError('INVALID_OPTION', 'archive: preserveArtifacts must be a boolean', { option: 'preserveArtifacts' });
  return { patch: { status: 'archived', archiveReason: options.reason, preserveArtifacts }, preserveArtifacts };
}

/** Deleting artifacts under a running experiment would pull series from under its writer: refused. */
export function assertNoneRunning(study: StudyRecord, experiments: readonly { name: string; status: string }[]): void {
  const running = experiments.filter((e) => e.status === 'running');
  if (running.length > 0) {
    throw new LablogError(
      'EXPERIMENT_RUNNING',
      `study '${study.name}' has running experiments (${running.map((e) => e.name).join(', ')}); end them before archiving with preserveArtifacts: false`,
      { study: study.name, running: running.map((e) => e.name) },
    );
  }
}

/** A clone's record: the question (hypothesis, tags, metadata, baseline, template), a new name, active, no experiments yet. */
export function cloneRecordFrom(source: StudyRecord, options: CloneOptions, now: number): StudyRecord {
  assertOptionsObject('clone', options);
  if (options === undefined) throw new LablogError('INVALID_OPTION', 'clone: options { name } are required', { option: 'name' });
  assertKnownOptions('clone', options, ['name', 'description', 'modifications', 'copyExperiments']);
  if (options.copyExperiments !== undefined && typeof options.copyExperiments !== 'boolean') {
    throw new LablogError('INVALID_OPTION', 'clone: copyExperiments must be a boolean', { option: 'copyExperiments' });
  }
  assertName('study name', options.name, MAX_NAME);
  assertText('clone', 'description', options.description);
  const modifications = options.modifications === undefined ? undefined : assertMetadata('clone', options.modifications);
  return {
    ...source,
    id: newStudyId(),
    name: options.name,
    description: options.description ?? source.description,
    metadata: cloneMetadata(source, modifications),
    status: 'active',
    conclusion: null,
    archiveReason: null,
    preserveArtifacts: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** A clone's metadata: the source's, where it came from, and what it changes; within MAX_STUDY_METADATA_BYTES. */
function cloneMetadata(source: StudyRecord, modifications: Record<string, unknown> | undefined): Record<string, unknown> {
  const metadata = { ...source.metadata, clonedFrom: source.id, ...(modifications ? { modifications } : {}) };
  assertMetadataSize('clone', 'metadata', JSON.stringify(metadata));
  return metadata;
}

/** Deleting loses the question and its conclusion: only archived studies, unless forced. */
export function assertDeletable(study: StudyRecord, force: unknown): void {
  if (force !== undefined && typeof force !== 'boolean')
    throw new LablogError('INVALID_OPTION', 'delete: force must be a boolean', { option: 'force' });
  if (study.status !== 'archived' && force !== true) {
    throw new LablogError('STUDY_NOT_ARCHIVED', `study '${study.name}' is ${study.status}; archive it first, or delete({ force: true })`, {
      study: study.name,
      status: study.status,
    });
  }
}
