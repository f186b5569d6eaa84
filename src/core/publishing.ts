// Publishing as core sees it: the options, the report, and the hooks the sync layer provides (core never imports sync).

import { LablogError, describeValue, type LablogErrorCode, type LablogWarning } from '../model/errors.js';
import type { RemoteSweepApi } from './remote-sweep.js';

export interface RemoteSpec {
  /** The lablog server's URL, e.g. http://lablog.internal:5380 */
  readonly url: string;
  readonly apiKey: string;
}

export interface PublishOptions {
  /** The lablog server's URL (default: $LABLOG_REMOTE). */
  readonly remote?: string;
  /** Its API key (default: $LABLOG_API_KEY). */
  readonly apiKey?: string;
  /** Label of the published experiment(s), e.g. a model version. */
  readonly version?: string;
}

export interface PublishProblemReport {
  readonly experimentId: string;
  readonly experiment: string;
  readonly item?: { readonly kind: string; readonly name: string };
  readonly code: LablogErrorCode;
  readonly message: string;
}

export interface PublishReport {
  readonly remote: string;
  /** Experiments published (fully or in part). */
  readonly experiments: number;
  /** Points and tables the remote stored in this run. */
  readonly accepted: number;
  /** Points the remote already had. */
  readonly skipped: number;
  /** Requests sent again after the remote was down, busy or rate-limiting (429). */
  readonly retries: number;
  /** What was not published, and why; everything else was. */
  readonly problems: readonly PublishProblemReport[];
}

/** A background publication of one experiment, started with the experiment. */
export interface LivePublication {
  /** Publishes what is left within timeoutMs (what does not fit is left for `lablog sync`), then stops. */
  stop(timeoutMs: number): Promise<void>;
}

/** What the sync layer gives the Store (wired by openStore, loaded on first use). */
export interface Publishing {
  publish(
    storePath: string,
    remote: RemoteSpec,
    experimentIds: readonly string[] | undefined,
    version: string | undefined,
  ): Promise<PublishReport>;
  startLive(storePath: string, experimentId: string, remote: RemoteSpec, onProblem: (problem: LablogWarning) => void): LivePublication;
  /** The sweep routes of the server `remote`. */
  sweeps(remote: RemoteSpec): Promise<RemoteSweepApi>;
}

/** The remote of publish options or createExperiment's `remote`, falling back to $LABLOG_REMOTE / $LABLOG_API_KEY. */
export function resolveRemote(where: string, url: unknown, apiKey: unknown): RemoteSpec | undefined {
  const u = url ?? process.env['LABLOG_REMOTE'];
  const k = apiKey ?? process.env['LABLOG_API_KEY'];
  if (u === undefined || u === '') return undefined;
  if (typeof u !== 'string')
    throw new LablogError('INVALID_OPTION', `${where}: remote must be a URL string, got ${describeValue(u)}`, { option: 'remote' });
  let protocol: string | undefined;
  try {
    protocol = new URL(u).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new LablogError('INVALID_OPTION', `${where}: remote must be an http(s) URL like http://host:5380, got ${describeValue(u)}`, {
      option: 'remote',
    });
  }
  if (typeof k !== 'string' || k.length === 0) {
    throw new LablogError('INVALID_OPTION', `${where}: publishing to ${u} needs an API key (apiKey, or $LABLOG_API_KEY)`, {
      option: 'apiKey',
    });
  }
  return { url: u, apiKey: k };
}
