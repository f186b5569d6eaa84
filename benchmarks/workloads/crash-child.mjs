// Crash probe: logs two series at full speed, flushing every 50,000 steps, until it is killed.
import { openStore } from 'lablog';
const store = openStore({ path: process.argv[2] });
const exp = store.createExperiment({ name: 'crash', limits: { maxMetricValues: 1e9 } });
let step = 0;
for (;;) {
  for (let i = 0; i < 5_000; i++, step++) {
    exp.logMetric('a', step);
    exp.logMetric('b', -step);
  }
  if (step % 50_000 === 0) {
    await exp.flush();
    process.stdout.write(`flushed ${step}\n`);
  }
  await new Promise((resolve) => setImmediate(resolve));
}
