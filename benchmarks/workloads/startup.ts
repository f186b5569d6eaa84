// Start-up: a new node process that imports lablog, opens a store and creates an experiment, against `node -e 0`.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, median, report, tempDir } from '../measure.js';

const REPS = 15;
const probe = fileURLToPath(new URL('./startup-child.mjs', import.meta.url));
const empty = fileURLToPath(new URL('./empty.mjs', import.meta.url));
const { dir, remove } = tempDir();

function time(args: string[]): number {
  const t0 = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
  const t = performance.now() - t0;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
  return t;
}

log(`${REPS} runs each, interleaved`);
const bare: number[] = [];
const emptyModule: number[] = [];
const existingStore: number[] = [];
const newStore: number[] = [];
time([probe, join(dir, 'existing.db')]); // creates the store once; later runs open it
for (let r = 0; r < REPS; r++) {
  bare.push(time(['-e', '0']));
  emptyModule.push(time([empty]));
  existingStore.push(time([probe, join(dir, 'existing.db')]));
  newStore.push(time([probe, join(dir, `new-${r}.db`)]));
}
remove();
report({
  bareMs: median(bare),
  emptyModuleMs: median(emptyModule),
  existingStoreMs: median(existingStore),
  newStoreMs: median(newStore),
});
