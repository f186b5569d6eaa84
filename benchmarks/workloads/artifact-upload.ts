// Artifact upload: a 256 MiB artifact published to a SQLite-backed `lablog server` on loopback (8 MiB chunks, each
// fsynced there, then the sha256 checked), against a plain HTTP PUT of the same file to a bare node server that
// streams it to a file on the same disk and fsyncs it — the cost of moving the bytes, without lablog.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, rmSync, statSync, writeSync, fsyncSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from 'lablog';
import { publishStore } from 'lablog/sync';
import { log, median, report, tempDir } from '../measure.js';

const FILE_MIB = Number(process.env['LABLOG_BENCH_UPLOAD_MIB'] ?? 256);
const REPS = 3;
const BLOCK_BYTES = 4 * 1024 * 1024;
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const { dir, remove } = tempDir();
const source = join(dir, 'checkpoint.bin');
const block = randomFillSync(Buffer.alloc(BLOCK_BYTES));
const fd = openSync(source, 'w');
for (let written = 0; written < FILE_MIB * 1024 * 1024; written += BLOCK_BYTES) {
  block.writeUInt32LE(written / BLOCK_BYTES, 0);
  writeSync(fd, block);
}
closeSync(fd);
const bytes = statSync(source).size;

async function startServer(db: string): Promise<{ url: string; child: ChildProcess; key: string }> {
  const keys = spawnSync(process.execPath, [CLI, 'keys', 'create', '--project', 'default', '--db', db], { encoding: 'utf8' });
  if (keys.status !== 0) throw new Error(keys.stderr);
  const child = spawn(process.execPath, [CLI, 'server', '--port', '0', '--db', db, '--rate-limit', '100000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { url, child, key: keys.stdout.trim() };
}

/** A bare HTTP server that streams a PUT body to a file and fsyncs it before it answers. */
async function plainServer(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const out = createWriteStream(target);
    request.pipe(out);
    out.on('finish', () => {
      const handle = openSync(target, 'r');
      fsyncSync(handle);
      closeSync(handle);
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const lablogMs: number[] = [];
const plainMs: number[] = [];
for (let rep = 0; rep < REPS; rep++) {
  const storePath = join(dir, `store-${rep}`, 'lablog.db');
  const store = openStore({ path: storePath });
  const exp = store.createExperiment({ name: 'upload' });
  await exp.logArtifact(source, { name: 'checkpoint' });
  await exp.close();
  await store.close();
  const server = await startServer(join(dir, `server-${rep}.db`));
  try {
    const t0 = performance.now();
    const result = await publishStore({ storePath, remote: { url: server.url, apiKey: server.key } });
    lablogMs.push(performance.now() - t0);
    if (result.problems.length > 0) throw new Error(`publish problems: ${JSON.stringify(result.problems)}`);
  } finally {
    server.child.kill('SIGKILL');
  }
  const plain = await plainServer(join(dir, `plain-${rep}.bin`));
  try {
    const t0 = performance.now();
    const response = await fetch(`${plain.url}/upload`, {
      method: 'PUT',
      body: createReadStream(source) as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    await response.text();
    plainMs.push(performance.now() - t0);
  } finally {
    await plain.close();
  }
  rmSync(join(dir, `plain-${rep}.bin`), { force: true });
}
remove();
const mibps = (ms: number) => bytes / 1024 / 1024 / (ms / 1000);
const lablogMiBps = mibps(median(lablogMs));
const plainMiBps = mibps(median(plainMs));
log(
  `upload ${FILE_MIB} MiB: lablog ${lablogMiBps.toFixed(0)} MiB/s, plain PUT ${plainMiBps.toFixed(0)} MiB/s (${(lablogMiBps / plainMiBps).toFixed(2)}×)`,
);
report({ fileMiB: FILE_MIB, lablogMs, plainMs, lablogMiBps, plainMiBps, ratio: lablogMiBps / plainMiBps });
