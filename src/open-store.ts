// openStore: opens (or creates) the embedded SQLite store and returns a Store over it.

import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LablogError, LablogWarning, describeValue } from './model/errors.js';
import { driverCodeOf } from './model/error-codes.js';
import { Store } from './core/store.js';
import { RUN_STORE_ENV } from './core/run-attach.js';
import type { LivePublication, Publishing } from './core/publishing.js';
import { assertKnownOptions, assertOptionsObject } from './model/validation.js';
import { openStoreBackend } from './store/open-store-backend.js';

export const STORE_FILE_NAME = 'lablog.db';
export const DEFAULT_STORE_DIR = '.lablog';

export interface OpenStoreOptions {
  /** Path of the SQLite file. Default: $LABLOG_STORE (set for a launched run), else $LABLOG_DIR/lablog.db, else ./.lablog/lablog.db. */
  path?: string;
}

/** The store path openStore uses for these options: the option, else $LABLOG_STORE, else $LABLOG_DIR, else ./.lablog. */
export function resolveStorePath(path?: string): string {
  if (path !== undefined) return resolve(path);
  const launched = process.env[RUN_STORE_ENV];
  if (launched) return resolve(launched);
  const dir = process.env['LABLOG_DIR'];
  return resolve(dir ? dir : DEFAULT_STORE_DIR, STORE_FILE_NAME);
}

export function openStore(options?: OpenStoreOptions): Store {
  assertOptionsObject('openStore', options);
  if (options) assertKnownOptions('openStore', options, ['path']);
  const path = options?.path;
  if (path !== undefined && (typeof path !== 'string' || path.length === 0)) {
    throw new LablogError('INVALID_OPTION', `openStore: path must be a non-empty string, got ${describeValue(path)}`, { option: 'path' });
  }
  const file = resolveStorePath(path);
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (cause) {
    throw new LablogError(
      'STORAGE_ERROR',
      `cannot create the folder for ${file}: ${(cause as Error).message}`,
      { driver: 'filesystem', driverCode: driverCodeOf(cause), location: file },
      { cause },
    );
  }
  return Store.over(openStoreBackend(file), PUBLISHING);
}

/** Publishing through the sync layer, loaded on first use (a run that never publishes never loads it). */
const PUBLISHING: Publishing = {
  async publish(storePath, remote, experimentIds, version) {
    const [{ publishFrom }, { openPublishSource }] = await Promise.all([
      import('./sync/publish-store.js'),
      import('./store/open-publish-source.js'),
    ]);
    const source = openPublishSource(storePath);
    try {
      return await publishFrom(source, {
        remote,
        ...(experimentIds ? { experimentIds } : {}),
        ...(version !== undefined ? { version } : {}),
      });
    } finally {
      source.close();
    }
  },
  async sweeps(remote) {
    return (await import('./sync/remote-sweeps.js')).remoteSweepApi(remote);
  },
  startLive(storePath, experimentId, remote, onProblem): LivePublication {
    const started = import('./sync/live-publisher.js').then((m) => m.startLivePublication(storePath, experimentId, remote, onProblem));
    started.catch((cause: unknown) =>
      onProblem(new LablogWarning('REMOTE_ERROR', `cannot start publishing: ${(cause as Error).message}`, {}, { cause })),
    );
    return {
      async stop(timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        const live = await started.catch(() => undefined);
        await live?.stop(Math.max(0, deadline - Date.now()));
      },
    };
  },
};
