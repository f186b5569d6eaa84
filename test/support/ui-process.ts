// Test support: a real `lablog ui` process over a store file, on a free loopback port.

import { spawn, type ChildProcess } from 'node:child_process';
import { announcedUrl, CLI } from './server-process.js';

export interface UiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

/**
 * Starts `lablog ui --store FILE --port 0` and resolves with its URL once it listens. It lives until the
 * caller kills it (a whole describe block shares one), unlike the per-test children of server-process.
 */
export async function startUi(store: string): Promise<UiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'ui', '--store', store, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { url, output } = await announcedUrl(child, /lablog ui on (http:\/\/\S+)/, 'lablog ui');
  return { url, child, output };
}
