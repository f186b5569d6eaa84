// Publishing of a local store: every (or some) experiment(s) to one remote, one bad experiment not stopping the others.

import type { LablogError } from '../model/errors.js';
import { readSentCode, type StudyMemberRejection } from '../remote/error-answer.js';
import type { PublishProblemReport, PublishReport, RemoteSpec } from '../core/publishing.js';
import { openPublishSource } from '../store/open-publish-source.js';
import type { PublishSource } from '../store/publish-source.js';
import { Publisher } from './publisher.js';
import { RemoteClient, type RetryPolicy } from './remote-client.js';

/** What to publish from an open source, and where. */
export interface PublishFromOptions {
  readonly remote: RemoteSpec;
  /** Experiment ids (default: all, oldest first). */
  readonly experimentIds?: readonly string[];
  readonly version?: string;
  readonly retry?: RetryPolicy;
  /** Before publishing: the experiments and the points they have to send (an upper bound). */
  readonly onStart?: (plan: { experiments: number; points: number }) => void;
  readonly onPoints?: (points: number) => void;
  readonly onExperiment?: (name: string, problems: readonly PublishProblemReport[]) => void;
  readonly pointsPerRequest?: number;
}

export interface PublishStoreOptions extends PublishFromOptions {
  /** The local store's file. */
  readonly storePath: string;
}

/** Default retry for an explicit publish: keep trying a down or busy remote for a minute. */
export const PUBLISH_RETRY: RetryPolicy = { maxAttempts: 8 };

/** Publishes the local store at `options.storePath` (opened for this call, closed after). */
export async function publishStore(options: PublishStoreOptions): Promise<PublishReport> {
  const source = openPublishSource(options.storePath);
  try {
    return await publishFrom(source, options);
  } finally {
    source.close();
  }
}

/** Publishes from a source the caller opened (and closes). */
export async function publishFrom(source: PublishSource, options: PublishFromOptions): Promise<PublishReport> {
  const client = new RemoteClient(options.remote);
  const publisher = new Publisher(source, client);
  const ids = options.experimentIds ?? source.listExperiments({ sort: 'created_at', order: 'asc' }).map((r) => r.id);
  options.onStart?.({ experiments: ids.length, points: ids.reduce((sum, id) => sum + publisher.pendingPoints(id), 0) });
  let experiments = 0;
  let accepted = 0;
  let skipped = 0;
  const problems: PublishProblemReport[] = [];
  let unreachable = false;
  for (const id of ids) {
    try {
      const report = await publisher.publishExperiment(id, {
        ...(options.version !== undefined ? { version: options.version } : {}),
        retry: options.retry ?? PUBLISH_RETRY,
        ...(options.onPoints ? { onPoints: options.onPoints } : {}),
        ...(options.pointsPerRequest ? { pointsPerRequest: options.pointsPerRequest } : {}),
      });
      experiments++;
      accepted += report.accepted;
      skipped += report.skipped;
      problems.push(...report.problems);
      options.onExperiment?.(report.name, report.problems);
    } catch (error) {
      const e = error as LablogError;
      const name = source.getExperiment(id)?.name ?? id;
      const problem = { experimentId: id, experiment: name, code: e.code ?? 'REMOTE_ERROR', message: e.message };
      problems.push(problem);
      options.onExperiment?.(name, [problem]);
      // A remote that cannot be reached will not be reached for the next experiment either.
      if (e.code === 'REMOTE_UNAVAILABLE' || e.code === 'UNAUTHENTICATED') {
        unreachable = true;
        break;
      }
    }
  }
  // The studies of the experiments published, with their members (one request per study).
  const studyIds = unreachable ? [] : [...new Set(ids.map((id) => source.studyOf(id)).filter((id): id is string => id !== undefined))];
  for (const studyId of studyIds) {
    const study = source.getStudy(studyId);
    if (study === undefined) {
      // Listed as an experiment's study but unreadable: said, never skipped in silence.
      problems.push({
        experimentId: '',
        experiment: '',
        item: { kind: 'study', name: studyId },
        code: 'STORAGE_ERROR',
        message: `study ${studyId} could not be read from ${source.location}; it was not published`,
      });
      continue;
    }
    try {
      const result = await client.call<{ rejected: StudyMemberRejection[] }>(
        'PUT',
        `/api/v1/studies/${studyId}`,
        { ...study, members: source.members(studyId) },
        options.retry ?? PUBLISH_RETRY,
      );
      for (const r of result.rejected) {
        problems.push({
          experimentId: r.experimentId,
          experiment: source.getExperiment(r.experimentId)?.name ?? r.experimentId,
          item: { kind: 'study', name: study.name },
          code: readSentCode(r.error).code,
          message: r.message,
        });
      }
    } catch (error) {
      const e = error as LablogError;
      problems.push({
        experimentId: '',
        experiment: '',
        item: { kind: 'study', name: study.name },
        code: e.code ?? 'REMOTE_ERROR',
        message: e.message,
      });
      if (e.code === 'REMOTE_UNAVAILABLE' || e.code === 'UNAUTHENTICATED') break;
    }
  }
  return { remote: client.url, experiments, accepted, skipped, retries: publisher.retries, problems };
}
