// Artifacts: ingest of a 512 MiB file by exp.logArtifact (hashed while copied, fsynced, committed) vs `cp` of
// the same file to the same disk, vs `cp` followed by an fsync of the copy (`sync FILE`), and vs reading the
// file and computing its sha256 alone (the ceiling of any ingest that hashes), interleaved and repeated,
// best of each. Plain JavaScript, run by plain node (no TypeScript loader in the process).

import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from 'lablog';

/** The file logged, and how many times each way is timed. */
const FILE_MIB = Number(process.env.LABLOG_BENCH_ARTIFACT_MIB ?? 512);
const REPS = 3;
/** The file is written from a random block repeated (real bytes, not a sparse file: cp would copy its holes for free). */
const BLOCK_BYTES = 4 * 1024 * 1024;
const log = (m) => process.stderr.write(`  ${m}\n`);

const dir = mkdtempSync(join(tmpdir(), 'lablog-bench-artifacts-'));
try {
  const source = join(dir, 'checkpoint.bin');
  const block = randomFillSync(Buffer.alloc(BLOCK_BYTES));
  const fd = openSync(source, 'w');
  for (let written = 0; written < FILE_MIB * 1024 * 1024; written += BLOCK_BYTES) {
    // A different first word per block: the file does not deduplicate into one block anywhere.
    block.writeUInt32LE(written / BLOCK_BYTES, 0);
    writeSync(fd, block);
  }
  closeSync(fd);
  const bytes = FILE_MIB * 1024 * 1024;
  const time = (fn) => {
    const t0 = performance.now();
    const done = fn();
    return done instanceof Promise ? done.then(() => performance.now() - t0) : performance.now() - t0;
  };
  const cpMs = [];
  const cpSyncMs = [];
  const lablogMs = [];
  const hashMs = [];
  for (let rep = 0; rep < REPS; rep++) {
    // The ceiling of any ingest that hashes: reading the file and computing its sha256, nothing written.
    hashMs.push(
      await time(async () => {
        const hash = createHash('sha256');
        for await (const chunk of createReadStream(source, { highWaterMark: BLOCK_BYTES })) hash.update(chunk);
        hash.digest();
      }),
    );
    const copy = join(dir, `copy-${rep}.bin`);
    cpMs.push(time(() => execFileSync('cp', [source, copy])));
    rmSync(copy);
    cpSyncMs.push(time(() => execFileSync('sh', ['-c', 'cp "$1" "$2" && sync "$2"', 'sh', source, copy])));
    rmSync(copy);
    // A fresh store each time: the bytes are new to it (no deduplication).
    const storeDir = mkdtempSync(join(dir, 'store-'));
    const store = openStore({ path: join(storeDir, 'lablog.db') });
    const exp = store.createExperiment({ name: 'bench-artifacts' });
    lablogMs.push(await time(() => exp.logArtifact(source, { name: 'checkpoint' })));
    await exp.close();
    await store.close();
    rmSync(storeDir, { recursive: true, force: true });
  }
  const best = (list) => Math.min(...list);
  const mbps = (ms) => bytes / 1024 / 1024 / (ms / 1000);
  const result = {
    fileMiB: FILE_MIB,
    lablogMs,
    cpMs,
    cpSyncMs,
    hashMs,
    hashMiBps: mbps(best(hashMs)),
    lablogMiBps: mbps(best(lablogMs)),
    cpMiBps: mbps(best(cpMs)),
    cpSyncMiBps: mbps(best(cpSyncMs)),
    ratioVsCp: best(cpMs) / best(lablogMs),
    ratioVsCpSync: best(cpSyncMs) / best(lablogMs),
  };
  log(
    `logArtifact ${result.lablogMiBps.toFixed(0)} MiB/s, cp ${result.cpMiBps.toFixed(0)} MiB/s (${result.ratioVsCp.toFixed(2)}×), cp + fsync ${result.cpSyncMiBps.toFixed(0)} MiB/s (${result.ratioVsCpSync.toFixed(2)}×), sha256 alone ${result.hashMiBps.toFixed(0)} MiB/s`,
  );
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
