import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore } from '../src/index.js';
import { runFixture, tempDir } from './helpers.js';

const idOf = (stdout: string) => /^id (\S+)$/m.exec(stdout)![1]!;

describe('exit paths', () => {
  it('a normal exit waits for a large backlog while the writer makes progress: nothing is lost', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('exit-cases.ts', [path, 'backlog']);
    expect(child.code).toBe(0);
    expect(child.stderr).toBe('');
    const store = openStore({ path });
    const exp = store.getExperiment(idOf(child.stdout));
    expect(exp.status).toBe('completed');
    expect(exp.listSeries().reduce((n, s) => n + s.count, 0)).toBe(300_000);
    await store.close();
  });

  it('store.close() with several experiments resolves before the process ends', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('exit-cases.ts', [path, 'two-closes']);
    expect(child.code).toBe(0);
    expect(child.stdout).toContain('after close');
  });

  it('an uncaught exception the program handles does not end its experiments', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('exit-cases.ts', [path, 'handled-throw']);
    expect(child.code).toBe(0);
    expect(child.stdout).toContain('handled: a bad batch');
    const store = openStore({ path });
    const exp = store.getExperiment(idOf(child.stdout));
    expect(exp.status).toBe('completed');
    expect(Array.from(exp.getMetric('m').values)).toEqual([1, 2]);
    await store.close();
  });

  it('the status of a close() still in progress at exit is the one recorded', async () => {
    const path = join(tempDir(), 'lablog.db');
    const child = await runFixture('exit-cases.ts', [path, 'closing-exit']);
    expect(child.code).toBe(0);
    const store = openStore({ path });
    const exp = store.getExperiment(idOf(child.stdout));
    expect(exp.status).toBe('cancelled');
    expect(Array.from(exp.getMetric('m').values)).toEqual([1]);
    await store.close();
  });
});
