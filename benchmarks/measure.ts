// Measurement helpers for the benchmarks: repetitions, medians, percentiles, temp stores, results.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The p-th percentile (0..100) of values sorted in place. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Runs fn `reps` times (each in a fresh temp dir) and returns the elapsed milliseconds of each. */
export async function repeat(reps: number, fn: (dir: string) => Promise<number> | number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'lablog-bench-'));
    try {
      times.push(await fn(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return times;
}

export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lablog-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A workload prints one line `RESULT <json>`; run.ts collects it. */
export function report(result: object): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}
