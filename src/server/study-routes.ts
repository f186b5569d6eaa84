// Study routes: studies over REST with the library's rules — create, list, show, update, members, statistics, compare, templates, scaling law, archive, clone, delete.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exportExperiments, type ExportableExperiment, type ExportFormat, type ExportInclude } from '../core/study-export.js';
import type { MetricData } from '../model/series.js';
import { LablogError } from '../model/errors.js';
import { decodeParam } from '../core/param.js';
import { MAX_COMPARE_LIST, compareExperiments, type CompareOptions, type ComparedExperiment } from '../core/study-comparison.js';
import {
  MAX_STUDY_EXPERIMENTS,
  archivePatchFrom,
  assertCanJoin,
  assertNoneRunning,
  assertDeletable,
  cloneRecordFrom,
  memberFrom,
  studyPatchFrom,
  studyRecordFrom,
  type CloneOptions,
  type CreateStudyOptions,
} from '../core/study-rules.js';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LIMITS } from '../model/limits.js';
import { dedupedName } from '../model/experiment-names.js';
import { studyStatistics, type StudiedExperiment } from '../core/study-statistics.js';
import { planStudy } from '../core/study-template.js';
import { analyzeScaling } from '../core/study-scaling.js';
import {
  DEFAULT_STUDY_PAGE,
  MAX_STUDY_PAGE,
  STUDY_SORT_FIELDS,
  STUDY_STATUSES,
  studyPageProblem,
  type StudyRecord,
} from '../model/study.js';
import { findByIdOrName } from '../model/ids.js';
import type { ServerBackend } from '../store/server-backend.js';
import { visibleExperiment } from './read-routes.js';
import { assertStudyId, assertWritable, publishStudy } from './study-publish.js';
import { ORDERS, UUID, many, one, projectInScope, valueIn, type Query } from './query-params.js';

const EXPORT_CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv',
  json: 'application/json',
  parquet: 'application/vnd.apache.parquet',
  arrow: 'application/vnd.apache.arrow.file',
};

function body(request: FastifyRequest): Record<string, unknown> {
  const value = request.body;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new LablogError('INVALID_OPTION', 'the body must be a JSON object', {});
  return value as Record<string, unknown>;
}

/** Stored data of member experiments, in the shapes statistics and comparisons read. */
async function membersData(backend: ServerBackend, studyId: string): Promise<(ComparedExperiment & StudiedExperiment)[]> {
  const members = await backend.studies().members(studyId);
  const out: (ComparedExperiment & StudiedExperiment)[] = [];
  for (const member of members) {
    const record = await backend.getExperiment(member.experimentId);
    if (record === undefined) continue;
    const [params, series] = await Promise.all([backend.readParams(record.id), backend.readSeries(record.id)]);
    out.push({
      id: record.id,
      name: record.name,
      status: record.status,
      createdAt: record.createdAt,
      endedAt: record.endedAt,
      params: Object.fromEntries(params.map((p) => [p.key, decodeParam(p)])),
      series,
    });
  }
  return out;
}

export function registerStudyRoutes(app: FastifyInstance, backend: ServerBackend): void {
  const studies = () => backend.studies();

  /** The study, if the key may see it (another project's study is not found). */
  async function visibleStudy(request: FastifyRequest, id: string): Promise<StudyRecord> {
    const record = UUID.test(id) ? await studies().getStudy(id) : undefined;
    if (record === undefined || !request.apiKey.projects.includes(record.project)) {
      throw new LablogError('STUDY_NOT_FOUND', `no study with id '${id}'`, { id });
    }
    return record;
  }

  /** An experiment of the project by id or name. */
  async function experimentIn(request: FastifyRequest, project: string, idOrName: unknown) {
    if (typeof idOrName !== 'string' || idOrName.length === 0)
      throw new LablogError('INVALID_OPTION', 'experiment must be an id or a name', { field: 'experiment' });
    if (UUID.test(idOrName)) {
      const record = await visibleExperiment(backend, request, idOrName);
      if (record.project === project) return record;
    }
    const found = (await backend.listExperiments({ project, projects: request.apiKey.projects })).filter((r) => r.name === idOrName);
    if (found.length === 0)
      throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment '${idOrName}' in project '${project}'`, { key: idOrName });
    return found[0]!;
  }

  app.post('/api/v1/studies', async (request, reply) => {
    const options = body(request) as unknown as CreateStudyOptions;
    const { record, baselineExperiment } = studyRecordFrom(options, Date.now());
    assertWritable(request, record.project);
    const stored =
      baselineExperiment === undefined
        ? record
        : { ...record, baseline: { experimentId: (await experimentIn(request, record.project, baselineExperiment)).id } };
    await studies().createStudy(stored);
    return reply.code(201).send(stored);
  });

  app.get('/api/v1/studies', async (request) => {
    const query = request.query as Query;
    const project = projectInScope(query, request.apiKey.projects);
    const status = valueIn(query, 'status', STUDY_STATUSES);
    const sort = valueIn(query, 'sort', STUDY_SORT_FIELDS) ?? 'created_at';
    const order = valueIn(query, 'order', ORDERS) ?? 'desc';
    const limit = Number(one(query, 'limit') ?? DEFAULT_STUDY_PAGE);
    const offset = Number(one(query, 'offset') ?? 0);
    const pageProblem = studyPageProblem(limit, offset);
    if (pageProblem === 'limit')
      throw new LablogError('INVALID_OPTION', `limit must be an integer from 1 to ${MAX_STUDY_PAGE}`, { field: 'limit' });
    if (pageProblem === 'offset') throw new LablogError('INVALID_OPTION', 'offset must be an integer >= 0', { field: 'offset' });
    const filter = {
      ...(project !== undefined ? { project } : {}),
      projects: request.apiKey.projects,
      ...(status !== undefined ? { status } : {}),
      tags: many(query, 'tags'),
    };
    const [list, total] = await Promise.all([
      studies().listStudies({ ...filter, limit, offset, sort, order }),
      studies().countStudies(filter),
    ]);
    return { studies: list, total, limit, offset };
  });

  // A study published from a client's store, with its members: created with the client's id, or updated.
  app.put<{ Params: { id: string } }>('/api/v1/studies/:id', async (request) => {
    assertStudyId(request.params.id);
    return publishStudy(backend, request, request.params.id, body(request));
  });

  app.get<{ Params: { id: string } }>('/api/v1/studies/:id', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    const [members, data] = await Promise.all([studies().members(record.id), membersData(backend, record.id)]);
    return { ...record, statistics: studyStatistics(data), members };
  });

  app.patch<{ Params: { id: string } }>('/api/v1/studies/:id', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    return studies().updateStudy(record.id, studyPatchFrom(body(request)), Date.now());
  });

  app.post<{ Params: { id: string } }>('/api/v1/studies/:id/experiments', async (request, reply) => {
    const record = await visibleStudy(request, request.params.id);
    const { experiment, ...options } = body(request);
    const member = memberFrom(options);
    const target = await experimentIn(request, record.project, experiment);
    assertCanJoin(record, target);
    await studies().addMember(record.id, { experimentId: target.id, ...member, addedAt: Date.now() }, MAX_STUDY_EXPERIMENTS);
    return reply.code(201).send({ studyId: record.id, experimentId: target.id, ...member });
  });

  app.get<{ Params: { id: string } }>('/api/v1/studies/:id/statistics', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    const query = request.query as Query;
    const metric = one(query, 'metric');
    const goal = one(query, 'goal');
    return studyStatistics(await membersData(backend, record.id), {
      ...(metric !== undefined ? { metric } : {}),
      ...(goal !== undefined ? { goal: goal as 'minimize' | 'maximize' } : {}),
    });
  });

  app.post<{ Params: { id: string } }>('/api/v1/studies/:id/compare', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    const options = body(request) as unknown as CompareOptions;
    let chosen = await membersData(backend, record.id);
    if (options.experiments !== undefined) {
      if (!Array.isArray(options.experiments))
        throw new LablogError('INVALID_OPTION', 'experiments must be an array of ids or names', { field: 'experiments' });
      if (options.experiments.length > MAX_COMPARE_LIST) {
        throw new LablogError(
          'INVALID_OPTION',
          `compare: experiments has ${options.experiments.length} entries; the limit is ${MAX_COMPARE_LIST}`,
          {
            option: 'experiments',
            limit: MAX_COMPARE_LIST,
            actual: options.experiments.length,
          },
        );
      }
      const all = chosen;
      chosen = options.experiments.map((key) => {
        const found = findByIdOrName(all, key);
        if (found === undefined)
          throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment '${String(key)}' in study '${record.name}'`, { key: String(key) });
        return found;
      });
    }
    let baseline: { name: string; metrics: Record<string, number> } | undefined;
    if (record.baseline !== null) {
      if ('metrics' in record.baseline) baseline = { name: record.baseline.name, metrics: { ...record.baseline.metrics } };
      else {
        const id = record.baseline.experimentId;
        const base = await backend.getExperiment(id);
        // A baseline outside the study's project (or gone) is not shown.
        if (base !== undefined && base.project === record.project) {
          const metrics: Record<string, number> = {};
          for (const s of await backend.readSeries(id))
            if (s.kind === 'metric' && typeof s.lastValue === 'number') metrics[s.name] = s.lastValue;
          baseline = { name: base.name, metrics };
        }
      }
    }
    return compareExperiments(chosen, options, baseline);
  });

  app.get<{ Params: { id: string } }>('/api/v1/studies/:id/plan', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    if (record.template === null) {
      throw new LablogError(
        'INVALID_OPTION',
        `study '${record.name}' was not created from a template (grid_search, ab_testing or progressive_scaling)`,
        {
          study: record.name,
        },
      );
    }
    return planStudy(record.template);
  });

  app.get<{ Params: { id: string } }>('/api/v1/studies/:id/scaling-law', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    return analyzeScaling(await membersData(backend, record.id), record.template, record.name);
  });

  app.get<{ Params: { id: string } }>('/api/v1/studies/:id/export', async (request, reply) => {
    const record = await visibleStudy(request, request.params.id);
    const query = request.query as Query;
    const format = one(query, 'format') as ExportFormat | undefined;
    const series = one(query, 'series') === 'true';
    const include = many(query, 'include') as ExportInclude[];
    const members = await studies().members(record.id);
    const experiments: ExportableExperiment[] = [];
    for (const member of members) {
      const e = await backend.getExperiment(member.experimentId);
      if (e === undefined) continue;
      const [params, summaries] = await Promise.all([backend.readParams(e.id), backend.readSeries(e.id)]);
      const metrics = new Map<string, MetricData>();
      if (series) for (const s of summaries) if (s.kind === 'metric') metrics.set(s.name, (await backend.readMetric(e.id, s.name))!);
      experiments.push({
        id: e.id,
        name: e.name,
        project: e.project,
        status: e.status,
        createdAt: new Date(e.createdAt),
        endedAt: e.endedAt === null ? null : new Date(e.endedAt),
        description: e.description,
        tags: e.tags,
        getParams: () => Object.fromEntries(params.map((p) => [p.key, decodeParam(p)])),
        listSeries: () => summaries,
        getMetric: (key: string) => metrics.get(key)!,
      });
    }
    const dir = await mkdtemp(join(tmpdir(), 'lablog-export-'));
    try {
      const file = join(dir, `${record.name.replace(/[^\w.-]+/g, '_')}.${format ?? 'out'}`);
      await exportExperiments(
        experiments,
        { format: format as ExportFormat, path: file, series, ...(include.length > 0 ? { include } : {}) },
        { study: { id: record.id, name: record.name }, memberTags: Object.fromEntries(members.map((m) => [m.experimentId, m.tags])) },
      );
      const bytes = await readFile(file);
      return reply
        .type(EXPORT_CONTENT_TYPES[format!] ?? 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${basename(file)}"`)
        .send(bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  app.post<{ Params: { id: string } }>('/api/v1/studies/:id/archive', async (request) => {
    const record = await visibleStudy(request, request.params.id);
    const { patch, preserveArtifacts } = archivePatchFrom(body(request) as never);
    if (!preserveArtifacts) {
      const ids = (await studies().members(record.id)).map((m) => m.experimentId);
      const experiments = (await Promise.all(ids.map((id) => backend.getExperiment(id)))).filter((e) => e !== undefined);
      assertNoneRunning(record, experiments);
      await studies().dropArtifacts(ids);
    }
    return studies().updateStudy(record.id, patch, Date.now());
  });

  app.post<{ Params: { id: string } }>('/api/v1/studies/:id/clone', async (request, reply) => {
    const record = await visibleStudy(request, request.params.id);
    const options = body(request) as unknown as CloneOptions;
    const now = Date.now();
    const clone = cloneRecordFrom(record, options, now);
    await studies().createStudy(clone);
    if (options.copyExperiments === true) {
      for (const member of await studies().members(record.id)) {
        const source = await backend.getExperiment(member.experimentId);
        if (source === undefined) continue;
        const copy = await backend.copyExperiment(
          source.id,
          randomUUID(),
          (attempt) => dedupedName(source.name, attempt, DEFAULT_LIMITS.maxNameLength),
          now,
        );
        await studies().addMember(
          clone.id,
          { experimentId: copy.id, notes: member.notes, tags: member.tags, addedAt: member.addedAt },
          MAX_STUDY_EXPERIMENTS,
        );
      }
    }
    return reply.code(201).send({ ...clone, members: await studies().members(clone.id) });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/studies/:id', async (request, reply) => {
    const record = await visibleStudy(request, request.params.id);
    const force = one(request.query as Query, 'force');
    assertDeletable(record, force === undefined ? undefined : force === 'true');
    await studies().deleteStudy(record.id);
    return reply.code(204).send();
  });
}
