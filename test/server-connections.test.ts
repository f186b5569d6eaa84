// The server's connection guards, against a real process: timeouts, close after an early answer, connection caps, per-address rate limit.

import { describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { clientAddressKey } from '../src/server/client-address.js';
import { RateLimiter } from '../src/server/rate-limiter.js';
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from '../src/server/connection-limits.js';
import { tempStore } from './helpers.js';
import { SERVER_DATABASES, api, createKey, runCli, startServer } from './support/server-process.js';
import { startUi } from './support/ui-process.js';
import { waitFor } from './support/wait-for.js';

const [SQLITE] = SERVER_DATABASES.filter((d) => d.kind === 'sqlite');
const BLOB_PATH = `/api/v1/blobs/${'ab'.repeat(32)}`;
/** Most an answer to one request may take here, even on a loaded machine. */
const ANSWER_MS = 5_000;
/** Most a socket closed "at once" by a cap may take to be seen closed. */
const CAPPED_CLOSE_MS = 5_000;
/** Most a connection may take to be cut by a lowered timeout (1 to 2 s, checked every second): below the 10 s a client here trickles for. */
const LOWERED_TIMEOUT_CUT_MS = 8_000;
/** Most the UI may take to answer all of its many connections. */
const UI_ANSWERS_MS = 20_000;

/** A raw TCP client: what it received, and when the server closed it. */
interface RawClient {
  readonly socket: Socket;
  text(): string;
  closed(): boolean;
  /** ms since epoch of the close, once closed. */
  closedAt(): number | undefined;
}

async function open(port: number, localAddress = '127.0.0.1'): Promise<RawClient> {
  const socket = netConnect({ host: '127.0.0.1', port, localAddress });
  let text = '';
  let closedAt: number | undefined;
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has closed: the close is what is asserted
  socket.on('close', () => (closedAt = Date.now()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, text: () => text, closed: () => closedAt !== undefined, closedAt: () => closedAt };
}

/** A body that trickles: how many bytes it has sent, and how to stop it. */
interface Trickle {
  sent(): number;
  stop(): void;
}

/** Writes one byte every `everyMs` (at most `max` bytes) until the socket closes: a body that trickles. */
function trickle(client: RawClient, everyMs: number, max: number): Trickle {
  let sent = 0;
  const timer = setInterval(() => {
    if (client.closed() || sent >= max) return clearInterval(timer);
    sent++;
    client.socket.write('x');
  }, everyMs);
  return { sent: () => sent, stop: () => clearInterval(timer) };
}

/**
 * Lets this process handle every socket event already delivered to it: a close the server decided before it
 * answered a later request is seen here before the check that follows (I/O callbacks, then close callbacks).
 */
async function clientEventsHandled(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * One complete request on a connection of its own from `localAddress`, answered with Connection: close; resolves
 * with the answer once the server has closed that connection. The server makes its decisions on connections in
 * the order they come, so every connection opened before this one has been accepted or closed by then.
 */
async function roundTrip(port: number, path: string, key: string | undefined, localAddress: string): Promise<RawClient> {
  const client = await open(port, localAddress);
  client.socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n` + (key ? `Authorization: Bearer ${key}\r\n` : '') + '\r\n',
  );
  await waitFor(`the answer to GET ${path} from ${localAddress}, and its connection closed`, client.closed, ANSWER_MS);
  await clientEventsHandled();
  return client;
}

/** A GET through node:http from a chosen loopback address, on a connection of its own. */
function getFrom(url: string, path: string, key: string | undefined, localAddress: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}${path}`,
      { localAddress, agent: false, headers: { connection: 'close', ...(key ? { authorization: `Bearer ${key}` } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text.length > 0 ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function headersOf(text: string): { status: number; headers: Record<string, string> } {
  const [head = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers };
}

function bodyOf(text: string): any {
  return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
}

describe('server connections on sqlite', () => {
  it('closes the socket after an early 401 or 413 instead of waiting for a body that trickles', async () => {
    const db = await SQLITE!.create();
    const key = await createKey(db, 'default');
    const server = await startServer(db);
    for (const [authorization, length, status, error] of [
      [undefined, 1_000_000, 401, 'UNAUTHENTICATED'],
      ['Bearer llk_wrong', 1_000_000, 401, 'UNAUTHENTICATED'],
      [`Bearer ${key}`, 100 * 1024 * 1024, 413, 'PAYLOAD_TOO_LARGE'],
    ] as const) {
      const client = await open(server.port);
      client.socket.write(
        `PUT ${BLOB_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n` +
          (authorization ? `Authorization: ${authorization}\r\n` : '') +
          '\r\n',
      );
      // 40 bytes, one every 250 ms: the body is still trickling for 10 s, far from its Content-Length.
      const body = trickle(client, 250, 40);
      await waitFor(`${status}: an answer`, () => client.text().includes('\r\n\r\n'), ANSWER_MS);
      const { status: got, headers } = headersOf(client.text());
      expect(got).toBe(status);
      expect(headers['connection']).toBe('close');
      await waitFor(`${status}: the connection closed after the answer`, () => client.closed() && client.text().endsWith('}'), ANSWER_MS);
      // Closed by the server while the client still had body to send: it did not wait for the body.
      expect(body.sent(), `${status}: body bytes sent before the close`).toBeLessThan(40);
      expect(bodyOf(client.text()).error).toBe(error);
      body.stop();
    }
    // An answer to a complete request keeps the connection open for the next one.
    const res = await api(server, key, 'GET', '/api/v1/experiments');
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).not.toBe('close');
  });

  it('closes idle keep-alive connections and connections whose headers or body are too slow (lowered timeouts)', async () => {
    const db = await SQLITE!.create();
    const key = await createKey(db, 'default');
    const server = await startServer(db, {
      args: ['--keep-alive-timeout', '1000', '--headers-timeout', '1000', '--request-timeout', '2000'],
    });

    // Keep-alive: an idle connection after a complete answer is closed after 1 s (the default before was 72 s).
    // Timed from before the request, which comes before the answer: the bound holds however late this process runs.
    const idle = await open(server.port);
    const requestedAt = Date.now();
    idle.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor('the answer on the keep-alive connection', () => idle.text().endsWith('}'), ANSWER_MS);
    expect(headersOf(idle.text()).status).toBe(200);
    // Well before the default keep-alive timeout: the lowered one closed it.
    await waitFor('the idle keep-alive connection closed', idle.closed, DEFAULT_KEEP_ALIVE_TIMEOUT_MS / 2);
    expect(idle.closedAt()! - requestedAt).toBeGreaterThanOrEqual(800);

    // Headers that never end (a byte every 200 ms for 10 s): 408 within the headers timeout plus the check interval.
    const slowHead = await open(server.port);
    const startHead = Date.now();
    slowHead.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const head = trickle(slowHead, 200, 50);
    await waitFor('the connection with slow headers closed', slowHead.closed, LOWERED_TIMEOUT_CUT_MS);
    // Cut while the headers still trickled in, not once the client stopped sending.
    expect(head.sent(), 'header bytes sent before the close').toBeLessThan(50);
    head.stop();
    expect(slowHead.closedAt()! - startHead).toBeGreaterThanOrEqual(900);
    expect(headersOf(slowHead.text()).status).toBe(408);
    expect(bodyOf(slowHead.text())).toMatchObject({
      error: 'REQUEST_TIMEOUT',
      details: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
    });

    // A valid key and a body that trickles (1 byte / 200 ms of 1,000): cut at the 2 s request timeout.
    const slowBody = await open(server.port);
    const startBody = Date.now();
    slowBody.socket.write(
      `PUT ${BLOB_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n`,
    );
    // 50 bytes of the 1,000, one every 200 ms: the body trickles for 10 s and never completes.
    const body = trickle(slowBody, 200, 50);
    await waitFor('the connection with a slow body closed', slowBody.closed, LOWERED_TIMEOUT_CUT_MS);
    // Cut by the request timeout while the body still trickled in: not later (the idle timeout is 60 s), not earlier.
    expect(body.sent(), 'body bytes sent before the close').toBeLessThan(50);
    body.stop();
    expect(slowBody.closedAt()! - startBody).toBeGreaterThanOrEqual(1_900);
    expect(headersOf(slowBody.text()).status).toBe(408);
    expect(bodyOf(slowBody.text())).toMatchObject({ error: 'REQUEST_TIMEOUT', details: { limit: 2000, requestTimeoutMs: 2000 } });

    // The server still answers.
    expect((await api(server, key, 'GET', '/api/v1/experiments')).status).toBe(200);
  });

  it('closes connections over the per-address and the total cap at once, and still answers others', async () => {
    const db = await SQLITE!.create();
    const key = await createKey(db, 'default');
    const server = await startServer(db, {
      args: ['--max-connections-per-address', '8', '--max-connections', '12', '--headers-timeout', '1500', '--request-timeout', '3000'],
    });
    // 12 idle sockets from one address: the 4 past its cap of 8 are closed at once.
    const flood: RawClient[] = [];
    for (let i = 0; i < 12; i++) flood.push(await open(server.port, '127.0.0.1'));
    await waitFor('4 of the 12 sockets from 127.0.0.1 closed', () => flood.filter((c) => c.closed()).length >= 4, CAPPED_CLOSE_MS);

    // Another address is still served meanwhile. Its answer comes after the server has decided on all 12 sockets
    // (and its connection is closed by the server, so it no longer counts towards the total).
    const other = await roundTrip(server.port, '/api/v1/experiments', key, '127.0.0.2');
    expect(headersOf(other.text()).status).toBe(200);
    expect(flood.map((c) => c.closed())).toEqual([...Array(8).fill(false), ...Array(4).fill(true)]);

    // The total cap: 8 held + 6 more from a third address; the 2 past 12 are closed at once.
    const third: RawClient[] = [];
    for (let i = 0; i < 6; i++) third.push(await open(server.port, '127.0.0.3'));
    await waitFor('2 of the 6 sockets from 127.0.0.3 closed', () => third.filter((c) => c.closed()).length >= 2, CAPPED_CLOSE_MS);
    // A 13th from a fourth address, with no connection of its own yet, is closed at once too: the cap is the total.
    // The server decided on the 6 before this one, so their state is final here.
    const fourth = await open(server.port, '127.0.0.4');
    await waitFor('the 13th connection (from 127.0.0.4) closed by the total cap', fourth.closed, CAPPED_CLOSE_MS);
    await clientEventsHandled();
    expect(fourth.text()).toBe('');
    expect(third.map((c) => c.closed())).toEqual([false, false, false, false, true, true]);

    // The held sockets never send headers: the headers timeout (1.5 s) frees them, and the flooding address is served again.
    await waitFor(
      'the held sockets closed by the headers timeout',
      () => [...flood, ...third].every((c) => c.closed()),
      LOWERED_TIMEOUT_CUT_MS,
    );
    const again = await getFrom(server.url, '/api/v1/experiments', key, '127.0.0.1');
    expect(again.status).toBe(200);
  });
});

describe.each(SERVER_DATABASES)('per-address rate limit of unauthenticated requests on $kind', ({ create }) => {
  it('answers 429 with Retry-After to wrong keys, no keys and logins past the rate, while a known key gets 200', async () => {
    const db = await create();
    const key = await createKey(db, 'default');
    // 2 per second, burst 4: even a slow batch of 18 cannot be refilled in time.
    const server = await startServer(db, { args: ['--anonymous-rate-limit', '2'] });
    // The publisher's key is known before the flood.
    expect((await api(server, key, 'GET', '/api/v1/experiments')).status).toBe(200);

    const started = Date.now();
    const answers: { status: number; retryAfter: string | null; data: any; kind: number }[] = [];
    const knownDuringFlood: number[][] = [];
    for (let batch = 0; batch < 6; batch++) {
      // 16 requests without a known key (a quarter each: a wrong key, no key, a login with a wrong key, a wrong key
      // with a made-up X-Forwarded-For, which counts for nothing without --trust-proxy) and 2 with the known key.
      const requests = Array.from({ length: 16 }, (_, i) => {
        const kind = i % 4;
        const res =
          kind === 0
            ? api(server, `llk_wrong-${batch}-${i}`, 'GET', '/api/v1/experiments')
            : kind === 1
              ? api(server, undefined, 'GET', '/api/v1/experiments')
              : kind === 2
                ? api(server, undefined, 'POST', '/api/v1/session', { key: `llk_wrong-${batch}-${i}` })
                : fetch(`${server.url}/api/v1/experiments`, {
                    headers: { authorization: `Bearer llk_wrong-${batch}-${i}`, 'x-forwarded-for': `10.9.${batch}.${i}` },
                  }).then(async (r) => ({ status: r.status, headers: r.headers, data: await r.json() }));
        return res.then((r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), data: r.data, kind }));
      });
      const known = [0, 1].map(() => api(server, key, 'GET', '/api/v1/experiments').then((r) => r.status));
      const [batchAnswers, knownStatuses] = await Promise.all([Promise.all(requests), Promise.all(known)]);
      answers.push(...batchAnswers);
      if (batch > 0) {
        // Past the first batch the address's allowance is used up: 429s for the others, 200s for the known key.
        expect(batchAnswers.filter((a) => a.status === 429).length, `batch ${batch}`).toBeGreaterThan(0);
        knownDuringFlood.push(knownStatuses);
      }
    }
    const elapsedS = (Date.now() - started) / 1000;
    expect(knownDuringFlood).toEqual(Array(5).fill([200, 200]));
    expect(
      answers.every((a) => a.status === 401 || a.status === 429),
      JSON.stringify(answers.map((a) => a.status)),
    ).toBe(true);
    const passed = answers.filter((a) => a.status === 401).length;
    // Burst 4 (one taken by the known key's first request, unknown then), then 2 per second: no more reached the key lookup.
    expect(passed).toBeGreaterThanOrEqual(3);
    expect(passed).toBeLessThanOrEqual(3 + Math.ceil(2 * elapsedS) + 1);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBe(answers.length - passed);
    expect(Number(limited[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.data).toMatchObject({ error: 'RATE_LIMITED', details: { limit: 2, burst: 4, retryAfterMs: expect.any(Number) } });
    // Each kind is counted: wrong keys, no key, logins, spoofed forwarding.
    for (const kind of [0, 1, 2, 3])
      expect(answers.filter((a) => a.kind === kind && a.status === 429).length, `kind ${kind}`).toBeGreaterThan(0);

    // Another address has its own allowance.
    expect((await getFrom(server.url, '/api/v1/experiments', 'llk_wrong-elsewhere', '127.0.0.2')).status).toBe(401);
    expect((await getFrom(server.url, '/api/v1/experiments', key, '127.0.0.2')).status).toBe(200);
  });
});

describe('client address behind a trusted proxy', () => {
  it('limits by X-Forwarded-For only when the connection comes from a trusted proxy', async () => {
    const db = await SQLITE!.create();
    const server = await startServer(db, { args: ['--anonymous-rate-limit', '1', '--trust-proxy', '127.0.0.1'] });
    const from = (forwarded: string) =>
      fetch(`${server.url}/api/v1/experiments`, { headers: { 'x-forwarded-for': forwarded } }).then((r) => r.status);
    // 1 per second, burst 2, for 10.0.0.1: of 6 at once, 2 pass (3 if a token came back meanwhile), the rest 429.
    const statuses = await Promise.all(Array.from({ length: 6 }, () => from('10.0.0.1')));
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBe(6 - statuses.filter((s) => s === 401).length);
    // 10.0.0.2, behind the same proxy, has its own allowance.
    expect(await from('10.0.0.2')).toBe(401);
  });
});

describe('lablog server connection options', () => {
  it('refuses values that would switch a guard off or that Node cannot honour, naming the option and the value', async () => {
    const db = await SQLITE!.create();
    for (const [args, message] of [
      [['--max-connections', '0'], "--max-connections must be an integer >= 1, got '0'"],
      [['--request-timeout', '1.5'], "--request-timeout must be an integer >= 1, got '1.5'"],
      [['--anonymous-rate-limit', '0'], "--anonymous-rate-limit must be an integer >= 1, got '0'"],
      [['--request-timeout', '1000', '--headers-timeout', '5000'], 'headersTimeoutMs must be at most requestTimeoutMs (1000), got 5000'],
      [
        ['--trust-proxy', '10.0.0.1,not-an-ip'],
        "--trust-proxy takes addresses, CIDR ranges or loopback/linklocal/uniquelocal, comma-separated; got 'not-an-ip'",
      ],
    ] as const) {
      const result = await runCli(['server', '--port', '0', '--db', db, ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain(`${message} [INVALID_OPTION]`);
    }
  });
});

describe('what per-address limits count by', () => {
  it('counts IPv4 as is (also mapped into IPv6) and IPv6 per /64', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(clientAddressKey('2001:DB8:0:1:ffff:ffff:ffff:ffff')).toBe('2001:db8:0:1::/64');
    expect(clientAddressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientAddressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
  });

  it('keeps at most its bound of buckets, dropping the least recently used (which comes back full)', () => {
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, 3);
    const now = 1_000_000;
    expect(['a', 'b', 'c'].map((id) => limiter.take(id, now))).toEqual([0, 0, 0]);
    expect(limiter.take('b', now)).toBe(1000); // b is empty, and now the most recently used
    expect(limiter.take('d', now)).toBe(0); // a is dropped
    expect(limiter.size).toBe(3);
    expect(limiter.take('c', now)).toBe(1000);
    expect(limiter.take('a', now)).toBe(0); // a came back full; b was the least recently used and is dropped
    expect(limiter.size).toBe(3);
    expect(limiter.take('b', now)).toBe(0);
  });
});

describe('lablog ui (this machine only)', () => {
  it('takes the total cap for its one address: more sockets than the per-address default are all served', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'local' });
    exp.logMetric('m', 1);
    await exp.close();
    const ui = await startUi(path);
    try {
      const port = Number(new URL(ui.url).port);
      const clients: RawClient[] = [];
      for (let i = 0; i < DEFAULT_MAX_CONNECTIONS_PER_ADDRESS + 16; i++) clients.push(await open(port));
      // One more request from the same address is answered after the server has decided on all of them.
      const probe = await roundTrip(port, '/api/v1/experiments', undefined, '127.0.0.1');
      expect(headersOf(probe.text()).status).toBe(200);
      expect(clients.filter((c) => c.closed())).toHaveLength(0);
      // Every one of them is answered (the UI's page load and a bulk read make many at once).
      for (const c of clients) c.socket.write(`GET /api/v1/experiments HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
      await waitFor('every UI connection answered and closed', () => clients.every((c) => c.closed()), UI_ANSWERS_MS);
      expect(clients.filter((c) => c.text().startsWith('HTTP/1.1 200')).length).toBe(clients.length);
    } finally {
      ui.child.kill();
    }
  });
});
