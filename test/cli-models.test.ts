// `lablog models ls|show|alias` as real CLI processes over a store with registered versions: the listing, a version by alias and by number with its lineage, alias moves and removal, and clear errors.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { tempDir } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function lablog(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lablog models', () => {
  it('lists models, shows a version by alias or number with its lineage, moves and removes aliases', async () => {
    const path = join(tempDir(), 'lablog.db');
    const store = openStore({ path });
    const exps = [];
    for (const lr of [0.1, 0.01]) {
      const exp = store.createExperiment({ name: `mlp-lr-${lr}`, project: 'mnist' });
      exp.logParams({ lr });
      exp.logMetric('val/loss', lr * 3, { step: 0 });
      await exp.logArtifact(Buffer.from(JSON.stringify({ lr })), { name: 'model', kind: 'model' });
      await exp.close();
      exps.push(exp);
    }
    expect(store.registerModel('mnist-mlp', { experiment: exps[0]!, artifact: 'model', aliases: ['staging'] }).version).toBe(1);
    expect(store.registerModel('mnist-mlp', { experiment: exps[1]!, artifact: 'model' }).version).toBe(2);
    await store.close();

    const ls = lablog(['models', 'ls', '--store', path]);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/mnist-mlp/);
    expect(ls.stdout).toMatch(/staging/);

    const staging = lablog(['models', 'show', 'mnist-mlp@staging', '--store', path]);
    expect(staging.code, staging.stderr).toBe(0);
    expect(staging.stdout).toContain('mlp-lr-0.1');
    expect(staging.stdout).toMatch(/version\D*1/i);

    const moved = lablog(['models', 'alias', 'mnist-mlp', 'staging', '2', '--store', path]);
    expect(moved.code, moved.stderr).toBe(0);
    const two = lablog(['models', 'show', 'mnist-mlp@staging', '--store', path]);
    expect(two.stdout).toContain('mlp-lr-0.01');
    const removed = lablog(['models', 'alias', 'mnist-mlp', 'staging', '--remove', '--store', path]);
    expect(removed.code, removed.stderr).toBe(0);

    const again = openStore({ path });
    try {
      expect(again.modelAliasMoves('mnist-mlp').map((m) => [m.alias, m.from, m.to])).toEqual([
        ['staging', null, 1],
        ['staging', 1, 2],
        ['staging', 2, null],
      ]);
    } finally {
      await again.close();
    }

    const missing = lablog(['models', 'show', 'mnist-mlp@prod', '--store', path]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/MODEL_NOT_FOUND/);
    const unknown = lablog(['models', 'show', 'no-such-model', '--store', path]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no-such-model/);
  }, 60_000);
});
