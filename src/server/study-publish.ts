// Publishing a study into the server (PUT /api/v1/studies/:id): a client's study, created with its id or updated, and its members added one by one.

import type { FastifyRequest } from 'fastify';
import { LablogError } from '../model/errors.js';
import {
  MAX_STUDY_EXPERIMENTS,
  assertCanJoin,
  assertText,
  checkExternalBaseline,
  memberFrom,
  studyPatchFrom,
  studyRecordFrom,
} from '../core/study-rules.js';
import { checkTemplate } from '../core/study-template.js';
import { excerpt } from '../model/validation.js';
import type { StudyRecord, StudyStatus } from '../model/study.js';
import type { StudyMemberRejection } from '../remote/error-answer.js';
import type { ServerBackend } from '../store/server-backend.js';
import { MAX_ERROR_MESSAGE_CHARS, unusableId } from './http-errors.js';
import { UUID } from './query-params.js';
import { visibleExperiment } from './read-routes.js';

/** What a publication answers: the study as stored, the members added, and those refused (each with why). */
export interface StudyPublication {
  readonly study: StudyRecord | undefined;
  readonly added: number;
  readonly rejected: StudyMemberRejection[];
}

/** FORBIDDEN unless the request's API key may write to the project. */
export function assertWritable(request: FastifyRequest, project: string): void {
  if (!request.apiKey.projects.includes(project)) {
    throw new LablogError('FORBIDDEN', `this API key cannot write to project '${project}'`, { project });
  }
}

/** A baseline as stored: an experiment id, or { name, metrics } (a valid name, at most MAX_BASELINE_METRICS metrics). */
function checkBaseline(value: unknown): StudyRecord['baseline'] {
  const b = value as Record<string, unknown>;
  if (typeof b === 'object' && b !== null && typeof b['experimentId'] === 'string' && UUID.test(b['experimentId']))
    return { experimentId: b['experimentId'] };
  const external = checkExternalBaseline('publish', value);
  if (external instanceof LablogError) {
    // The shape is wrong (not a count over a limit): say what a published baseline may be.
    if (external.code === 'INVALID_OPTION' && external.details.option === 'baseline')
      throw new LablogError('INVALID_OPTION', 'baseline must be { experimentId } or { name, metrics: { metric: number } }', {
        field: 'baseline',
      });
    throw external;
  }
  return external;
}

/** INVALID_OPTION unless the published study's id is a UUID (checked before its body is read). */
export function assertStudyId(id: string): void {
  if (!UUID.test(id)) throw new LablogError('INVALID_OPTION', `study id must be a UUID, got '${id}'`, { id });
}

/**
 * Creates the study `id` (checked by assertStudyId) from the published fields `b` (or updates it, when it exists in the same project),
 * then adds the members: each refused member is listed in `rejected` and the others are added; a storage
 * failure stops it. The fields and the member list are checked before anything is written.
 */
export async function publishStudy(
  backend: ServerBackend,
  request: FastifyRequest,
  id: string,
  b: Record<string, unknown>,
): Promise<StudyPublication> {
  const studies = backend.studies();
  // Checked before anything is written.
  const members = b['members'] ?? [];
  if (!Array.isArray(members))
    throw new LablogError('INVALID_OPTION', 'members must be an array of { experimentId, notes, tags, addedAt }', { field: 'members' });
  if (members.length > MAX_STUDY_EXPERIMENTS) {
    throw new LablogError(
      'LIMIT_EXCEEDED',
      `${members.length} members; a study holds at most ${MAX_STUDY_EXPERIMENTS} experiments (MAX_STUDY_EXPERIMENTS)`,
      {
        field: 'members',
        limit: MAX_STUDY_EXPERIMENTS,
        actual: members.length,
      },
    );
  }
  const { record } = studyRecordFrom(
    {
      name: b['name'] as string,
      ...(typeof b['project'] === 'string' ? { project: b['project'] } : {}),
      ...(b['description'] != null ? { description: b['description'] as string } : {}),
      ...(b['hypothesis'] != null ? { hypothesis: b['hypothesis'] as string } : {}),
      ...(b['tags'] !== undefined ? { tags: b['tags'] as string[] } : {}),
      ...(b['metadata'] !== undefined ? { metadata: b['metadata'] as Record<string, unknown> } : {}),
    },
    Date.now(),
  );
  assertWritable(request, record.project);
  const template =
    b['template'] == null
      ? null
      : checkTemplate((b['template'] as { kind?: unknown }).kind, (b['template'] as { parameters?: unknown }).parameters);
  const baseline = b['baseline'] == null ? null : checkBaseline(b['baseline']);
  if (baseline !== null && 'experimentId' in baseline) {
    // Only an experiment of the study's own project, visible to this key.
    const base = await visibleExperiment(backend, request, baseline.experimentId);
    if (base.project !== record.project)
      throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment '${baseline.experimentId}' in project '${record.project}'`, {
        key: baseline.experimentId,
      });
  }
  const patch = studyPatchFrom({
    ...(b['status'] !== undefined ? { status: b['status'] as StudyStatus } : {}),
    ...(b['conclusion'] !== undefined ? { conclusion: b['conclusion'] as string | null } : {}),
  });
  const archiveReason = (b['archiveReason'] ?? null) as string | null;
  assertText('publish', 'archiveReason', archiveReason);
  const preserveArtifacts = b['preserveArtifacts'] ?? null;
  if (preserveArtifacts !== null && typeof preserveArtifacts !== 'boolean')
    throw new LablogError('INVALID_OPTION', 'preserveArtifacts must be a boolean or null', { field: 'preserveArtifacts' });
  const fields = {
    name: record.name,
    description: record.description,
    hypothesis: record.hypothesis,
    tags: record.tags,
    metadata: record.metadata,
    baseline,
    template,
    ...patch,
    archiveReason,
    preserveArtifacts,
  };
  const existing = await studies.getStudy(id);
  let stored: StudyRecord;
  if (existing === undefined) {
    const createdAt = typeof b['createdAt'] === 'number' && Number.isFinite(b['createdAt']) ? b['createdAt'] : record.createdAt;
    stored = {
      ...record,
      ...fields,
      id,
      status: patch.status ?? 'active',
      conclusion: patch.conclusion ?? null,
      createdAt,
      updatedAt: Date.now(),
    };
    await studies.createStudy(stored);
  } else {
    // Taken by another project: the same answer whether or not this key can see that project.
    if (existing.project !== record.project) throw unusableId('study', id);
    stored = await studies.updateStudy(id, fields, Date.now());
  }
  const rejected: StudyMemberRejection[] = [];
  let added = 0;
  for (const m of members as Record<string, unknown>[]) {
    const experimentId = String(m?.['experimentId']);
    try {
      const current = await studies.studyOf(experimentId);
      if (current === id) continue;
      const target = await visibleExperiment(backend, request, experimentId);
      const member = memberFrom({
        ...(m['notes'] != null ? { notes: m['notes'] as string } : {}),
        ...(m['tags'] !== undefined ? { tags: m['tags'] as string[] } : {}),
      });
      assertCanJoin({ ...stored, status: 'active' }, target);
      const addedAt = typeof m['addedAt'] === 'number' && Number.isFinite(m['addedAt']) ? m['addedAt'] : Date.now();
      await studies.addMember(id, { experimentId: target.id, ...member, addedAt }, MAX_STUDY_EXPERIMENTS);
      added++;
    } catch (error) {
      if (!(error instanceof LablogError) || error.code === 'STORAGE_ERROR') throw error;
      rejected.push({ experimentId: excerpt(experimentId), error: error.code, message: excerpt(error.message, MAX_ERROR_MESSAGE_CHARS) });
    }
  }
  return { study: await studies.getStudy(id), added, rejected };
}
