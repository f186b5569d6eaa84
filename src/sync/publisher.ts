// Publisher: sends what a remote has not acknowledged of local experiments — description, truncations, points, tables — exactly once.

import { createHash } from 'node:crypto';
import { LablogError, type LablogErrorCode } from '../model/errors.js';
import { readIngestResult } from '../remote/error-answer.js';
import type { ExperimentRecord } from '../model/experiment.js';
import type { SeriesRecord } from '../model/series.js';
import type { IngestResult } from '../store/server-backend.js';
import type { PublishSource } from '../store/publish-source.js';
import { DEFAULT_LIMITS } from '../model/limits.js';
import { checkName } from '../model/validation.js';
import {
  MAX_MEDIA_POINTS_PER_REQUEST,
  MAX_SERIES_PER_REQUEST,
  encodeWireColumn,
  type WireExperiment,
  type WireIngest,
  type WireMetric,
  type WireImagePoint,
  type WireMedia,
  type WirePlotPoint,
} from '../remote/protocol.js';
import type { RemoteClient, RetryPolicy } from './remote-client.js';
import { publishRun } from './run-publisher.js';
import { publishArtifacts } from './artifact-publisher.js';

/** Metric points per ingest request (about 2–3 MB of JSON in the compact column encoding). */
export const POINTS_PER_REQUEST = 200_000;
/** Image points per request (their bytes go separately, as blobs). */
export const IMAGES_PER_REQUEST = 64;
export const PLOTS_PER_REQUEST = 256;
/** Bytes of JSON per ingest request, roughly (servers accept 32 MiB by default); one larger plot goes alone. */
export const BYTES_PER_REQUEST = 8 * 1024 * 1024;
/** A series whose watermark conflicts with the server this many times in one run is reported, not retried. */
const MAX_CONFLICTS = 2;

export interface PublishProblem {
  readonly experimentId: string;
  readonly experiment: string;
  /** The series or table, when one item failed (the rest of the experiment went through). */
  readonly item?: { readonly kind: string; readonly name: string };
  readonly code: LablogErrorCode;
  readonly message: string;
}

export interface ExperimentReport {
  readonly experimentId: string;
  readonly name: string;
  /** Points (and tables) the remote stored in this run. */
  accepted: number;
  /** Points the remote already had (a retried request whose answer was lost). */
  skipped: number;
  readonly problems: PublishProblem[];
}

export interface PublishOptions {
  /** Label of the published experiment (a model version). */
  readonly version?: string;
  readonly retry?: RetryPolicy;
  /** Called after each acknowledged request with the points it carried. */
  readonly onPoints?: (points: number) => void;
  /** Metric points per request (default POINTS_PER_REQUEST). */
  readonly pointsPerRequest?: number;
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export class Publisher {
  readonly #source: PublishSource;
  readonly #client: RemoteClient;

  constructor(source: PublishSource, client: RemoteClient) {
    this.#source = source;
    this.#client = client;
  }

  get remote(): string {
    return this.#client.url;
  }

  /** Requests retried after a retryable failure (remote down, 429, busy store), so far. */
  get retries(): number {
    return this.#client.retries;
  }

  /** Points not yet acknowledged by the remote (an upper bound, counted by stored chunk; for progress bars). */
  pendingPoints(experimentId: string): number {
    const ledger = this.#source.ledger(this.remote, experimentId);
    let total = 0;
    for (const s of this.#source.readSeries(experimentId)) {
      const after = ledger.series.get(s.name) ?? null;
      if (s.lastStep === null || (after !== null && s.lastStep <= after)) continue;
      total += s.kind === 'metric' ? this.#source.countMetricAfter(experimentId, s.name, after) : s.count;
    }
    return total;
  }

  /**
   * Publishes one experiment. Throws only when the remote cannot be reached or refuses the experiment
   * itself; a series or table the remote rejects is reported and the rest is sent.
   */
  async publishExperiment(experimentId: string, options: PublishOptions = {}): Promise<ExperimentReport> {
    const record = this.#source.getExperiment(experimentId);
    if (record === undefined)
      throw new LablogError('EXPERIMENT_NOT_FOUND', `no experiment ${experimentId} in ${this.#source.location}`, { id: experimentId });
    const report: ExperimentReport = { experimentId, name: record.name, accepted: 0, skipped: 0, problems: [] };
    const remote = this.remote;
    const path = `/api/v1/experiments/${record.id}`;
    const retry = options.retry ?? {};
    let ledger = this.#source.ledger(remote, experimentId);

    const description = this.#describe(record, options.version ?? null);
    const metaHash = sha256(JSON.stringify(description));
    if (metaHash !== ledger.metaHash) {
      // Also checks the key may write the experiment's project, before anything else is sent.
      const published = await this.#client.call<{ name: string }>('PUT', path, description, retry);
      this.#source.saveMeta(remote, experimentId, metaHash, published.name, Date.now());
    }

    // Each resumeFrom not yet applied there: the remote drops the same points before new ones arrive.
    // Sent even if this remote never saw the experiment under this URL (it may have, under another).
    for (const truncation of this.#source.truncationsAfter(experimentId, ledger.truncationSeq)) {
      await this.#client.call('POST', `${path}/truncate`, { fromStep: truncation.fromStep }, retry);
      this.#source.saveTruncation(remote, experimentId, truncation.seq, truncation.fromStep);
    }
    ledger = this.#source.ledger(remote, experimentId);

    await this.#publishSeries(record, new Map(ledger.series), ledger.truncationSeq, report, options);
    await this.#publishTables(record, ledger.tables, report, options);
    // An experiment that is a run: its record, attempts, transitions and log lines (and a cancel asked for there, passed on).
    const run = await publishRun(this.#source, this.#client, record.id, retry);
    if (run !== undefined) {
      report.accepted += run.accepted;
      report.skipped += run.skipped;
      if (run.problem) {
        report.problems.push({
          experimentId: record.id,
          experiment: record.name,
          item: { kind: 'run', name: record.name },
          code: run.problem.code,
          message: run.problem.message,
        });
      }
    }
    // Its artifacts: bytes the project does not hold yet, in resumable chunks, then each record (once).
    const artifacts = await publishArtifacts(this.#source, this.#client, record.id, record.project, retry);
    report.accepted += artifacts.artifacts;
    for (const { artifact, error } of artifacts.problems) {
      report.problems.push({
        experimentId: record.id,
        experiment: record.name,
        item: { kind: 'artifact', name: artifact.name },
        code: error.code,
        message: error.message,
      });
    }
    return report;
  }

  #describe(record: ExperimentRecord, version: string | null): WireExperiment {
    // Sent only when there are some, so the description (and its hash) of an experiment without them is unchanged.
    const datasets = this.#source.readDatasets(record.id);
    return {
      project: record.project,
      name: record.name,
      description: record.description,
      tags: record.tags,
      status: record.status,
      createdAt: record.createdAt,
      endedAt: record.endedAt,
      heartbeatAt: record.heartbeatAt,
      hostname: record.hostname,
      version,
      params: this.#source.readParams(record.id),
      ...(record.progress ? { progress: record.progress } : {}),
      ...(datasets.length > 0 ? { datasets } : {}),
    };
  }

  async #publishSeries(
    record: ExperimentRecord,
    watermarks: Map<string, number>,
    truncationSeq: number,
    report: ExperimentReport,
    options: PublishOptions,
  ): Promise<void> {
    const id = record.id;
    const conflicts = new Map<string, number>();
    const given = new Set<string>();
    const pending = (s: SeriesRecord) => !given.has(s.name) && s.lastStep !== null && s.lastStep > (watermarks.get(s.name) ?? -1);
    // After a 413, requests shrink (one series item each, half the size) until they fit; a single point
    // that still does not fit is reported as a problem of its series.
    let solo = false;
    let maxPoints = options.pointsPerRequest ?? POINTS_PER_REQUEST;
    let maxBytes = BYTES_PER_REQUEST;
    for (;;) {
      const series = this.#source.readSeries(id).filter(pending);
      if (series.length === 0) return;
      const body: { metrics: WireMetric[]; images: WireMedia<WireImagePoint>[]; plots: WireMedia<WirePlotPoint>[] } = {
        metrics: [],
        images: [],
        plots: [],
      };
      const blobs = new Map<string, Buffer>();
      let points = 0;
      let budget = maxPoints;
      let bytes = 0;
      const items = () => body.metrics.length + body.images.length + body.plots.length;
      // Image and plot points still allowed in this request (the server refuses more than MAX_MEDIA_POINTS_PER_REQUEST).
      let media = MAX_MEDIA_POINTS_PER_REQUEST;
      /** A series listed with points to send whose points cannot be read, or whose name no server accepts: reported, never silently left. */
      const unsendable = (s: SeriesRecord, code: LablogErrorCode, message: string) => {
        given.add(s.name);
        report.problems.push({ experimentId: id, experiment: record.name, item: { kind: s.kind, name: s.name }, code, message });
      };
      for (const s of series) {
        if (budget <= 0 || bytes >= maxBytes || (solo && items() > 0) || items() >= MAX_SERIES_PER_REQUEST) break;
        const nameError = checkName('series name', s.name, DEFAULT_LIMITS.maxNameLength);
        if (nameError) {
          unsendable(s, nameError.code, `${nameError.message}; the series was not published`);
          continue;
        }
        const after = watermarks.get(s.name) ?? null;
        const unreadable = () =>
          unsendable(
            s,
            'STORAGE_ERROR',
            `${s.kind} series '${s.name}' lists steps up to ${s.lastStep} in ${this.#source.location}, but none of its points after step ${after ?? 'none'} could be read ` +
              '(its stored name may not be valid text, e.g. written by an older lablog); it was not published',
          );
        if (s.kind === 'metric') {
          const read = this.#source.readMetricAfter(id, s.name, after, budget);
          if (read.steps.length === 0) {
            unreadable();
            continue;
          }
          const n = Math.min(read.steps.length, budget, Math.max(1, Math.floor((maxBytes - bytes) / 14)));
          if (n === 0) continue;
          const data = { steps: read.steps.subarray(0, n), values: read.values.subarray(0, n), timestamps: read.timestamps.subarray(0, n) };
          body.metrics.push({
            name: s.name,
            after,
            count: n,
            steps: encodeWireColumn(data.steps),
            values: encodeWireColumn(data.values),
            timestamps: encodeWireColumn(data.timestamps),
          });
          points += n;
          budget -= n;
          bytes += n * 14;
        } else if (s.kind === 'image') {
          if (media <= 0) continue;
          const images = this.#source.readImagesAfter(id, s.name, after, Math.min(IMAGES_PER_REQUEST, media));
          if (images.length === 0) {
            unreadable();
            continue;
          }
          media -= images.length;
          body.images.push({
            name: s.name,
            after,
            points: images.map((image) => {
              const hash = sha256(image.png);
              blobs.set(hash, image.png);
              return { step: image.step, timestamp: image.timestamp, caption: image.caption, hash };
            }),
          });
          points += images.length;
          budget -= images.length * 1_000;
        } else {
          if (media <= 0) continue;
          const all = this.#source.readPlotsAfter(id, s.name, after, Math.min(PLOTS_PER_REQUEST, media));
          if (all.length === 0) {
            unreadable();
            continue;
          }
          const plots = [];
          for (const plot of all) {
            if (bytes + plot.figure.length > maxBytes && (plots.length > 0 || items() > 0)) break;
            plots.push(plot);
            bytes += plot.figure.length + 100;
          }
          if (plots.length === 0) continue;
          media -= plots.length;
          body.plots.push({
            name: s.name,
            after,
            points: plots.map((p) => ({
              step: p.step,
              timestamp: p.timestamp,
              caption: p.caption,
              figure: JSON.parse(p.figure) as unknown,
            })),
          });
          points += plots.length;
          budget -= plots.length * 100;
        }
      }
      if (points === 0) return;
      let result: IngestResult;
      try {
        await this.#uploadBlobs(record.project, blobs, options.retry ?? {});
        result = readIngestResult(
          await this.#client.call<IngestResult>('POST', `/api/v1/experiments/${id}/ingest`, body satisfies WireIngest, options.retry ?? {}),
        );
      } catch (error) {
        if ((error as LablogError).code !== 'PAYLOAD_TOO_LARGE') throw error;
        if (points > 1) {
          solo = true;
          maxPoints = Math.max(1, Math.floor(points / 2));
          maxBytes = Math.max(1, Math.floor(bytes / 2));
          continue;
        }
        const item = body.metrics[0] ?? body.images[0] ?? body.plots[0]!;
        const kind = body.metrics.length > 0 ? 'metric' : body.images.length > 0 ? 'image' : 'plot';
        given.add(item.name);
        report.problems.push({
          experimentId: id,
          experiment: record.name,
          item: { kind, name: item.name },
          code: 'PAYLOAD_TOO_LARGE',
          message: (error as Error).message,
        });
        continue;
      }
      const acknowledged = new Map<string, number>();
      for (const state of result.series) {
        if (state.lastStep !== null && state.lastStep !== watermarks.get(state.name)) acknowledged.set(state.name, state.lastStep);
      }
      for (const rejected of result.rejected) {
        if (rejected.error === 'SYNC_CONFLICT' && (conflicts.get(rejected.name) ?? 0) < MAX_CONFLICTS) {
          // The remote has less than it acknowledged (restored from a backup, or wiped): send from what it has.
          conflicts.set(rejected.name, (conflicts.get(rejected.name) ?? 0) + 1);
          const serverLast = rejected.details.serverLastStep;
          acknowledged.delete(rejected.name);
          if (typeof serverLast === 'number') watermarks.set(rejected.name, serverLast);
          else watermarks.delete(rejected.name);
          continue;
        }
        given.add(rejected.name);
        report.problems.push({
          experimentId: id,
          experiment: record.name,
          item: { kind: rejected.kind, name: rejected.name },
          code: rejected.error,
          message: rejected.message,
        });
      }
      for (const [name, step] of acknowledged) watermarks.set(name, step);
      // Not saved if another publisher applied a truncation meanwhile: these answers predate it.
      if (!this.#source.saveWatermarks(this.remote, id, acknowledged, truncationSeq)) return;
      report.accepted += result.accepted;
      report.skipped += result.skipped;
      options.onPoints?.(points);
    }
  }

  /** Uploads the blobs the experiment's project does not hold on the server yet (blobs belong to projects there). */
  async #uploadBlobs(project: string, blobs: Map<string, Buffer>, retry: RetryPolicy): Promise<void> {
    if (blobs.size === 0) return;
    const { missing } = await this.#client.call<{ missing: string[] }>(
      'POST',
      '/api/v1/blobs/missing',
      { project, hashes: [...blobs.keys()] },
      retry,
    );
    const query = `?project=${encodeURIComponent(project)}`;
    for (const hash of missing) await this.#client.call('PUT', `/api/v1/blobs/${hash}${query}`, blobs.get(hash)!, retry);
  }

  async #publishTables(
    record: ExperimentRecord,
    acknowledged: ReadonlyMap<string, number>,
    report: ExperimentReport,
    options: PublishOptions,
  ): Promise<void> {
    for (const summary of this.#source.listTables(record.id)) {
      if (summary.loggedAt <= (acknowledged.get(summary.name) ?? -Infinity)) continue;
      const table = this.#source.readTable(record.id, summary.name);
      if (table === undefined) {
        report.problems.push({
          experimentId: record.id,
          experiment: record.name,
          item: { kind: 'table', name: summary.name },
          code: 'STORAGE_ERROR',
          message: `table '${summary.name}' is listed in ${this.#source.location} but could not be read; it was not published`,
        });
        continue;
      }
      const hash = sha256(table.ipc);
      try {
        await this.#uploadBlobs(record.project, new Map([[hash, table.ipc]]), options.retry ?? {});
      } catch (error) {
        if ((error as LablogError).code !== 'PAYLOAD_TOO_LARGE') throw error;
        report.problems.push({
          experimentId: record.id,
          experiment: record.name,
          item: { kind: 'table', name: summary.name },
          code: 'PAYLOAD_TOO_LARGE',
          message: (error as Error).message,
        });
        continue;
      }
      const result = readIngestResult(
        await this.#client.call<IngestResult>(
          'POST',
          `/api/v1/experiments/${record.id}/ingest`,
          { tables: [{ name: summary.name, hash, loggedAt: summary.loggedAt }] } satisfies WireIngest,
          options.retry ?? {},
        ),
      );
      const rejected = result.rejected[0];
      if (rejected) {
        report.problems.push({
          experimentId: record.id,
          experiment: record.name,
          item: { kind: 'table', name: summary.name },
          code: rejected.error,
          message: rejected.message,
        });
        continue;
      }
      report.accepted += result.accepted;
      report.skipped += result.skipped;
      this.#source.saveTable(this.remote, record.id, summary.name, summary.loggedAt);
    }
  }
}
