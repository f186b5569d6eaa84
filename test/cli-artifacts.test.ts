// `lablog artifacts ls|get` and `lablog gc` as real CLI processes: the table, downloads verified byte for byte, steps, errors, and gc keeping referenced and recent blobs.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { FileArtifactBlobs } from '../src/store/files/file-artifact-blobs.js';
import { tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

function lablog(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lablog artifacts and gc', () => {
  it('lists, downloads (one, a step, all) and collects unreferenced old blobs only', async () => {
    const dir = tempDir();
    const path = join(dir, 'lablog.db');
    const store = openStore({ path });
    const exp = store.createExperiment({ name: 'mnist' });
    const v1 = Buffer.alloc(1536, 1);
    const v2 = Buffer.alloc(3 * 1024 * 1024, 2);
    const m1 = await exp.logArtifact(v1, { name: 'model', kind: 'checkpoint', step: 1 });
    const m2 = await exp.logArtifact(v2, { name: 'model', kind: 'checkpoint', step: 2 });
    const cfg = await exp.logArtifact(Buffer.from('{"lr":0.1}'), { name: 'config.json' });
    await exp.close();
    await store.close();
    const blobs = new FileArtifactBlobs(join(dir, 'blobs'));
    const orphanOld = await blobs.write(Readable.from([Buffer.from('orphan, old')]), { maxBytes: 100 });
    const orphanNew = await blobs.write(Readable.from([Buffer.from('orphan, new')]), { maxBytes: 100 });
    const longAgo = new Date(Date.now() - 48 * 3600 * 1000);
    for (const sha of [m1.sha256, m2.sha256, cfg.sha256, orphanOld.sha256]) utimesSync(blobs.blobPath(sha), longAgo, longAgo);

    const ls = lablog(['artifacts', 'ls', 'mnist', '--store', path]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toBe(
      [
        'NAME         KIND        STEP     SIZE  SHA256        FILES',
        `config.json  -              -     10 B  ${cfg.sha256.slice(0, 12)}      1`,
        `model        checkpoint     1  1.5 KiB  ${m1.sha256.slice(0, 12)}      1`,
        `model        checkpoint     2  3.0 MiB  ${m2.sha256.slice(0, 12)}      1`,
        '',
      ].join('\n'),
    );

    const out = tempDir();
    const latest = lablog(['artifacts', 'get', 'mnist', 'model', '--out', join(out, 'latest'), '--store', path]);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toBe(`model (step 2): 1 file, 3.0 MiB → ${join(out, 'latest')}\n`);
    expect(sha256(readFileSync(join(out, 'latest', 'model')))).toBe(m2.sha256);
    const first = lablog(['artifacts', 'get', 'mnist', 'model', '--step', '1', '--out', join(out, 'first'), '--store', path]);
    expect(first.stdout).toBe(`model (step 1): 1 file, 1.5 KiB → ${join(out, 'first')}\n`);
    expect(readFileSync(join(out, 'first', 'model')).equals(v1)).toBe(true);
    const all = lablog(['artifacts', 'get', 'mnist', '--out', join(out, 'all'), '--store', path]);
    expect(all.code, all.stderr).toBe(0);
    expect(readFileSync(join(out, 'all', 'config.json', 'config.json'), 'utf8')).toBe('{"lr":0.1}');
    expect(readFileSync(join(out, 'all', 'model', 'model')).equals(v2)).toBe(true);

    const missing = lablog(['artifacts', 'get', 'mnist', 'tokenizer', '--store', path]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "lablog: experiment 'mnist' has no artifact 'tokenizer'; it has: config.json, model [ARTIFACT_NOT_FOUND]\n",
    );
    const badStep = lablog(['artifacts', 'get', 'mnist', 'model', '--step', 'two', '--store', path]);
    expect(badStep.stderr).toBe("lablog: --step must be an integer >= 0, got 'two' [INVALID_OPTION]\n");

    const dry = lablog(['gc', '--dry-run', '--store', path]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      `would remove ${orphanOld.sha256} (11 B)\nwould remove 1 blob (11 B); kept 3 referenced and 1 stored less than 24 h 0 min ago\n`,
    );
    expect(existsSync(blobs.blobPath(orphanOld.sha256))).toBe(true);
    const gc = lablog(['gc', '--store', path]);
    expect(gc.stdout).toBe(
      `removed ${orphanOld.sha256} (11 B)\nremoved 1 blob (11 B); kept 3 referenced and 1 stored less than 24 h 0 min ago\n`,
    );
    expect(existsSync(blobs.blobPath(orphanOld.sha256))).toBe(false);
    expect(existsSync(blobs.blobPath(orphanNew.sha256))).toBe(true);
    for (const sha of [m1.sha256, m2.sha256, cfg.sha256]) expect(existsSync(blobs.blobPath(sha))).toBe(true);
  }, 60_000);
});
