// `lablog env set / ls / rm` as real CLI processes: the name rule, inheritance in the listing, secrets never printed by any command (env ls, run's echo, logs, export, errors).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { RUN_FIXTURES } from './support/runs.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SECRET = 'hf_cli-s3cret-9f8e7d';

function lablog(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, all: result.stdout + result.stderr };
}

describe('lablog env', () => {
  it('sets, lists with inheritance and removes; refuses bad names and a secret made plain; never prints a secret', () => {
    const dir = tempDir();
    const store = join(dir, 'lablog.db');
    const env = { LABLOG_SECRET_KEY_FILE: join(dir, 'key', 'secret.key') };
    const run = (...args: string[]) => lablog([...args, '--store', store], env);
    const outputs: string[] = [];
    const ok = (...args: string[]) => {
      const result = run(...args);
      outputs.push(result.all);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };

    expect(ok('env', 'set', '--project', 'mnist', 'DATA_DIR=/data/mnist', 'EPOCHS=5')).toBe(
      "set DATA_DIR in project 'mnist'\nset EPOCHS in project 'mnist'\n",
    );
    expect(ok('env', 'set', '--project', 'mnist', '--secret', `HF_TOKEN=${SECRET}`)).toBe("set HF_TOKEN (secret) in project 'mnist'\n");
    expect(ok('env', 'ls', '--project', 'mnist')).toBe(
      [
        'NAME      VALUE        SECRET  INHERITANCE',
        'DATA_DIR  /data/mnist  no      project',
        'EPOCHS    5            no      project',
        'HF_TOKEN  ***          yes     project',
        '',
      ].join('\n'),
    );

    // A run of the project; its experiment's own var shadows the project's.
    const launched = lablog(
      [
        'run',
        '--store',
        store,
        '--project',
        'mnist',
        '--name',
        'job',
        '--',
        process.execPath,
        join(RUN_FIXTURES, 'print-env.mjs'),
        '0',
        'HF_TOKEN',
        'EPOCHS',
      ],
      env,
    );
    outputs.push(launched.all);
    expect(launched.code, launched.stderr).toBe(0);
    // The terminal echo is redacted too, even where the secret came in two writes.
    expect(launched.stdout).toContain('HF_TOKEN=***\nEPOCHS=5\nsplit:***:end\n');
    expect(launched.stderr).toContain('failing with *** and again ***');
    ok('env', 'set', '--project', 'mnist', '--experiment', 'job', 'EPOCHS=9');
    expect(ok('env', 'ls', '--project', 'mnist', '--experiment', 'job')).toContain('EPOCHS    9            no      experiment\n');
    ok('logs', 'job', '--project', 'mnist');
    const out = join(dir, 'job.json');
    ok('export', 'job', '--project', 'mnist', '--format', 'json', '--out', out);
    outputs.push(readFileSync(out, 'utf8'));

    const badName = run('env', 'set', '--project', 'mnist', 'OK=1', '_BAD=2');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/env var name '_BAD' breaks the rule: letters .* not ending with an underscore \[INVALID_NAME\]/);
    // Checked before any is set.
    expect(ok('env', 'ls', '--project', 'mnist')).not.toMatch(/^OK /m);
    const downgrade = run('env', 'set', '--project', 'mnist', `HF_TOKEN=${SECRET}`);
    outputs.push(downgrade.all);
    expect(downgrade.code).toBe(1);
    expect(downgrade.stderr).toMatch(
      /env var HF_TOKEN of project 'mnist' is a secret; a secret cannot be turned back into a plain variable .*\[SECRET_DOWNGRADE\]/,
    );
    const noEquals = run('env', 'set', 'JUST_A_NAME');
    expect(noEquals.stderr).toContain("expected NAME=VALUE, got 'JUST_A_NAME' [INVALID_OPTION]");
    // A secret given without NAME= is not echoed back.
    const bare = run('env', 'set', '--secret', SECRET);
    outputs.push(bare.all);
    expect(bare.stderr).toContain('expected NAME=VALUE, got an argument without NAME= (not shown: it may be the secret) [INVALID_OPTION]');

    expect(ok('env', 'rm', '--project', 'mnist', 'EPOCHS')).toBe('removed EPOCHS\n');
    const missing = run('env', 'rm', '--project', 'mnist', 'EPOCHS');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no env var EPOCHS in project 'mnist' [NOT_FOUND]");

    for (const text of outputs) expect(text).not.toContain(SECRET);
    expect(outputs.join('').length).toBeGreaterThan(500);
  });
});
