// Hello-world probe: a fresh process that imports lablog, opens a store, creates an experiment, logs one
// point and exits (the exit hook writes and fsyncs it). With --rss it prints its peak RSS at exit.
import { readFileSync } from 'node:fs';
import { openStore } from 'lablog';

openStore({ path: process.argv[2] }).createExperiment({ name: 'hello' }).logMetric('loss', 0.5);
if (process.argv[3] === '--rss') process.on('exit', () => process.stdout.write(`${peakRssKb()}\n`));

export function peakRssKb() {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
}
