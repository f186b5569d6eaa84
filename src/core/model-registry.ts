// The model registry of a store: registering an experiment's artifact as a model version, references (name@alias, name@3), aliases, and each version's lineage.

import type { AliasMove, ArtifactRecord, ModelRecord, ModelVersionRecord } from '../model/artifact.js';
import { parseModelRef } from '../model/artifact.js';
import type { DatasetRecord } from '../model/dataset.js';
import { LablogError, describeValue } from '../model/errors.js';
import type { ExperimentRecord } from '../model/experiment.js';
import { resolveLimits } from '../model/limits.js';
import { assertAlias, assertModelName, modelNotFound } from '../model/model-rules.js';
import { assertKnownOptions, assertName, assertOptionsObject, checkText, type ParamValue } from '../model/validation.js';
import type { ArtifactStore, ModelStore } from '../store/artifact-store.js';
import type { StoreBackend } from '../store/backend.js';
import { readParams } from './experiment-reads.js';

/** The longest description of a model version, in characters. */
export const MAX_MODEL_DESCRIPTION_CHARS = 10_000;

/** What registerModel takes. */
export interface RegisterModelOptions {
  /** The experiment the artifact is in (the object, or its id or name). */
  experiment: { readonly id: string } | string;
  /** The artifact's name in the experiment. */
  artifact: string;
  /** Its step (default: the highest step it was logged at, else the one without a step); null: the one without. */
  step?: number | null;
  /** Aliases to point at the new version (an alias on another version moves, and the move is recorded). */
  aliases?: string[];
  description?: string;
  /** The project of the model (default: the experiment's). */
  project?: string;
}

const REGISTER_OPTIONS = ['experiment', 'artifact', 'step', 'aliases', 'description', 'project'] as const;

/** A version with the aliases pointing at it. */
export interface ModelVersion extends ModelVersionRecord {
  readonly aliases: readonly string[];
}

/** Where a version came from: its experiment (params, last metric values, datasets, study) and its artifact. */
export interface ModelLineage {
  readonly experiment: {
    readonly id: string;
    readonly project: string;
    readonly name: string;
    readonly status: ExperimentRecord['status'];
    readonly params: Record<string, ParamValue>;
    /** Each metric series' last value. */
    readonly metrics: Record<string, number | null>;
    readonly datasets: readonly DatasetRecord[];
    readonly study: { readonly id: string; readonly name: string } | null;
  } | null;
  /** The artifact (null when the store cannot read it). */
  readonly artifact: ArtifactRecord | null;
}

/** A version as getModel returns it: the version, its model, and its lineage. */
export interface ModelVersionDetail extends ModelVersion {
  readonly lineage: ModelLineage;
}

/** What the registry needs of its store. */
export interface ModelRegistryContext {
  readonly backend: StoreBackend;
  /** The store's artifacts, undefined when it keeps none. */
  readonly artifacts: () => Pick<ArtifactStore, 'getArtifact' | 'getArtifactById'> | undefined;
  /** An experiment by id or name (EXPERIMENT_NOT_FOUND, AMBIGUOUS_NAME). */
  readonly experiment: (idOrName: string) => { readonly id: string; readonly project: string };
}

const NAME_LIMIT = resolveLimits(undefined).maxNameLength;

function invalid(option: string, message: string): LablogError {
  return new LablogError('INVALID_OPTION', message, { option });
}

export class ModelRegistry {
  readonly #context: ModelRegistryContext;

  constructor(context: ModelRegistryContext) {
    this.#context = context;
  }

  get #models(): ModelStore {
    return this.#context.backend.models();
  }

  register(name: string, options: RegisterModelOptions): ModelVersion {
    assertModelName(name, NAME_LIMIT);
    assertOptionsObject('registerModel', options);
    if (options === undefined) throw invalid('experiment', 'registerModel: options { experiment, artifact } are required');
    assertKnownOptions('registerModel', options, REGISTER_OPTIONS);
    const ref = options.experiment;
    if (typeof ref !== 'string' && (typeof ref !== 'object' || ref === null || typeof ref.id !== 'string'))
      throw invalid('experiment', `registerModel: experiment must be an Experiment, or its id or name, got ${describeValue(ref)}`);
    const experiment = this.#context.experiment(typeof ref === 'string' ? ref : ref.id);
    if (typeof options.artifact !== 'string' || options.artifact.length === 0)
      throw invalid(
        'artifact',
        `registerModel: artifact must be the name of one of the experiment's artifacts, got ${describeValue(options.artifact)}`,
      );
    const step = options.step;
    if (step !== undefined && step !== null && !(Number.isSafeInteger(step) && step >= 0))
      throw invalid('step', `registerModel: step must be a non-negative integer or null, got ${describeValue(step)}`);
    const aliases = options.aliases ?? [];
    if (!Array.isArray(aliases))
      throw invalid('aliases', `registerModel: aliases must be an array of names, got ${describeValue(aliases)}`);
    for (const alias of aliases) assertAlias(alias, NAME_LIMIT);
    const description = options.description ?? null;
    if (description !== null) {
      const problem = checkText('registerModel: description', description, MAX_MODEL_DESCRIPTION_CHARS, 'INVALID_OPTION', {
        option: 'description',
      });
      if (problem) throw problem;
    }
    const project = options.project ?? experiment.project;
    assertName('project name', project, NAME_LIMIT);
    const artifact = this.#context.artifacts()?.getArtifact(experiment.id, options.artifact, step);
    if (artifact === undefined) {
      const at = step === undefined ? '' : step === null ? ' without a step' : ` at step ${step}`;
      throw new LablogError('ARTIFACT_NOT_FOUND', `experiment ${experiment.id} has no artifact '${options.artifact}'${at}`, {
        experiment: experiment.id,
        key: options.artifact,
        ...(typeof step === 'number' ? { step } : {}),
      });
    }
    const version = this.#models.registerVersion({
      project,
      model: name,
      experimentId: experiment.id,
      artifactId: artifact.id,
      description,
      aliases: [...new Set(aliases)],
      now: Date.now(),
    });
    return { ...version, aliases: [...new Set(aliases)].sort() };
  }

  /** The model a name refers to: in `project`, or in the only project that has it (AMBIGUOUS_NAME, MODEL_NOT_FOUND). */
  model(name: string, project?: string): ModelRecord {
    if (typeof name !== 'string' || name.length === 0)
      throw new LablogError('INVALID_NAME', `model name must be a non-empty string, got ${describeValue(name)}`, {});
    if (project !== undefined) {
      const model = this.#models.getModel(project, name);
      if (model === undefined) throw modelNotFound(project, name);
      return model;
    }
    const found = this.#models.listModels().filter((m) => m.name === name);
    if (found.length > 1) {
      throw new LablogError(
        'AMBIGUOUS_NAME',
        `model name '${name}' exists in projects ${found.map((m) => m.project).join(', ')}; pass { project }`,
        { key: name, projects: found.map((m) => m.project) },
      );
    }
    if (found[0] === undefined)
      throw new LablogError('MODEL_NOT_FOUND', `no model '${name}' in ${this.#context.backend.location}`, { key: name });
    return found[0];
  }

  /** The version `ref` (name, name@alias, name@3) names, with its lineage. */
  get(ref: string, project?: string): ModelVersionDetail {
    if (typeof ref !== 'string') throw new LablogError('INVALID_NAME', `model reference must be a string, got ${describeValue(ref)}`, {});
    const parsed = parseModelRef(ref);
    const model = this.model(parsed.name, project);
    let number: number | undefined;
    if (parsed.version !== undefined) number = parsed.version;
    else if (parsed.alias !== undefined) {
      number = model.aliases[parsed.alias];
      if (number === undefined)
        throw new LablogError('MODEL_NOT_FOUND', `model '${model.name}' in project '${model.project}' has no alias '${parsed.alias}'`, {
          key: model.name,
          project: model.project,
          alias: parsed.alias,
        });
    } else number = model.latestVersion ?? undefined;
    const version = number === undefined ? undefined : this.#models.getVersion(model.project, model.name, number);
    if (version === undefined) throw modelNotFound(model.project, model.name, number ?? 1);
    return { ...this.#withAliases(model, version), lineage: this.#lineage(version) };
  }

  #withAliases(model: ModelRecord, version: ModelVersionRecord): ModelVersion {
    const aliases = Object.entries(model.aliases)
      .filter(([, v]) => v === version.version)
      .map(([alias]) => alias)
      .sort();
    return { ...version, aliases };
  }

  #lineage(version: ModelVersionRecord): ModelLineage {
    const backend = this.#context.backend;
    const record = backend.getExperiment(version.experimentId);
    const artifact = this.#context.artifacts()?.getArtifactById(version.artifactId) ?? null;
    if (record === undefined) return { experiment: null, artifact };
    const metrics: Record<string, number | null> = {};
    for (const s of backend.readSeries(record.id)) if (s.kind === 'metric') metrics[s.name] = s.lastValue;
    const studyId = backend.studies().studyOf(record.id);
    const study = studyId === undefined ? undefined : backend.studies().getStudy(studyId);
    return {
      experiment: {
        id: record.id,
        project: record.project,
        name: record.name,
        status: record.status,
        params: readParams({ backend, id: record.id, name: record.name }),
        metrics,
        datasets: backend.readDatasets(record.id),
        study: study === undefined ? null : { id: study.id, name: study.name },
      },
      artifact,
    };
  }

  setAlias(name: string, alias: string, version: number | null, project?: string): void {
    assertAlias(alias, NAME_LIMIT);
    if (version !== null && !(Number.isSafeInteger(version) && version >= 1))
      throw invalid(
        'version',
        `setAlias: version must be a version number (1, 2, …) or null to remove the alias, got ${describeValue(version)}`,
      );
    const model = this.model(name, project);
    if (version === null && model.aliases[alias] === undefined)
      throw new LablogError('MODEL_NOT_FOUND', `model '${model.name}' in project '${model.project}' has no alias '${alias}'`, {
        key: model.name,
        project: model.project,
        alias,
      });
    this.#models.setAlias(model.project, model.name, alias, version, Date.now());
  }

  list(project?: string): ModelRecord[] {
    if (project !== undefined) assertName('project name', project, NAME_LIMIT);
    return this.#models.listModels(project);
  }

  versions(name: string, project?: string): ModelVersion[] {
    const model = this.model(name, project);
    return this.#models.listVersions(model.project, model.name).map((v) => this.#withAliases(model, v));
  }

  aliasMoves(name: string, project?: string): AliasMove[] {
    const model = this.model(name, project);
    return this.#models.aliasMoves(model.project, model.name);
  }
}
