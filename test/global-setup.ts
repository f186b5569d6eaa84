// Vitest global setup: the web UI built from the current sources (the browser tests serve it), and a throwaway
// PostgreSQL server for the PostgreSQL tests, unless LABLOG_TEST_POSTGRES_URL names one.
//
// The same commands as scripts/test-postgres.sh and DESIGN.md: initdb and pg_ctl from the Debian package,
// run as the `postgres` user when we are root (initdb refuses root), in a temporary directory that user owns.

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = '/usr/lib/postgresql/15/bin';
const START_ATTEMPTS = 3;

let cluster: { dir: string; data: string } | undefined;

/** Runs a PostgreSQL program, as the postgres user when we are root. */
function run(program: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', join(BIN, program), ...args]] : [join(BIN, program), args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A loopback port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function postgresUid(): { uid: number; gid: number } {
  const ids = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: ids('-u'), gid: ids('-g') };
}

/** Stops the server and deletes its directory (synchronous: also used from an 'exit' handler). */
function stopCluster(): void {
  if (!cluster) return;
  const { dir, data } = cluster;
  cluster = undefined;
  try {
    run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  } catch {
    // Not running (it failed to start, or was stopped already).
  }
  rmSync(dir, { recursive: true, force: true });
}

export async function setup(): Promise<void> {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/bundle-ui.mjs', import.meta.url))], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (process.env['LABLOG_TEST_POSTGRES_URL']) return;
  if (!existsSync(join(BIN, 'initdb'))) {
    console.warn(
      `PostgreSQL tests will be skipped: no ${join(BIN, 'initdb')} (apt-get install -y postgresql) and LABLOG_TEST_POSTGRES_URL is not set`,
    );
    return;
  }
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'lablog-pg-'));
  const data = join(dir, 'data');
  cluster = { dir, data };
  process.once('exit', stopCluster);
  try {
    if (process.getuid?.() === 0) {
      const { uid, gid } = postgresUid();
      chownSync(dir, uid, gid);
    }
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
    // A port can be taken between picking and binding it: try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        // Server output goes to a log file: a server holding our pipes would keep execFileSync waiting.
        run('pg_ctl', [
          '-D',
          data,
          '-l',
          join(dir, 'postgres.log'),
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
          '-w',
          'start',
        ]);
        process.env['LABLOG_TEST_POSTGRES_URL'] = `postgres://postgres@127.0.0.1:${port}/postgres`;
        break;
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw error;
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`PostgreSQL tests: throwaway server at ${process.env['LABLOG_TEST_POSTGRES_URL']} (started in ${seconds} s)`);
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString().trim();
    const log = existsSync(join(dir, 'postgres.log'))
      ? readFileSync(join(dir, 'postgres.log'), 'utf8').trim().split('\n').slice(-3).join(' | ')
      : '';
    stopCluster();
    console.warn(
      `PostgreSQL tests will be skipped: could not start a throwaway server: ${[output || (error as Error).message, log].filter(Boolean).join(' | ')}`,
    );
  }
}

export async function teardown(): Promise<void> {
  stopCluster();
  process.removeListener('exit', stopCluster);
}
