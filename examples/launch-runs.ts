// Running jobs: launches the README's MLP example three times as runs with different params — one runs to
// the end, one hits its timeout, one is cancelled from a second process (`lablog cancel`) — then prints
// `lablog runs` and the cancelled run's last log lines.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openStore, type Run } from 'lablog';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const script = fileURLToPath(new URL('./train-classifier.ts', import.meta.url));
const lablog = (...args: string[]) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

const store = openStore(); // ./.lablog/lablog.db, or $LABLOG_DIR/lablog.db
const stamp = new Date().toISOString().slice(11, 19).replaceAll(':', '');
const launch = (name: string, params: Record<string, number>, timeout?: number): Run =>
  store.launch({
    command: process.execPath,
    args: ['--import', 'tsx', script],
    project: 'examples',
    name: `${name}-${stamp}`,
    params,
    ...(timeout !== undefined ? { timeout } : {}),
    grace: 5_000,
  });

// The three run at once, each in its own process group, supervised by this process.
const finished = launch('mlp-lr0.05', { learning_rate: 0.05, epochs: 20 });
const timedOut = launch('mlp-long-timeout', { learning_rate: 0.2, epochs: 100_000 }, 8_000);
const cancelled = launch('mlp-long-cancel', { learning_rate: 0.1, epochs: 100_000 });
console.log(`launched ${finished.id}, ${timedOut.id} (8 s timeout) and ${cancelled.id} (to be cancelled)`);

// Once the third run has logged its first validation loss, cancel it from another process, as a user
// would from another terminal.
const deadline = Date.now() + 60_000;
while (
  !store
    .getExperiment(cancelled.id)
    .listSeries()
    .some((s) => s.name === 'val/loss') &&
  Date.now() < deadline
) {
  await new Promise((resolve) => setTimeout(resolve, 200));
}
process.stdout.write(`$ lablog cancel ${cancelled.id}\n${lablog('cancel', cancelled.id, '--store', store.path)}`);

for (const run of [finished, timedOut, cancelled]) {
  const record = await run.wait();
  console.log(
    `${record.name}: ${record.status}${record.exitCode !== null ? ` (exit ${record.exitCode})` : ''}${record.signal ? ` (${record.signal})` : ''}`,
  );
}
await store.close();

process.stdout.write(`\n$ lablog runs --project examples\n${lablog('runs', '--project', 'examples', '--store', store.path)}\n`);
process.stdout.write(`\n$ lablog logs ${finished.id} --tail 3\n${lablog('logs', finished.id, '--tail', '3', '--store', store.path)}`);
