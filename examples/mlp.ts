// A small multilayer perceptron in plain TypeScript (tanh hidden layer, softmax output, SGD), with the
// data set it learns: two interleaved noisy spirals. Enough of a real model for the examples.

/** Deterministic PRNG (mulberry32), so a seed reproduces a run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Dataset {
  x: Float64Array; // n × 2
  y: Uint8Array; // n labels in {0, 1}
  n: number;
}

/** Two spirals, one per class, with gaussian-ish noise. */
export function spirals(n: number, noise: number, random: () => number): Dataset {
  const x = new Float64Array(n * 2);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = 0.25 + 3.5 * random();
    const angle = t * 1.6 + label * Math.PI;
    const jitter = () => (random() + random() + random() - 1.5) * noise;
    x[2 * i] = (t * Math.cos(angle)) / 4 + jitter();
    x[2 * i + 1] = (t * Math.sin(angle)) / 4 + jitter();
    y[i] = label;
  }
  return { x, y, n };
}

export class Mlp {
  readonly hidden: number;
  w1: Float64Array; // hidden × 2
  b1: Float64Array;
  w2: Float64Array; // 2 × hidden
  b2: Float64Array;

  constructor(hidden: number, random: () => number) {
    this.hidden = hidden;
    const scale = (fanIn: number) => Math.sqrt(2 / fanIn);
    this.w1 = Float64Array.from({ length: hidden * 2 }, () => (random() * 2 - 1) * scale(2));
    this.b1 = new Float64Array(hidden);
    this.w2 = Float64Array.from({ length: 2 * hidden }, () => (random() * 2 - 1) * scale(hidden));
    this.b2 = new Float64Array(2);
  }

  /** Probability of class 1 for one point; fills `h` with the hidden activations. */
  forward(x0: number, x1: number, h: Float64Array): number {
    for (let j = 0; j < this.hidden; j++) h[j] = Math.tanh(this.w1[2 * j]! * x0 + this.w1[2 * j + 1]! * x1 + this.b1[j]!);
    let z0 = this.b2[0]!;
    let z1 = this.b2[1]!;
    for (let j = 0; j < this.hidden; j++) {
      z0 += this.w2[j]! * h[j]!;
      z1 += this.w2[this.hidden + j]! * h[j]!;
    }
    return 1 / (1 + Math.exp(z0 - z1));
  }

  /** One SGD step on a mini-batch; returns its mean cross-entropy loss. */
  step(data: Dataset, batch: readonly number[], learningRate: number, weightDecay: number): number {
    const H = this.hidden;
    const gw1 = new Float64Array(H * 2);
    const gb1 = new Float64Array(H);
    const gw2 = new Float64Array(2 * H);
    const gb2 = new Float64Array(2);
    const h = new Float64Array(H);
    let loss = 0;
    for (const i of batch) {
      const x0 = data.x[2 * i]!;
      const x1 = data.x[2 * i + 1]!;
      const p1 = this.forward(x0, x1, h);
      const y = data.y[i]!;
      loss -= Math.log(Math.max(1e-12, y === 1 ? p1 : 1 - p1));
      const d1 = p1 - y; // dL/dz1; dL/dz0 = -d1
      gb2[0]! -= d1;
      gb2[1]! += d1;
      for (let j = 0; j < H; j++) {
        gw2[j]! -= d1 * h[j]!;
        gw2[H + j]! += d1 * h[j]!;
        const dh = (this.w2[H + j]! - this.w2[j]!) * d1 * (1 - h[j]! * h[j]!);
        gw1[2 * j]! += dh * x0;
        gw1[2 * j + 1]! += dh * x1;
        gb1[j]! += dh;
      }
    }
    const k = learningRate / batch.length;
    const update = (w: Float64Array, g: Float64Array, decay: boolean) => {
      for (let i = 0; i < w.length; i++) w[i] = w[i]! - k * g[i]! - (decay ? learningRate * weightDecay * w[i]! : 0);
    };
    update(this.w1, gw1, true);
    update(this.b1, gb1, false);
    update(this.w2, gw2, true);
    update(this.b2, gb2, false);
    return loss / batch.length;
  }

  /** Probabilities of class 1 for every point of a data set. */
  predict(data: Dataset): Float64Array {
    const h = new Float64Array(this.hidden);
    const out = new Float64Array(data.n);
    for (let i = 0; i < data.n; i++) out[i] = this.forward(data.x[2 * i]!, data.x[2 * i + 1]!, h);
    return out;
  }
}

/** Mean cross-entropy and accuracy of predicted probabilities. */
export function evaluate(p: Float64Array, data: Dataset): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < data.n; i++) {
    const y = data.y[i]!;
    loss -= Math.log(Math.max(1e-12, y === 1 ? p[i]! : 1 - p[i]!));
    if ((p[i]! >= 0.5 ? 1 : 0) === y) correct++;
  }
  return { loss: loss / data.n, accuracy: correct / data.n };
}

/** ROC curve points (false positive rate, true positive rate) and the area under it. */
export function roc(p: Float64Array, data: Dataset): { fpr: number[]; tpr: number[]; auc: number } {
  const order = Array.from({ length: data.n }, (_, i) => i).sort((a, b) => p[b]! - p[a]!);
  let positives = 0;
  for (let i = 0; i < data.n; i++) positives += data.y[i]!;
  const negatives = data.n - positives;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  let auc = 0;
  for (const i of order) {
    if (data.y[i] === 1) tp++;
    else {
      fp++;
      auc += tp / positives / negatives;
    }
    fpr.push(fp / negatives);
    tpr.push(tp / positives);
  }
  return { fpr, tpr, auc };
}
