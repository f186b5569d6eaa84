// Wrapping an existing training loop: the five lines marked `// lablog` are all that was added.

import { openStore } from 'lablog'; // lablog

/** An existing script: fits y = a·x + b by mini-batch gradient descent on noisy data. */
function train(config: { learningRate: number; epochs: number; batchSize: number }) {
  const xs = Array.from({ length: 4096 }, (_, i) => (i / 4096) * 4 - 2);
  const ys = xs.map((x, i) => 3 * x - 1 + Math.sin(i * 12.9898) * 0.3);
  let a = 0;
  let b = 0;
  const store = openStore(); // lablog
  const exp = store.createExperiment({ name: 'linear-regression', project: 'examples', tags: ['wrapped'] }); // lablog
  exp.logParams(config); // lablog
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (let start = 0; start < xs.length; start += config.batchSize) {
      let ga = 0;
      let gb = 0;
      let loss = 0;
      const end = Math.min(xs.length, start + config.batchSize);
      for (let i = start; i < end; i++) {
        const err = a * xs[i]! + b - ys[i]!;
        ga += err * xs[i]!;
        gb += err;
        loss += err * err;
      }
      a -= (config.learningRate * ga) / (end - start);
      b -= (config.learningRate * gb) / (end - start);
      exp.logMetrics({ 'train/mse': loss / (end - start), a, b }); // lablog
    }
  }
  console.log(`fitted y = ${a.toFixed(3)}·x + ${b.toFixed(3)} (experiment ${exp.name}, ${exp.id})`);
  // Nothing else: lablog flushes and marks the run 'completed' when the process exits.
}

train({ learningRate: 0.05, epochs: 20, batchSize: 64 });
