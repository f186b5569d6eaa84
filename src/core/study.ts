// Study: a named group of experiments around a question — members, status, statistics, comparison, templates.

import { LablogError, describeValue } from './errors.js';
import { assertKnownOptions, assertName, assertOptionsObject, characterLength } from './validation.js';
import type { Experiment } from './experiment.js';
import { compareExperiments, type CompareOptions, type Comparison } from './study-comparison.js';
import { studyStatistics, type StudyStatistics, type StudyStatisticsOptions } from './study-statistics.js';
import { planStudy, type StudyPlan } from './study-template.js';
import { exportExperiments, type ExportOptions, type ExportResult } from './study-export.js';
import type { StudyBackend, StudyBaseline, StudyPatch, StudyRecord, StudyStatus, StudyTemplate } from '../store/study-backend.js';

/** Experiments one study may hold. */
export const MAX_STUDY_EXPERIMENTS = 1_000;
/** Longest description, hypothesis, conclusion, note or archive reason, in characters. */
export const MAX_STUDY_TEXT = 10_000;

/** What a Study needs from its Store. */
export interface StudyContext {
  studies(): StudyBackend;
  /** A live or read handle, crash-reconciled; throws EXPERIMENT_NOT_FOUND. */
  experiment(idOrName: string, project: string): Experiment;
  /** Creates a study (for clone). */
  create(record: StudyRecord): Study;
  /** Drops images, plots and tables of these experiments (archive without preserving artifacts). */
  dropArtifacts(experimentIds: readonly string[]): void;
}

export interface AddExperimentOptions {
  notes?: string;
  tags?: string[];
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
}

export function assertText(where: string, field: string, value: unknown, nullable = true): void {
  if (value === undefined || (nullable && value === null)) return;
  if (typeof value !== 'string') {
    throw new LablogError('INVALID_OPTION', `${where}: ${field} must be a string, got ${describeValue(value)}`, { option: field });
  }
  const length = characterLength(value);
  if (length > MAX_STUDY_TEXT) {
    throw new LablogError('INVALID_OPTION', `${where}: ${field} is ${length} characters; the limit is ${MAX_STUDY_TEXT}`, {
      option: field,
      limit: MAX_STUDY_TEXT,
      actual: length,
    });
  }
}

export function assertTags(where: string, tags: unknown, maxNameLength: number): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw new LablogError('INVALID_OPTION', `${where}: tags must be an array of strings`, { option: 'tags' });
  for (const tag of tags) assertName('tag', tag, maxNameLength);
  return [...new Set(tags as string[])];
}

export function assertMetadata(where: string, metadata: unknown): Record<string, unknown> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new LablogError('INVALID_OPTION', `${where}: metadata must be a JSON object`, { option: 'metadata' });
  }
  try {
    return JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
  } catch (cause) {
    throw new LablogError('INVALID_OPTION', `${where}: metadata must be JSON-serialisable (${(cause as Error).message})`, { option: 'metadata' });
  }
}

const STATUS_ORDER: Record<StudyStatus, number> = { active: 0, completed: 1, archived: 2 };

export class Study {
  readonly #context: StudyContext;
  #record: StudyRecord;

  /** @internal Use store.createStudy or store.getStudy. */
  constructor(context: StudyContext, record: StudyRecord) {
    this.#context = context;
    this.#record = record;
  }

  get id(): string {
    return this.#record.id;
  }
  get name(): string {
    return this.#record.name;
  }
  get project(): string {
    return this.#record.project;
  }
  get description(): string | null {
    return this.#record.description;
  }
  get hypothesis(): string | null {
    return this.#record.hypothesis;
  }
  get tags(): readonly string[] {
    return this.#record.tags;
  }
  get metadata(): Readonly<Record<string, unknown>> {
    return this.#record.metadata;
  }
  get baseline(): StudyBaseline | null {
    return this.#record.baseline;
  }
  get template(): StudyTemplate | null {
    return this.#record.template;
  }
  get status(): StudyStatus {
    return this.#record.status;
  }
  get conclusion(): string | null {
    return this.#record.conclusion;
  }
  get archiveReason(): string | null {
    return this.#record.archiveReason;
  }
  get createdAt(): Date {
    return new Date(this.#record.createdAt);
  }
  get updatedAt(): Date {
    return new Date(this.#record.updatedAt);
  }

  /** The record as stored (a plain object, for JSON). */
  toJSON(): StudyRecord {
    return this.#record;
  }

  /** Adds an experiment (handle, id or name in the study's project). ALREADY_IN_STUDY if it is in one; at most 1,000. */
  addExperiment(experiment: Experiment | string, options?: AddExperimentOptions): this {
    assertOptionsObject('addExperiment', options);
    if (options) assertKnownOptions('addExperiment', options, ['notes', 'tags']);
    assertText('addExperiment', 'notes', options?.notes);
    const tags = assertTags('addExperiment', options?.tags, 100);
    const handle = typeof experiment === 'string' ? this.#context.experiment(experiment, this.project) : experiment;
    if (handle.project !== this.project) {
      throw new LablogError('INVALID_OPTION', `experiment '${handle.name}' is in project '${handle.project}', the study in '${this.project}'`, {
        experimentId: handle.id,
      });
    }
    this.#refresh();
    if (this.#record.status === 'archived') {
      throw new LablogError('INVALID_OPTION', `study '${this.name}' is archived; update its status to add experiments`, { study: this.name });
    }
    this.#context.studies().addMember(this.id, { experimentId: handle.id, notes: options?.notes ?? null, tags, addedAt: Date.now() }, MAX_STUDY_EXPERIMENTS);
    this.#refresh();
    return this;
  }

  /** The member experiments, in the order they were added (read handles; live ones for runs of this process). */
  experiments(): Experiment[] {
    return this.#context.studies().members(this.id).map((m) => this.#context.experiment(m.experimentId, this.project));
  }

  /** Notes and tags given when each experiment was added. */
  members(): { experimentId: string; notes: string | null; tags: readonly string[]; addedAt: Date }[] {
    return this.#context.studies().members(this.id).map((m) => ({ ...m, addedAt: new Date(m.addedAt) }));
  }

  /** Changes name, description, hypothesis, tags, metadata, status (active → completed → archived) or conclusion. */
  update(changes: StudyUpdate): this {
    assertOptionsObject('update', changes);
    if (changes === undefined) return this;
    assertKnownOptions('update', changes, ['name', 'description', 'hypothesis', 'tags', 'metadata', 'status', 'conclusion']);
    const patch: { -readonly [K in keyof StudyPatch]: StudyPatch[K] } = {};
    if (changes.name !== undefined) {
      assertName('study name', changes.name, 100);
      patch.name = changes.name;
    }
    for (const field of ['description', 'hypothesis', 'conclusion'] as const) {
      assertText('update', field, changes[field]);
      if (changes[field] !== undefined) patch[field] = changes[field];
    }
    if (changes.tags !== undefined) patch.tags = assertTags('update', changes.tags, 100);
    if (changes.metadata !== undefined) patch.metadata = assertMetadata('update', changes.metadata);
    if (changes.status !== undefined) {
      if (!(changes.status in STATUS_ORDER)) {
        throw new LablogError('INVALID_OPTION', `update: status must be active, completed or archived, got ${describeValue(changes.status)}`, {
          option: 'status',
        });
      }
      patch.status = changes.status;
    }
    this.#record = this.#context.studies().updateStudy(this.id, patch, Date.now());
    return this;
  }

  /** Counts by status, the best experiment for a metric, training time and cost. */
  statistics(options?: StudyStatisticsOptions): StudyStatistics {
    const experiments = this.experiments().map((e) => ({
      id: e.id,
      name: e.name,
      status: e.status,
      createdAt: e.createdAt.getTime(),
      endedAt: e.endedAt?.getTime() ?? null,
      series: e.listSeries(),
    }));
    return studyStatistics(experiments, options);
  }

  /**
   * Compares the completed member experiments (or the ones given) on metrics: rankings, descriptive
   * statistics, Welch's t-tests between groups of replicates, param–metric correlations, the Pareto
   * frontier, and insights drawn from those numbers only. INSUFFICIENT_RUNS below 2 completed experiments.
   */
  compare(options: CompareOptions): Comparison {
    const members = this.experiments();
    let chosen = members;
    if (options?.experiments !== undefined) {
      if (!Array.isArray(options.experiments)) throw new LablogError('INVALID_OPTION', 'compare: experiments must be an array of ids or names', { option: 'experiments' });
      chosen = options.experiments.map((idOrName) => {
        const found = members.find((m) => m.id === idOrName || m.name === idOrName);
        if (found === undefined) {
          throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment '${idOrName}' in study '${this.name}'`, { key: idOrName, study: this.name });
        }
        return found;
      });
    }
    const compared = chosen.map((e) => ({ id: e.id, name: e.name, status: e.status, params: e.getParams(), series: e.listSeries() }));
    return compareExperiments(compared, options, this.#baselineMetrics());
  }

  /**
   * Writes the member experiments to a file: one row per experiment with params and final/best metrics
   * as columns (or, with `series: true`, every metric point in long form), as CSV, Parquet, JSON or Arrow.
   */
  async export(options: ExportOptions): Promise<ExportResult> {
    const members = this.#context.studies().members(this.id);
    const memberTags = Object.fromEntries(members.map((m) => [m.experimentId, m.tags]));
    return exportExperiments(this.experiments(), options, { study: { id: this.id, name: this.name }, memberTags });
  }

  /** The param sets (grid search) or sample size per variant (A/B test) of the study's template. */
  plan(): StudyPlan {
    if (this.#record.template === null) {
      throw new LablogError('INVALID_OPTION', `study '${this.name}' was not created from a template (grid_search or ab_testing)`, { study: this.name });
    }
    return planStudy(this.#record.template);
  }

  /** Archives the study: status 'archived' with the reason. preserveArtifacts: false deletes the members' images, plots and tables. */
  archive(options: ArchiveOptions): this {
    assertOptionsObject('archive', options);
    if (options === undefined || typeof options.reason !== 'string' || options.reason.length === 0) {
      throw new LablogError('INVALID_OPTION', 'archive: a reason is required, e.g. { reason: "results written up" }', { option: 'reason' });
    }
    assertKnownOptions('archive', options, ['reason', 'preserveArtifacts']);
    assertText('archive', 'reason', options.reason, false);
    const preserve = options.preserveArtifacts ?? true;
    if (typeof preserve !== 'boolean') throw new LablogError('INVALID_OPTION', 'archive: preserveArtifacts must be a boolean', { option: 'preserveArtifacts' });
    if (!preserve) this.#context.dropArtifacts(this.#context.studies().members(this.id).map((m) => m.experimentId));
    this.#record = this.#context.studies().updateStudy(this.id, { status: 'archived', archiveReason: options.reason, preserveArtifacts: preserve }, Date.now());
    return this;
  }

  /** A new active study with this one's question: hypothesis, tags, metadata, baseline and template. */
  clone(options: CloneOptions): Study {
    assertOptionsObject('clone', options);
    if (options === undefined) throw new LablogError('INVALID_OPTION', 'clone: options { name } are required', { option: 'name' });
    assertKnownOptions('clone', options, ['name', 'description', 'modifications']);
    assertName('study name', options.name, 100);
    assertText('clone', 'description', options.description);
    const modifications = options.modifications === undefined ? undefined : assertMetadata('clone', options.modifications);
    const now = Date.now();
    const r = this.#record;
    return this.#context.create({
      ...r,
      id: newStudyId(),
      name: options.name,
      description: options.description ?? r.description,
      metadata: { ...r.metadata, clonedFrom: r.id, ...(modifications ? { modifications } : {}) },
      status: 'active',
      conclusion: null,
      archiveReason: null,
      preserveArtifacts: null,
      createdAt: now,
      updatedAt: now,
    });
  }

  /**
   * Deletes the study (its experiments stay in the store, in no study). Deletion loses the question and
   * its conclusion: refused (STUDY_NOT_ARCHIVED) unless the study is archived or `force` is given.
   */
  delete(options?: { force?: boolean }): void {
    assertOptionsObject('delete', options);
    if (options) assertKnownOptions('delete', options, ['force']);
    this.#refresh();
    if (this.#record.status !== 'archived' && options?.force !== true) {
      throw new LablogError('STUDY_NOT_ARCHIVED', `study '${this.name}' is ${this.#record.status}; archive it first, or delete({ force: true })`, {
        study: this.name,
        status: this.#record.status,
      });
    }
    this.#context.studies().deleteStudy(this.id);
  }

  #refresh(): void {
    const record = this.#context.studies().getStudy(this.id);
    if (record === undefined) throw new LablogError('STUDY_NOT_FOUND', `study '${this.name}' no longer exists`, { id: this.id });
    this.#record = record;
  }

  /** The baseline's metrics: an external baseline's numbers, or a member experiment's final values. */
  #baselineMetrics(): { name: string; metrics: Record<string, number> } | undefined {
    const baseline = this.#record.baseline;
    if (baseline === null) return undefined;
    if ('metrics' in baseline) return { name: baseline.name, metrics: { ...baseline.metrics } };
    const experiment = this.#context.experiment(baseline.experimentId, this.project);
    const metrics: Record<string, number> = {};
    for (const s of experiment.listSeries()) if (s.kind === 'metric' && typeof s.lastValue === 'number') metrics[s.name] = s.lastValue;
    return { name: experiment.name, metrics };
  }
}

export function newStudyId(): string {
  return crypto.randomUUID();
}
