// Start-up: a new node process that imports lablog, opens a store and creates an experiment (and the hello
// world: logs one point and exits with it on disk), against `node -e 0`; the hello world's peak RSS too.
// Afterwards it checks that every hello-world process left exactly its one point on disk.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from 'lablog';
import { log, median, report, tempDir } from '../measure.js';

const REPS = 15;
/** Hello-world processes run on one store: a warm-up, then two per rep (timed, and for the peak RSS). */
const HELLO_PROCESSES = 1 + 2 * REPS;
const probe = fileURLToPath(new URL('./startup-child.mjs', import.meta.url));
const empty = fileURLToPath(new URL('./empty.mjs', import.meta.url));
const hello = fileURLToPath(new URL('./hello-child.mjs', import.meta.url));
const bareRss = fileURLToPath(new URL('./bare-rss.mjs', import.meta.url));
const { dir, remove } = tempDir();

/** The peak RSS (MB) a process printed at exit. */
function peakRssMb(args: string[]): number {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
  return Number(result.stdout.trim()) / 1024;
}

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
const helloWorld: number[] = [];
const helloRss: number[] = [];
const bareRssMb: number[] = [];
time([probe, join(dir, 'existing.db')]); // creates the store once; later runs open it
time([hello, join(dir, 'hello.db')]);
for (let r = 0; r < REPS; r++) {
  bare.push(time(['-e', '0']));
  emptyModule.push(time([empty]));
  existingStore.push(time([probe, join(dir, 'existing.db')]));
  newStore.push(time([probe, join(dir, `new-${r}.db`)]));
  helloWorld.push(time([hello, join(dir, 'hello.db')]));
  helloRss.push(peakRssMb([hello, join(dir, 'hello.db'), '--rss']));
  bareRssMb.push(peakRssMb([bareRss]));
}

/** The hello-world processes' experiments, and how many of them hold exactly the one point logged. */
async function helloPointsOnDisk(file: string): Promise<{ experiments: number; withOnePoint: number }> {
  const store = openStore({ path: file });
  try {
    const experiments = store.listExperiments({ limit: HELLO_PROCESSES + 1 });
    const withOnePoint = experiments.filter((e) => e.listSeries().find((s) => s.name === 'loss')?.count === 1).length;
    return { experiments: experiments.length, withOnePoint };
  } finally {
    await store.close();
  }
}
const hellos = await helloPointsOnDisk(join(dir, 'hello.db'));
remove();
report({
  bareMs: median(bare),
  emptyModuleMs: median(emptyModule),
  existingStoreMs: median(existingStore),
  newStoreMs: median(newStore),
  helloWorldMs: median(helloWorld),
  helloWorldRuns: helloWorld,
  existingStoreRuns: existingStore,
  bareRuns: bare,
  helloPeakRssMb: median(helloRss),
  barePeakRssMb: median(bareRssMb),
  helloProcesses: HELLO_PROCESSES,
  helloExperiments: hellos.experiments,
  helloWithOnePoint: hellos.withOnePoint,
});
