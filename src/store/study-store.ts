// The study capability of a store: studies and their members (types only).

import type { StudyFilter, StudyMember, StudyPatch, StudyQuery, StudyRecord } from '../model/study.js';
import type { Async } from './async.js';

/** Studies in a store. Synchronous; failures throw LablogError (STORAGE_ERROR or the typed code). */
export interface StudyStore {
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

/** The embedded store's studies (the name core uses). */
export type StudyBackend = StudyStore;

/** The same operations for a server's store: asynchronous, with the same rules and errors. */
export type ServerStudyBackend = Async<StudyStore>;
