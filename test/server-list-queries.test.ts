// The list routes' query parameters against a real server: `?project=` within the key's scope, enum values checked, alike on each list.

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

/** Each list route, and the name of the list in its answer. */
const LISTS = [
  { path: '/api/v1/experiments', list: 'experiments' },
  { path: '/api/v1/runs', list: 'runs' },
  { path: '/api/v1/studies', list: 'studies' },
] as const;

describe.each(SERVER_DATABASES)('list query parameters on $kind', ({ create }) => {
  it('scopes ?project= to the key on every list route, and refuses an unknown enum value naming the parameter', async () => {
    const db = await create();
    const alice = await createKey(db, 'alice', 'shared');
    const bob = await createKey(db, 'bob');
    const server = await startServer(db);
    for (const [key, project] of [
      [alice, 'alice'],
      [alice, 'shared'],
      [bob, 'bob'],
    ] as const) {
      const put = await api(server, key, 'PUT', `/api/v1/experiments/${randomUUID()}`, {
        project,
        name: `e-${project}`,
        status: 'running',
        createdAt: 1,
        tags: [],
        params: [],
      });
      expect(put.status, JSON.stringify(put.data)).toBe(200);
      const study = await api(server, key, 'POST', '/api/v1/studies', { name: `s-${project}`, project });
      expect(study.status, JSON.stringify(study.data)).toBe(201);
    }

    for (const { path, list } of LISTS) {
      // Another project than the key's, or one that does not exist: FORBIDDEN naming it, on every list alike.
      for (const project of ['bob', 'nobody', '']) {
        const refused = await api(server, alice, 'GET', `${path}?project=${encodeURIComponent(project)}`);
        expect(refused.status, `${path} ${project}`).toBe(403);
        expect(refused.data).toMatchObject({
          error: 'FORBIDDEN',
          message: `this API key cannot read project '${project}'`,
          details: { project },
        });
      }
      // Repeated: the last one counts, as for every one-valued parameter.
      expect((await api(server, alice, 'GET', `${path}?project=shared&project=bob`)).status).toBe(403);
      const repeated = await api(server, alice, 'GET', `${path}?project=bob&project=shared`);
      expect(repeated.status).toBe(200);
      // Runs: none were published; experiments and studies: the named project's only, or the whole scope.
      const projects = (answer: { data: Record<string, { project: string }[]> }) => answer.data[list]!.map((r) => r.project).sort();
      expect(projects(repeated)).toEqual(list === 'runs' ? [] : ['shared']);
      expect(projects(await api(server, alice, 'GET', path))).toEqual(list === 'runs' ? [] : ['alice', 'shared']);

      const bad = await api(server, alice, 'GET', `${path}?status=bogus`);
      expect(bad.status).toBe(400);
      expect(bad.data).toMatchObject({ error: 'INVALID_OPTION', details: { field: 'status', actual: 'bogus' } });
      expect(bad.data.message).toMatch(/^status must be one of .*, got 'bogus'$/);
      const long = await api(server, alice, 'GET', `${path}?status=${'x'.repeat(10_000)}`);
      expect(long.data.details).toEqual({ field: 'status', actual: `${'x'.repeat(40)}…` });
    }

    // Experiments and runs take several statuses (repeated or comma-separated); each is checked.
    for (const path of ['/api/v1/experiments', '/api/v1/runs']) {
      expect((await api(server, alice, 'GET', `${path}?status=running,completed&status=failed`)).status).toBe(200);
      const one = await api(server, alice, 'GET', `${path}?status=running,bogus`);
      expect(one.data).toMatchObject({ error: 'INVALID_OPTION', details: { field: 'status', actual: 'bogus' } });
    }
    const running = await api(server, alice, 'GET', '/api/v1/experiments?status=completed,running');
    expect(running.data.total).toBe(2);
    // A study has one status: a list of them is not one of its values.
    const studies = await api(server, alice, 'GET', '/api/v1/studies?status=active,archived');
    expect(studies.data).toMatchObject({ error: 'INVALID_OPTION', details: { field: 'status', actual: 'active,archived' } });
    expect((await api(server, alice, 'GET', '/api/v1/studies?status=active')).data.total).toBe(2);

    for (const path of ['/api/v1/experiments', '/api/v1/studies']) {
      for (const [field, value] of [
        ['sort', 'id;drop'],
        ['order', 'sideways'],
      ] as const) {
        const refused = await api(server, alice, 'GET', `${path}?${field}=${encodeURIComponent(value)}`);
        expect(refused.status, `${path} ${field}`).toBe(400);
        expect(refused.data).toMatchObject({ error: 'INVALID_OPTION', details: { field, actual: value } });
      }
      const sorted = await api(server, alice, 'GET', `${path}?sort=name&order=asc`);
      expect(sorted.data[path.endsWith('studies') ? 'studies' : 'experiments'].map((r: { name: string }) => r.name)).toEqual(
        path.endsWith('studies') ? ['s-alice', 's-shared'] : ['e-alice', 'e-shared'],
      );
    }
  });
});
