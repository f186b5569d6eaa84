// Studies as records: statuses, templates, baselines, members, and queries over them.

export const STUDY_STATUSES = ['active', 'completed', 'archived'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

export const STUDY_SORT_FIELDS = ['created_at', 'updated_at', 'name'] as const;
export type StudySortField = (typeof STUDY_SORT_FIELDS)[number];

/** A baseline: an experiment of the store, or an external result given by its metrics. */
export type StudyBaseline =
  { readonly experimentId: string } | { readonly name: string; readonly metrics: Readonly<Record<string, number>> };

export const STUDY_TEMPLATE_KINDS = ['grid_search', 'ab_testing'] as const;
export type StudyTemplateKind = (typeof STUDY_TEMPLATE_KINDS)[number];

export interface StudyTemplate {
  readonly kind: StudyTemplateKind;
  readonly parameters: Readonly<Record<string, unknown>>;
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
