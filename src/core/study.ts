// Study: a named group of experiments around a question — members, status, statistics, comparison, templates.

import { LablogError } from '../model/errors.js';
import { findByIdOrName } from '../model/ids.js';
import { assertKnownOptions, assertOptionsObject } from '../model/validation.js';
import {
  MAX_STUDY_EXPERIMENTS,
  archivePatchFrom,
  assertCanJoin,
  assertNoneRunning,
  assertDeletable,
  cloneRecordFrom,
  memberFrom,
  studyPatchFrom,
  type AddExperimentOptions,
  type ArchiveOptions,
  type CloneOptions,
  type StudyUpdate,
} from './study-rules.js';
import type { Experiment } from './experiment.js';
import { compareExperiments, type CompareOptions, type Comparison } from './study-comparison.js';
import { studyStatistics, type StudyStatistics, type StudyStatisticsOptions } from './study-statistics.js';
import { planStudy, type StudyPlan } from './study-template.js';
import { analyzeScaling, type ScalingLawAnalysis } from './study-scaling.js';
import { exportExperiments, type ExportOptions, type ExportResult } from './study-export.js';
import type { StudyBaseline, StudyRecord, StudyStatus, StudyTemplate } from '../model/study.js';
import type { StudyBackend } from '../store/study-store.js';

/** What a Study needs from its Store. */
export interface StudyContext {
  studies(): StudyBackend;
  /** A live or read handle, crash-reconciled; throws EXPERIMENT_NOT_FOUND. */
  experiment(idOrName: string, project: string): Experiment;
  /** Creates a study (for clone). */
  create(record: StudyRecord): Study;
  /** Copies an experiment with all its data under a new id (same name, deduplicated); returns the id. */
  copyExperiment(experimentId: string, now: number): string;
  /** Drops images, plots and tables of these experiments (archive without preserving artifacts). */
  dropArtifacts(experimentIds: readonly string[]): void;
}

export class Study {
  readonly #context: StudyContext;
  #record: StudyRecord;

  /** @internal How a Store makes a study object. */
  static from(context: StudyContext, record: StudyRecord): Study {
    return new Study(context, record);
  }

  /** Use store.createStudy or store.getStudy. (Private, so the published types offer no constructor.) */
  private constructor(context: StudyContext, record: StudyRecord) {
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
    const member = memberFrom(options);
    const handle = typeof experiment === 'string' ? this.#context.experiment(experiment, this.project) : experiment;
    this.#refresh();
    assertCanJoin(this.#record, handle);
    this.#context.studies().addMember(this.id, { experimentId: handle.id, ...member, addedAt: Date.now() }, MAX_STUDY_EXPERIMENTS);
    this.#refresh();
    return this;
  }

  /** The member experiments, in the order they were added (read handles; live ones for runs of this process). */
  experiments(): Experiment[] {
    return this.#context
      .studies()
      .members(this.id)
      .map((m) => this.#context.experiment(m.experimentId, this.project));
  }

  /** Notes and tags given when each experiment was added. */
  members(): { experimentId: string; notes: string | null; tags: readonly string[]; addedAt: Date }[] {
    return this.#context
      .studies()
      .members(this.id)
      .map((m) => ({ ...m, addedAt: new Date(m.addedAt) }));
  }

  /** Changes name, description, hypothesis, tags, metadata, status (active → completed → archived) or conclusion. */
  update(changes: StudyUpdate): this {
    this.#record = this.#context.studies().updateStudy(this.id, studyPatchFrom(changes), Date.now());
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
      if (!Array.isArray(options.experiments))
        throw new LablogError('INVALID_OPTION', 'compare: experiments must be an array of ids or names', { option: 'experiments' });
      chosen = options.experiments.map((idOrName) => {
        const found = findByIdOrName(members, idOrName);
        if (found === undefined) {
          throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment '${idOrName}' in study '${this.name}'`, {
            key: idOrName,
            study: this.name,
          });
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
      throw new LablogError(
        'INVALID_OPTION',
        `study '${this.name}' was not created from a template (grid_search, ab_testing or progressive_scaling)`,
        {
          study: this.name,
        },
      );
    }
    return planStudy(this.#record.template);
  }

  /**
   * The scaling law of a progressive_scaling study: each completed member's size (its size param) and the final
   * value of the template's metric, fitted by least squares to L(N) = a·N^(−b) + c (core/scaling-law.ts), with
   * standard errors, 95% intervals, R², and the size predicted for each performance target. INSUFFICIENT_RUNS
   * below 3 fitted points at 3 distinct sizes; INVALID_OPTION for a study of another template.
   */
  scalingLaw(): ScalingLawAnalysis {
    const experiments = this.experiments().map((e) => ({
      id: e.id,
      name: e.name,
      status: e.status,
      params: e.getParams(),
      series: e.listSeries(),
    }));
    return analyzeScaling(experiments, this.#record.template, this.name);
  }

  /** Archives the study: status 'archived' with the reason. preserveArtifacts: false deletes the members' images, plots and tables. */
  archive(options: ArchiveOptions): this {
    const { patch, preserveArtifacts } = archivePatchFrom(options);
    if (!preserveArtifacts) {
      assertNoneRunning(this.#record, this.experiments());
      this.#context.dropArtifacts(
        this.#context
          .studies()
          .members(this.id)
          .map((m) => m.experimentId),
      );
    }
    this.#record = this.#context.studies().updateStudy(this.id, patch, Date.now());
    return this;
  }

  /**
   * A new active study with this one's question: hypothesis, tags, metadata, baseline and template. With
   * `copyExperiments: true`, the member experiments are copied (new ids, names deduplicated, all data)
   * into it; otherwise it starts empty.
   */
  clone(options: CloneOptions): Study {
    const now = Date.now();
    const clone = this.#context.create(cloneRecordFrom(this.#record, options, now));
    if (options.copyExperiments === true) {
      for (const member of this.#context.studies().members(this.id)) {
        const copy = this.#context.copyExperiment(member.experimentId, now);
        this.#context
          .studies()
          .addMember(
            clone.id,
            { experimentId: copy, notes: member.notes, tags: member.tags, addedAt: member.addedAt },
            MAX_STUDY_EXPERIMENTS,
          );
      }
    }
    return clone;
  }

  /**
   * Deletes the study (its experiments stay in the store, in no study). Deletion loses the question and
   * its conclusion: refused (STUDY_NOT_ARCHIVED) unless the study is archived or `force` is given.
   */
  delete(options?: { force?: boolean }): void {
    assertOptionsObject('delete', options);
    if (options) assertKnownOptions('delete', options, ['force']);
    this.#refresh();
    assertDeletable(this.#record, options?.force);
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
