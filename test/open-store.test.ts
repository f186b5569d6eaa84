import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LablogError, openStore, resolveStorePath } from '../src/index.js';
import { SCHEMA_VERSION } from '../src/store/sqlite/migrations.js';
import { tempDir } from './helpers.js';

describe('openStore', () => {
  it('creates the file, its folder and the schema at the given path', async () => {
    const dir = tempDir();
    const path = join(dir, 'nested', 'deeper', 'runs.db');
    const store = openStore({ path });
    expect(existsSync(path)).toBe(true);
    expect(store.path).toBe(path);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(
      expect.arrayContaining(['experiments', 'params', 'series', 'metric_chunks', 'image_points', 'plot_points', 'tables', 'blobs']),
    );
    db.close();
  });

  it('reopens an existing store without migrating again, keeping its data', async () => {
    const path = join(tempDir(), 'lablog.db');
    const first = openStore({ path });
    const exp = first.createExperiment({ name: 'kept' });
    exp.logMetric('m', 1);
    await first.close();
    const second = openStore({ path });
    expect(second.getExperiment(exp.id).getMetric('m').values).toEqual(new Float64Array([1]));
    await second.close();
  });

  it('defaults to $LABLOG_DIR/lablog.db, else ./.lablog/lablog.db', () => {
    const saved = process.env['LABLOG_DIR'];
    try {
      process.env['LABLOG_DIR'] = '/srv/runs';
      expect(resolveStorePath()).toBe('/srv/runs/lablog.db');
      delete process.env['LABLOG_DIR'];
      expect(resolveStorePath()).toBe(join(process.cwd(), '.lablog', 'lablog.db'));
      expect(resolveStorePath('x/y.db')).toBe(join(process.cwd(), 'x', 'y.db'));
    } finally {
      if (saved === undefined) delete process.env['LABLOG_DIR'];
      else process.env['LABLOG_DIR'] = saved;
    }
  });

  it("in a launched run, defaults to $LABLOG_STORE (the run's store) before $LABLOG_DIR; a path given still wins", () => {
    const saved = { store: process.env['LABLOG_STORE'], dir: process.env['LABLOG_DIR'] };
    try {
      process.env['LABLOG_DIR'] = '/srv/runs';
      process.env['LABLOG_STORE'] = '/srv/launched/store.db';
      expect(resolveStorePath()).toBe('/srv/launched/store.db');
      expect(resolveStorePath('/elsewhere.db')).toBe('/elsewhere.db');
    } finally {
      for (const [key, value] of [
        ['LABLOG_STORE', saved.store],
        ['LABLOG_DIR', saved.dir],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('opens $LABLOG_DIR/lablog.db when no path is given', async () => {
    const dir = tempDir();
    const saved = process.env['LABLOG_DIR'];
    process.env['LABLOG_DIR'] = dir;
    try {
      const store = openStore();
      expect(store.path).toBe(join(dir, 'lablog.db'));
      expect(existsSync(join(dir, 'lablog.db'))).toBe(true);
      await store.close();
    } finally {
      if (saved === undefined) delete process.env['LABLOG_DIR'];
      else process.env['LABLOG_DIR'] = saved;
    }
  });

  it('rejects bad and misspelled options with INVALID_OPTION', () => {
    expect(() => openStore({ pth: 'x.db' } as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => openStore({ path: '' })).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => openStore({ path: 42 } as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => openStore('x.db' as never)).toThrowError(expect.objectContaining({ code: 'INVALID_OPTION' }));
    try {
      openStore({ pth: 'x.db' } as never);
    } catch (error) {
      expect(error).toBeInstanceOf(LablogError);
      expect((error as LablogError).message).toBe("openStore: unknown option 'pth'; known options: path");
    }
  });

  it('refuses a store written by a newer schema, with both versions in the message', () => {
    const path = join(tempDir(), 'lablog.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openStore({ path })).toThrowError(
      expect.objectContaining({
        code: 'STORAGE_ERROR',
        message: expect.stringContaining(`schema version ${SCHEMA_VERSION + 1}, newer than this lablog's ${SCHEMA_VERSION}`),
      }),
    );
  });

  it('fails with STORAGE_ERROR when the path cannot be a store', () => {
    const dir = tempDir();
    expect(() => openStore({ path: dir })).toThrowError(expect.objectContaining({ code: 'STORAGE_ERROR' }));
  });
});
