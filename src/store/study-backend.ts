// The study part of the Store interface: studies and their members, as records (types only).

export const STUDY_STATUSES = ['active', 'completed', 'archived'] as const;
export type StudyStatus = (typeof STUDY_STATUSES)[number];

export const STUDY_SORT_FIELDS = ['created_at', 'updated_at', 'name'] as const;
export type StudySortField = (typeof STUDY_SORT_FIELDS)[number];

/** A baseline: an experiment of the store, or an external result given by its metrics. */
export type StudyBaseline = { readonly experimentId: string } | { readonly name: string; readonly metrics: Readonly<Record<string, number>> };

export interface StudyTemplate {
  readonly kind: 'grid_search' | 'ab_testing';
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

/** Studies in a store. Synchronous like StoreBackend; failures throw LablogError (STORAGE_ERROR or the typed code). */
export interface StudyBackend {
  /** Inserts a study; a name taken in the project fails INVALID_NAME. */
  createStudy(record: StudyRecord): void;
  getStudy(id: string): StudyRecord | undefined;
  findStudies(name: string, project?: string): StudyRecord[];
  listStudies(query: StudyQuery): StudyRecord[];
  countStudies(query: StudyFilter): number;
  updateStudy(id: string, patch: StudyPatch, now: number): StudyRecord;
  /** Deletes the study and its memberships (never the experiments). */
  deleteStudy(id: string): void;
  /** Adds a member: ALREADY_IN_STUDY if it is in a study, LIMIT_EXCEEDED past maxMembers (checked atomically). */
  addMember(studyId: string, member: StudyMember, maxMembers: number): void;
  members(studyId: string): StudyMember[];
  /** The study an experiment belongs to. */
  studyOf(experimentId: string): string | undefined;
  /** Deletes the images, plots and tables of these experiments (params and metrics stay; image and plot series stay, empty). */
  dropArtifacts(experimentIds: readonly string[]): void;
}

/** The same operations for a server's store: asynchronous, with the same rules and errors. */
export type ServerStudyBackend = {
  [K in keyof StudyBackend]: (...args: Parameters<StudyBackend[K]>) => Promise<ReturnType<StudyBackend[K]>>;
};
