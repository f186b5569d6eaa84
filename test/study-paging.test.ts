// Paging studies: one rule (limit 1 to MAX_STUDY_PAGE, default DEFAULT_STUDY_PAGE; offset >= 0) in the library and over REST.

import { describe, expect, it } from 'vitest';
import { DEFAULT_STUDY_PAGE, MAX_STUDY_PAGE } from '../src/model/study.js';
import { join } from 'node:path';
import { tempDir, tempStore } from './helpers.js';
import { api, createKey, killServer, startServer } from './support/server-process.js';

const STUDIES = MAX_STUDY_PAGE + 1;

describe('study pages', () => {
  it('listStudies: the default page, the largest page, and each bad limit or offset by name', () => {
    const { store } = tempStore();
    for (let i = 0; i < STUDIES; i++) store.createStudy({ name: `s${String(i).padStart(3, '0')}` });
    expect(store.listStudies().length).toBe(DEFAULT_STUDY_PAGE);
    expect(store.listStudies({ limit: MAX_STUDY_PAGE }).length).toBe(MAX_STUDY_PAGE);
    expect(store.listStudies({ limit: MAX_STUDY_PAGE, offset: MAX_STUDY_PAGE }).length).toBe(STUDIES - MAX_STUDY_PAGE);
    for (const limit of [0, MAX_STUDY_PAGE + 1, 1.5]) {
      expect(() => store.listStudies({ limit })).toThrowError(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          message: `listStudies: limit must be an integer from 1 to ${MAX_STUDY_PAGE}, got number ${limit}`,
          details: { option: 'limit' },
        }),
      );
    }
    expect(() => store.listStudies({ offset: -1 })).toThrowError(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: 'listStudies: offset must be an integer >= 0',
        details: { option: 'offset' },
      }),
    );
    // The limit is checked first.
    expect(() => store.listStudies({ limit: 0, offset: -1 })).toThrowError(expect.objectContaining({ details: { option: 'limit' } }));
  });

  it('GET /api/v1/studies: the same rule, each bad field named', async () => {
    const db = join(tempDir(), 'server.db');
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    try {
      for (let i = 0; i < STUDIES; i++) expect((await api(server, key, 'POST', '/api/v1/studies', { name: `s${i}` })).status).toBe(201);
      const page = await api(server, key, 'GET', '/api/v1/studies');
      expect([page.data.studies.length, page.data.limit, page.data.total]).toEqual([DEFAULT_STUDY_PAGE, DEFAULT_STUDY_PAGE, STUDIES]);
      expect((await api(server, key, 'GET', `/api/v1/studies?limit=${MAX_STUDY_PAGE}`)).data.studies.length).toBe(MAX_STUDY_PAGE);
      for (const [query, field] of [
        ['limit=0', 'limit'],
        [`limit=${MAX_STUDY_PAGE + 1}`, 'limit'],
        ['limit=x', 'limit'],
        ['offset=-1', 'offset'],
        ['limit=0&offset=-1', 'limit'],
      ] as const) {
        const answer = await api(server, key, 'GET', `/api/v1/studies?${query}`);
        expect([answer.status, answer.data.error, answer.data.details?.field], query).toEqual([400, 'INVALID_OPTION', field]);
      }
    } finally {
      await killServer(server);
    }
  });
});
