// Error codes as one vocabulary: every code has an HTTP status, no code reaches a client as a 500 by being forgotten, and a client reads old and unknown codes.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, LablogError, type LablogErrorCode } from '../src/model/errors.js';
import { HTTP_STATUS, toHttpError } from '../src/server/http-errors.js';
import { answerError, readRejectedItem, readSentCode, RENAMED_ERROR_CODES } from '../src/remote/error-answer.js';
import { RemoteClient } from '../src/sync/remote-client.js';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, startServer } from './support/server-process.js';

/** An error of `code` with no details (the table does not look at them). */
function errorOf(code: LablogErrorCode): LablogError {
  return new LablogError(code, `a ${code}`, {} as never);
}

describe('the code → HTTP status table', () => {
  it('has exactly one status per code, each a 4xx or 5xx, and INTERNAL is the only 500', () => {
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const status = HTTP_STATUS[code];
      expect(status >= 400 && status < 600, `${code} → ${status}`).toBe(true);
    }
    expect(ERROR_CODES.filter((code) => HTTP_STATUS[code] === 500)).toEqual(['INTERNAL']);
  });

  it('answers every code a handler throws with its status and code (EXPERIMENT_CLOSED is a 409, not a 500)', () => {
    for (const code of ERROR_CODES) {
      const { status, body } = toHttpError(errorOf(code));
      expect({ code, status, error: body.error }).toEqual({ code, status: HTTP_STATUS[code], error: code });
    }
    expect(toHttpError(new LablogError('EXPERIMENT_CLOSED', "experiment 'e' is closed", { experiment: 'e' }))).toEqual({
      status: 409,
      body: { error: 'EXPERIMENT_CLOSED', message: "experiment 'e' is closed", details: { experiment: 'e' } },
    });
  });

  it("keeps a STORAGE_ERROR's details (the database) in the server", () => {
    const error = new LablogError('STORAGE_ERROR', 'disk full at /srv/lablog.db', {
      driver: 'sqlite',
      driverCode: 'SQLITE_FULL',
      location: '/srv/lablog.db',
    });
    expect(toHttpError(error)).toEqual({
      status: 503,
      body: { error: 'STORAGE_ERROR', message: 'the server could not read or write its store; try again later', details: {} },
    });
  });

  it('answers a malformed request INVALID_OPTION (the name the library uses), and a bug INTERNAL', () => {
    const framework = Object.assign(new Error('Body is not valid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
    expect(toHttpError(framework)).toEqual({
      status: 400,
      body: { error: 'INVALID_OPTION', message: 'Body is not valid JSON', details: { cause: 'FST_ERR_CTP_INVALID_JSON_BODY' } },
    });
    expect(toHttpError(new TypeError('x is undefined'))).toMatchObject({ status: 500, body: { error: 'INTERNAL', details: {} } });
  });
});

describe.each(SERVER_DATABASES)('a code the old table forgot, over REST on $kind', ({ create }) => {
  it('archiving a study without its artifacts while a member runs is EXPERIMENT_RUNNING, 409 (was a 500)', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    const { store } = tempStore();
    const running = store.createExperiment({ name: 'still-training' });
    running.logMetric('loss', 1);
    await running.flush();
    expect((await store.publish({ remote: server.url, apiKey: key })).problems).toEqual([]);
    const study = await api(server, key, 'POST', '/api/v1/studies', { name: 'in-progress' });
    expect(study.status).toBe(201);
    const id = (study.data as { id: string }).id;
    expect((await api(server, key, 'POST', `/api/v1/studies/${id}/experiments`, { experiment: running.id })).status).toBe(201);

    const archived = await api(server, key, 'POST', `/api/v1/studies/${id}/archive`, { reason: 'written up', preserveArtifacts: false });
    expect(archived.status).toBe(409);
    expect(archived.data).toMatchObject({ error: 'EXPERIMENT_RUNNING', details: { study: 'in-progress', running: ['still-training'] } });
    await running.close();
  });
});

describe("reading a server's error answer", () => {
  const remote = 'http://lablog.test:5380';
  const answer = (status: number, body: unknown, retryAfter: string | null = null) =>
    answerError(remote, 'POST /api/v1/x', {
      status,
      statusText: 'Status Text',
      retryAfter,
      text: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('keeps a known code and its details, with the status and the remote', () => {
    const error = answer(409, { error: 'SYNC_CONFLICT', message: 'behind', details: { key: 'loss', after: 5, serverLastStep: 3 } });
    expect(error).toBeInstanceOf(LablogError);
    expect({ code: error.code, message: error.message, details: error.details }).toEqual({
      code: 'SYNC_CONFLICT',
      message: 'POST /api/v1/x: 409 behind',
      details: { key: 'loss', after: 5, serverLastStep: 3, httpStatus: 409, remote },
    });
    if (error.code !== 'SYNC_CONFLICT') throw new Error('not narrowed');
    expect(error.details.serverLastStep).toBe(3);
  });

  it("reads an older server's VALIDATION as INVALID_OPTION, details kept", () => {
    expect(RENAMED_ERROR_CODES).toEqual({ VALIDATION: 'INVALID_OPTION' });
    const error = answer(400, { error: 'VALIDATION', message: 'limit must be an integer', details: { field: 'limit' } });
    expect({ code: error.code, details: error.details }).toEqual({
      code: 'INVALID_OPTION',
      details: { field: 'limit', httpStatus: 400, remote },
    });
  });

  it('maps an unknown code to the closest known one for its status, keeping the code sent and dropping details of unknown shape', () => {
    const cases: [number, LablogErrorCode][] = [
      [400, 'INVALID_OPTION'],
      [401, 'UNAUTHENTICATED'],
      [403, 'FORBIDDEN'],
      [404, 'NOT_FOUND'],
      [408, 'REQUEST_TIMEOUT'],
      [409, 'REMOTE_ERROR'],
      [413, 'PAYLOAD_TOO_LARGE'],
      [422, 'REMOTE_ERROR'],
    ];
    for (const [status, code] of cases) {
      const error = answer(status, { error: 'QUOTA_GONE_SIDEWAYS', message: 'new in a later lablog', details: { shape: 'unknown' } });
      expect({ status, code: error.code, details: error.details }).toEqual({
        status,
        code,
        details: { httpStatus: status, remote, remoteCode: 'QUOTA_GONE_SIDEWAYS' },
      });
    }
    expect(readSentCode('QUOTA_GONE_SIDEWAYS')).toEqual({ code: 'REMOTE_ERROR', known: false, sent: 'QUOTA_GONE_SIDEWAYS' });
    expect(readSentCode(42)).toEqual({ code: 'REMOTE_ERROR', known: false });
    expect(readSentCode('INSUFFICIENT_RUNS')).toEqual({ code: 'INSUFFICIENT_RUNS', known: true });
  });

  it('lets the status decide first: 429 is RATE_LIMITED with the wait, a 5xx is REMOTE_UNAVAILABLE, a STORAGE_ERROR names the remote', () => {
    const limited = answer(429, { error: 'RATE_LIMITED', message: 'slow down', details: { retryAfterMs: 2000, limit: 10 } }, '2');
    expect({ code: limited.code, details: limited.details }).toEqual({
      code: 'RATE_LIMITED',
      details: { retryAfterMs: 2000, limit: 10, httpStatus: 429, remote },
    });
    const proxy = answer(502, '<html>Bad Gateway</html>');
    expect({ code: proxy.code, message: proxy.message, details: proxy.details }).toEqual({
      code: 'REMOTE_UNAVAILABLE',
      message: 'POST /api/v1/x: 502 Status Text',
      details: { httpStatus: 502, remote },
    });
    const bug = answer(500, { error: 'INTERNAL', message: 'see its log', details: {} });
    expect(bug.code).toBe('REMOTE_UNAVAILABLE');
    const storage = answer(503, { error: 'STORAGE_ERROR', message: 'try again later', details: {} });
    expect({ code: storage.code, details: storage.details }).toEqual({
      code: 'STORAGE_ERROR',
      details: { driver: 'remote', driverCode: null, location: remote, httpStatus: 503, remote },
    });
    const notLablog = answer(404, 'Not Found');
    expect({ code: notLablog.code, message: notLablog.message }).toEqual({
      code: 'REMOTE_ERROR',
      message: 'POST /api/v1/x: 404 Status Text',
    });
  });

  it('reads the codes of refused ingest items the same way', () => {
    expect(readRejectedItem({ kind: 'metric', name: 'loss', error: 'VALIDATION', message: 'bad', details: { field: 'steps' } })).toEqual({
      kind: 'metric',
      name: 'loss',
      error: 'INVALID_OPTION',
      message: 'bad',
      details: { field: 'steps' },
    });
    expect(readRejectedItem({ kind: 'image', name: 'img', error: 'SOMETHING_NEWER', message: 'no', details: { odd: 1 } })).toEqual({
      kind: 'image',
      name: 'img',
      error: 'REMOTE_ERROR',
      message: 'no',
      details: { remoteCode: 'SOMETHING_NEWER' },
    });
  });
});

describe('a publisher talking to a server that answers with an older or newer vocabulary', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A real HTTP server on loopback answering every request with `status` and `body`. */
  async function answering(status: number, body: unknown): Promise<string> {
    server = createServer((_request, response) => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('rejects with INVALID_OPTION for VALIDATION, and with the closest code for an unknown one', async () => {
    const old = new RemoteClient({
      url: await answering(400, { error: 'VALIDATION', message: 'project must be a string', details: { field: 'project' } }),
      apiKey: 'k',
    });
    await expect(old.send('POST', '/api/v1/blobs/missing', {})).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'POST /api/v1/blobs/missing: 400 project must be a string',
      details: { field: 'project', httpStatus: 400 },
    });
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const newer = new RemoteClient({ url: await answering(403, { error: 'KEY_EXPIRED', message: 'renew it', details: {} }), apiKey: 'k' });
    await expect(newer.send('GET', '/api/v1/experiments')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      details: { remoteCode: 'KEY_EXPIRED', httpStatus: 403 },
    });
  });
});
