// Env vars of the embedded store: the name rule, inheritance and shadowing, secrets sealed at rest with a 0600 key file, wrong keys, and what a run's child gets.

import { readFileSync, statSync, writeFileSync, chmodSync, existsSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { LablogError, openStore } from '../src/index.js';
import { ENV_VAR_NAME_RULE } from '../src/model/env-vars.js';
import { SecretBox } from '../src/core/secret-box.js';
import { secretRedactor } from '../src/core/secret-redaction.js';
import { FIXTURES, tempDir, tempStore, waitForExit } from './helpers.js';
import { openKeyFile } from '../src/core/secret-key-file.js';
import { nodeFixture, tsFixture } from './support/runs.js';

const SECRET = 'hf_s3cr3t-token-value';

function thrown(fn: () => unknown): LablogError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LablogError) return error;
    throw error;
  }
  throw new Error('expected a LablogError');
}

let keyFile: string;
beforeEach(() => {
  keyFile = join(tempDir(), 'config', 'lablog', 'secret.key');
  process.env['LABLOG_SECRET_KEY_FILE'] = keyFile;
});
afterEach(() => {
  delete process.env['LABLOG_SECRET_KEY_FILE'];
});

describe('env var names and values', () => {
  it('accepts letters, digits and underscores inside; refuses the rest with the rule and the name', () => {
    const { store } = tempStore();
    for (const name of ['A', 'DATA_DIR', 'x1', 'hf__token', 'Lr_0']) expect(store.env.set({ name, value: 'v' }).name).toBe(name);
    for (const name of ['_X', 'X_', '1X', 'DATA-DIR', 'A B', 'É', '', 'a.b']) {
      const error = thrown(() => store.env.set({ name, value: 'v' }));
      expect(error.code, name).toBe('INVALID_NAME');
      expect(error.message).toContain(ENV_VAR_NAME_RULE);
      expect(error.message).toContain(`'${name}'`);
    }
    const long = thrown(() => store.env.set({ name: 'A'.repeat(257), value: 'v' }));
    expect(long).toMatchObject({ code: 'INVALID_NAME', details: { limit: 256, actual: 257 } });
    expect(thrown(() => store.env.set({ name: 'A', value: 3 as unknown as string })).code).toBe('INVALID_OPTION');
    expect(thrown(() => store.env.set({ name: 'A', value: 'x'.repeat(32 * 1024 + 1) })).details).toMatchObject({ limit: 32 * 1024 });
    // A secret of one to three characters would blank out ordinary output when redacted.
    const short = thrown(() => store.env.set({ name: 'PIN', value: 'abc', secret: true }));
    expect(short).toMatchObject({ code: 'INVALID_OPTION', details: { limit: 4, actual: 3 } });
    expect(short.message).not.toContain('abc');
    expect(store.env.set({ name: 'EMPTY', value: '', secret: true }).secret).toBe(true);
  });
});

describe('inheritance', () => {
  it("lists a project's vars, and an experiment's resolved: its own shadow the project's, each saying where it comes from", () => {
    const { store } = tempStore();
    store.env.set({ project: 'mnist', name: 'DATA_DIR', value: '/data/mnist' });
    store.env.set({ project: 'mnist', name: 'EPOCHS', value: '5' });
    store.env.set({ project: 'mnist', name: 'HF_TOKEN', value: SECRET, secret: true });
    const exp = store.createExperiment({ name: 'lr-sweep', project: 'mnist' });
    store.env.set({ experiment: 'lr-sweep', project: 'mnist', name: 'EPOCHS', value: '9' });
    expect(store.env.list({ project: 'mnist' }).map((v) => [v.name, v.value, v.secret, v.inheritance])).toEqual([
      ['DATA_DIR', '/data/mnist', false, 'project'],
      ['EPOCHS', '5', false, 'project'],
      ['HF_TOKEN', null, true, 'project'],
    ]);
    const resolved = store.env.list({ experiment: exp.id });
    expect(resolved.map((v) => [v.name, v.value, v.inheritance, v.experimentId ?? null])).toEqual([
      ['DATA_DIR', '/data/mnist', 'project', null],
      ['EPOCHS', '9', 'experiment', exp.id],
      ['HF_TOKEN', null, 'project', null],
    ]);
    expect(JSON.stringify(resolved)).not.toContain(SECRET);
    // Deleting the experiment's own brings the project's back; deleting what is not there is NOT_FOUND.
    store.env.delete({ experiment: exp.id, name: 'EPOCHS' });
    expect(store.env.list({ experiment: exp.id }).find((v) => v.name === 'EPOCHS')).toMatchObject({ value: '5', inheritance: 'project' });
    expect(thrown(() => store.env.delete({ experiment: exp.id, name: 'EPOCHS' })).code).toBe('NOT_FOUND');
    expect(thrown(() => store.env.list({ experiment: 'no-such' })).code).toBe('EXPERIMENT_NOT_FOUND');
    // Other projects see nothing.
    expect(store.env.list({ project: 'other' })).toEqual([]);
  });

  it('turns a plain var into a secret, never a secret back into a plain var', () => {
    const { store } = tempStore();
    store.env.set({ name: 'TOKEN', value: 'plain-value' });
    expect(store.env.set({ name: 'TOKEN', value: SECRET, secret: true })).toMatchObject({ value: null, secret: true });
    const error = thrown(() => store.env.set({ name: 'TOKEN', value: 'again-plain' }));
    expect(error.code).toBe('SECRET_DOWNGRADE');
    expect(error.message).toMatch(/TOKEN .* is a secret; a secret cannot be turned back into a plain variable/);
    expect(store.env.list()).toMatchObject([{ name: 'TOKEN', value: null, secret: true }]);
  });
});

describe('secrets at rest', () => {
  it('creates the key file on first use with mode 0600, and the store file never holds the plain text', async () => {
    const { store, path, dir } = tempStore();
    store.env.set({ name: 'PLAIN', value: 'visible' });
    expect(existsSync(keyFile)).toBe(false);
    store.env.set({ project: 'mnist', name: 'HF_TOKEN', value: SECRET, secret: true });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    await store.close();
    const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes(Buffer.from('visible'))).toBe(true);
    expect(bytes.includes(Buffer.from('lablog-aes256gcm-v1:'))).toBe(true);
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    expect(bytes.includes(Buffer.from(SECRET.slice(3, 15)))).toBe(false);
    void path;
  });

  it('several processes creating the key file at once all end up with the one key', async () => {
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'seal-with-key-file.ts'), keyFile], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    const results = await Promise.all(children.map((child) => waitForExit(child)));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const box = openKeyFile(keyFile, false);
    const opened = results.map((r) => box.open({ project: 'p', experimentId: null, name: 'RACE' }, r.stdout));
    expect(opened.map((o) => o.startsWith('sealed by '))).toEqual([true, true, true, true]);
    expect(readdirSync(dirname(keyFile))).toEqual(['secret.key']);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file that group or others can read, naming the file and the mode', () => {
    const { store } = tempStore();
    store.env.set({ name: 'A_SECRET', value: SECRET, secret: true });
    chmodSync(keyFile, 0o644);
    const again = openStore({ path: join(tempDir(), 'other.db') });
    try {
      const error = thrown(() => again.env.set({ name: 'B_SECRET', value: SECRET, secret: true }));
      expect(error).toMatchObject({ code: 'SECRET_KEY_ERROR', details: { reason: 'permissions', path: keyFile, mode: '0644' } });
      expect(error.message).toContain(`chmod 600 ${keyFile}`);
    } finally {
      void again.close();
    }
    // A store keeps the key it read first: the one that opened it is not affected.
    expect(store.env.set({ name: 'C_SECRET', value: SECRET, secret: true }).secret).toBe(true);
  });

  it('with another key, a run fails clearly (SECRET_KEY_ERROR in its errorMessage), the child never starts, nothing is garbled', async () => {
    const { store: first, path } = tempStore();
    first.env.set({ name: 'HF_TOKEN', value: SECRET, secret: true });
    await first.close();
    writeFileSync(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const store = openStore({ path });
    onTestFinished(() => store.close());
    const run = store.launch({ ...nodeFixture('print-env.mjs', '0', 'HF_TOKEN'), name: 'wrong-key' });
    const record = await run.wait();
    expect(record).toMatchObject({ status: 'failed', pid: null });
    expect(record.errorMessage).toContain("secret HF_TOKEN of project 'default' cannot be decrypted with the key");
    expect(record.errorMessage).toContain('sealed with another key, or altered');
    expect(run.logs().lines).toEqual([]);
  });

  it('a sealed value opens only with its key and for its own variable', () => {
    const box = new SecretBox(randomBytes(32), 'test key');
    const slot = { project: 'p', experimentId: null, name: 'A' };
    const sealed = box.seal(slot, SECRET);
    expect(sealed).not.toContain(SECRET);
    expect(box.seal(slot, SECRET)).not.toBe(sealed); // a fresh IV each time
    expect(box.open(slot, sealed)).toBe(SECRET);
    for (const [other, text] of [
      [new SecretBox(randomBytes(32), 'other key'), sealed],
      [box, sealed.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))],
    ] as const) {
      expect(thrown(() => other.open(slot, text))).toMatchObject({ code: 'SECRET_KEY_ERROR', details: { reason: 'undecryptable' } });
    }
    expect(thrown(() => box.open({ ...slot, name: 'B' }, sealed)).code).toBe('SECRET_KEY_ERROR');
    expect(thrown(() => box.open({ ...slot, project: 'q' }, sealed)).code).toBe('SECRET_KEY_ERROR');
  });
});

describe('launched runs get the env vars', () => {
  it('project vars, shadowed by experiment vars, under the explicit env; secrets opened for the child and *** in everything stored', async () => {
    const { store } = tempStore();
    store.env.set({ project: 'mnist', name: 'HF_TOKEN', value: SECRET, secret: true });
    store.env.set({ project: 'mnist', name: 'DATA_DIR', value: '/data/mnist' });
    store.env.set({ project: 'mnist', name: 'EPOCHS', value: '5' });
    const run = store.launch({
      ...nodeFixture('print-env.mjs', '3', 'HF_TOKEN', 'DATA_DIR', 'EPOCHS'),
      project: 'mnist',
      env: { EPOCHS: '7' },
    });
    const record = await run.wait();
    expect(record.status).toBe('failed');
    const lines = run.logs().lines.map((l) => `${l.stream}:${l.text}`);
    expect(lines).toEqual([
      'stdout:HF_TOKEN=***',
      'stdout:DATA_DIR=/data/mnist',
      'stdout:EPOCHS=7',
      'stdout:split:***:end',
      'stderr:failing with *** and again ***',
    ]);
    expect(record.errorMessage).toBe('failing with *** and again ***');
    expect(JSON.stringify(store.listRuns())).not.toContain(SECRET);
  });

  it("re-reads them at each attempt: an experiment var set during attempt 1 reaches attempt 2, shadowing the project's", async () => {
    const { store } = tempStore();
    store.env.set({ name: 'DATA_DIR', value: '/data/shared' });
    const run = store.launch({ ...tsFixture('env-between-attempts.ts'), retries: 1 });
    const record = await run.wait();
    expect(record).toMatchObject({ status: 'completed', attempt: 2 });
    expect(run.logs().lines.map((l) => l.text)).toEqual(['attempt 1 DATA_DIR=/data/shared', 'attempt 2 DATA_DIR=/data/mine']);
    expect(store.env.list({ experiment: run.id })).toMatchObject([{ name: 'DATA_DIR', value: '/data/mine', inheritance: 'experiment' }]);
  });
});

describe('env vars from the team server', () => {
  it("follow the launch's remote: with remote: false no server is asked, even with $LABLOG_REMOTE set", async () => {
    const saved = { remote: process.env['LABLOG_REMOTE'], key: process.env['LABLOG_API_KEY'] };
    // A closed port: asking it would fail the attempt ("env vars could not be read").
    process.env['LABLOG_REMOTE'] = 'http://127.0.0.1:9';
    process.env['LABLOG_API_KEY'] = 'lablog_unused';
    onTestFinished(() => {
      for (const [name, value] of [
        ['LABLOG_REMOTE', saved.remote],
        ['LABLOG_API_KEY', saved.key],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    const { store } = tempStore();
    const record = await store.launch({ ...nodeFixture('print-and-exit.mjs', '0'), project: 'p', remote: false }).wait();
    expect(record).toMatchObject({ status: 'completed', exitCode: 0 });
    await store.close();
  });
});

describe('secret redaction', () => {
  it('replaces every secret, longest first, and leaves other text alone', () => {
    const redact = secretRedactor(['abcd', 'abcdefgh', 'a.b*c(d)', '']);
    expect(redact('x abcdefgh y abcd z abcdabcd')).toBe('x *** y *** z ******');
    expect(redact('regex a.b*c(d) chars')).toBe('regex *** chars');
    expect(redact('abc nothing here')).toBe('abc nothing here');
    expect(secretRedactor([])('abcd')).toBe('abcd');
  });

  it('redacts a secret of several lines (a PEM key) line by line; pieces under MIN_SECRET_LENGTH stay', () => {
    const pem = '-----BEGIN KEY-----\nMIIBsecretbody1\r\nxyz\n-----END KEY-----\n';
    const redact = secretRedactor([pem]);
    expect(['-----BEGIN KEY-----', 'MIIBsecretbody1', 'xyz', '-----END KEY-----', 'key: MIIBsecretbody1.'].map(redact)).toEqual([
      '***',
      '***',
      'xyz',
      '***',
      'key: ***.',
    ]);
  });
});
