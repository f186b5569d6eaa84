// Studies as records: statuses, templates, baselines, members, and queries over them.

import type { Goal } from './metric-goal.js';

export const STUDY_STATUSES = ['active', 'completed', 'archived'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

export const STUDY_SORT_FIELDS = ['created_at', 'updated_at', 'name'] as const;
export type StudySortField = (typeof STUDY_SORT_FIELDS)[number];

/** Studies a page lists when the caller names no limit (listStudies, GET /api/v1/studies, `lablog studies`). */
export const DEFAULT_STUDY_PAGE = 50;
/** Most studies one page lists. */
export const MAX_STUDY_PAGE = 100;

/** The paging field that breaks the rule, if any: limit an integer from 1 to MAX_STUDY_PAGE, offset an integer >= 0. */
export function studyPageProblem(limit: number, offset: number): 'limit' | 'offset' | undefined {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_STUDY_PAGE) return 'limit';
  if (!Number.isSafeInteger(offset) || offset < 0) return 'offset';
  return undefined;
}

/** A baseline: an experiment of the store, or an external result given by its metrics. */
export type StudyBaseline =
  { readonly experimentId: string } | { readonly name: string; readonly metrics: Readonly<Record<string, number>> };

export const STUDY_TEMPLATE_KINDS = ['grid_search', 'ab_testing', 'progressive_scaling'] as const;
export type StudyTemplateKind = (typeof STUDY_TEMPLATE_KINDS)[number];

export interface StudyTemplate {
  readonly kind: StudyTemplateKind;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/**
 * The metric a study's template names (grid_search's and progressive_scaling's `metric`, else ab_testing's `success_metric`) and the
 * goal it states (`objective`: minimize or maximize; undefined when it states none), if it names one.
 */
export function templateObjective(template: unknown): { readonly metric: string; readonly goal: Goal | undefined } | null {
  if (typeof template !== 'object' || template === null) return null;
  const p = (template as { parameters?: unknown }).parameters;
  if (typeof p !== 'object' || p === null) return null;
  const parameters = p as Record<string, unknown>;
  const metric =
    typeof parameters['metric'] === 'string'
      ? parameters['metric']
      : typeof parameters['success_metric'] === 'string'
        ? parameters['success_metric']
        : null;
  if (metric === null) return null;
  const objective = parameters['objective'];
  return { metric, goal: objective === 'minimize' || objective === 'maximize' ? objective : undefined };
}

export interface StudyRecord {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description: string | null;
  readonly hypothesis: string | null;
  readonly tags: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly baseline: StudyBaseline | null;
  readonly template: StudyTemplate | null;
  readonly status: StudyStatus;
  readonly conclusion: string | null;
  readonly archiveReason: string | null;
  readonly preserveArtifacts: boolean | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export type StudyPatch = Partial<Omit<StudyRecord, 'id' | 'project' | 'createdAt' | 'updatedAt'>>;

export interface StudyMember {
  readonly experimentId: string;
  readonly notes: string | null;
  readonly tags: readonly string[];
  readonly addedAt: number;
}

export interface StudyQuery {
  readonly project?: string;
  /** Only studies in these projects (a server's API key scope). */
  readonly projects?: readonly string[];
  readonly status?: StudyStatus;
  /** Studies carrying every one of these tags. */
  readonly tags?: readonly string[];
  readonly limit: number;
  readonly offset: number;
  readonly sort: StudySortField;
  readonly order: 'asc' | 'desc';
}

export type StudyFilter = Omit<StudyQuery, 'limit' | 'offset' | 'sort' | 'order'>;
