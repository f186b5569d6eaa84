// Experiments as records: statuses, the stored row, a new one, queries over them, and params as stored.

import type { ExperimentProgress } from './progress.js';

export const EXPERIMENT_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'crashed'] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

export const PARAM_TYPES = ['boolean', 'number', 'string', 'date'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ExperimentRecord {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly status: ExperimentStatus;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
  readonly heartbeatAt: number | null;
  readonly pid: number | null;
  readonly hostname: string | null;
  /** The latest exp.setProgress (null: never set). */
  readonly progress: ExperimentProgress | null;
}

export interface NewExperiment {
  readonly id: string;
  readonly project: string;
  readonly description: string | null;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly pid: number;
  readonly hostname: string;
}

export const EXPERIMENT_SORT_FIELDS = ['created_at', 'updated_at', 'name', 'status'] as const;
export type ExperimentSortField = (typeof EXPERIMENT_SORT_FIELDS)[number];

export interface ExperimentQuery {
  readonly project?: string;
  /** Only experiments in these projects (an API key's scope); an empty list matches nothing. */
  readonly projects?: readonly string[];
  readonly status?: readonly ExperimentStatus[];
  /** Experiments carrying every one of these tags. */
  readonly tags?: readonly string[];
  readonly limit?: number;
  readonly offset?: number;
  readonly sort?: ExperimentSortField;
  readonly order?: 'asc' | 'desc';
}

/** A param as stored: its type and its value encoded as text. */
export interface ParamRecord {
  readonly key: string;
  readonly type: ParamType;
  readonly value: string;
}
