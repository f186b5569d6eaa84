// `lablog ui`: the web UI over a local store, read-only and without keys, on this machine's loopback by default.

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LablogError } from '../model/errors.js';
import { resolveStorePath } from '../open-store.js';
import { startServer } from '../server/server.js';
import { openServerBackend } from '../store/open-server-backend.js';

export const DEFAULT_UI_PORT = 5381;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export interface UiCommandOptions {
  store?: string;
  host: string;
  port: string;
}

export async function runUi(opts: UiCommandOptions, write: (text: string) => void): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
    throw new LablogError('INVALID_OPTION', `--port must be an integer from 0 to 65535, got '${opts.port}'`, { option: 'port' });
  }
  const file = resolveStorePath(opts.store);
  mkdirSync(dirname(file), { recursive: true });
  const server = await startServer({
    backend: await openServerBackend(file),
    access: 'local',
    allowedHosts: [opts.host],
    host: opts.host,
    port,
  });
  write(`lablog ui on ${server.url} (store: ${file}; read-only)\n`);
  if (!LOOPBACK.has(opts.host)) {
    write(
      `warning: --host ${opts.host} lets anyone who can reach this address read the whole store; there are no keys in lablog ui (lablog server has them)\n`,
    );
  }
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
