// Test support: a real `lablog ui` process over a store file, on a free loopback port.

import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './server-process.js';

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
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'ui', '--store', store, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lablog ui did not start: ${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /lablog ui on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lablog ui exited (${code}): ${output}`));
    });
  });
  child.removeAllListeners('exit');
  return { url, child, output: () => output };
}
