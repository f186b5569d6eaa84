// Connection limits of the HTTP server: request, headers, idle and keep-alive timeouts, connection caps in total and per client address, and closing a connection answered before its body was read.

import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyHttpOptions, FastifyInstance } from 'fastify';
import { LablogError } from '../model/errors.js';
import { clientAddressKey } from './client-address.js';
import { toHttpError } from './http-errors.js';

export interface ConnectionLimits {
  /** A whole request (headers and body) must arrive within this; else 408 and the connection is closed. */
  readonly requestTimeoutMs: number;
  /** A request's headers must arrive within this (at most requestTimeoutMs); else 408 and the connection is closed. */
  readonly headersTimeoutMs: number;
  /** A connection on which nothing is read or written for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A kept-alive connection waiting for its next request is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at most; past it a new connection is closed at once. */
  readonly maxConnections: number;
  /** Open connections per client address (an IPv6 /64) at most; past it a new one from that address is closed at once. */
  readonly maxConnectionsPerAddress: number;
}

/** 2 minutes: a 64 MiB blob (DEFAULT_BLOB_LIMIT) at ~550 KB/s, twice what the publisher itself waits for one request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Headers are a few hundred bytes: 20 s is plenty on any link. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
/**
 * Nothing read or written for 60 s: the client is gone, or stalls (a response it never reads). Also bounds a
 * handler that computes that long without writing; the publisher gives up on a request after 60 s itself.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** A publisher sends its next request within milliseconds; a connection idle between requests is kept this long. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 10_000;
/** Well below the usual soft limit of 1,024 open files, which the store's files share. */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** A publisher uses one connection at a time, a browser six: 64 leaves room for a machine running many. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 64;
/** How often Node checks the headers and request timeouts: they fire up to this late. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
  idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
});

const FIELDS = Object.keys(DEFAULT_CONNECTION_LIMITS) as (keyof ConnectionLimits)[];

/**
 * The defaults with `overrides` applied, checked: every value an integer >= 1 (0 would switch a guard off), and
 * the headers timeout at most the request timeout (when only the request timeout is lowered, the headers
 * timeout follows it down).
 */
export function resolveConnectionLimits(overrides: Partial<ConnectionLimits> = {}): ConnectionLimits {
  for (const name of Object.keys(overrides)) {
    if (!(FIELDS as string[]).includes(name)) {
      throw new LablogError('INVALID_OPTION', `unknown connection limit '${name}' (known: ${FIELDS.join(', ')})`, { option: name });
    }
  }
  const requestTimeoutMs = overrides.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const limits: ConnectionLimits = {
    ...DEFAULT_CONNECTION_LIMITS,
    headersTimeoutMs: Math.min(DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs),
    ...overrides,
  };
  for (const name of FIELDS) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new LablogError('INVALID_OPTION', `connection limit ${name} must be an integer >= 1, got ${String(value)}`, {
        option: name,
        limit: 1,
        actual: value,
      });
    }
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new LablogError(
      'INVALID_OPTION',
      `headersTimeoutMs must be at most requestTimeoutMs (${limits.requestTimeoutMs}), got ${limits.headersTimeoutMs}`,
      { option: 'headersTimeoutMs', limit: limits.requestTimeoutMs, actual: limits.headersTimeoutMs },
    );
  }
  return Object.freeze(limits);
}

/**
 * Answers what Node's HTTP parser refused before fastify saw a request: a timeout (408), headers too large (431)
 * or malformed HTTP (400), in the API's `{ error, message, details }` shape, then closes the connection.
 */
function clientErrorHandler(limits: ConnectionLimits) {
  return (error: Error & { code?: string }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    let status: number;
    let body: object;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      const timeout = new LablogError(
        'REQUEST_TIMEOUT',
        `the request did not arrive in time: headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms`,
        { limit: limits.requestTimeoutMs, requestTimeoutMs: limits.requestTimeoutMs, headersTimeoutMs: limits.headersTimeoutMs },
      );
      ({ status, body } = toHttpError(timeout));
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      body = { error: 'INVALID_OPTION', message: 'the request headers are larger than the server accepts', details: { cause: error.code } };
    } else {
      status = 400;
      body = { error: 'INVALID_OPTION', message: 'malformed HTTP request', details: { cause: error.code ?? 'unknown' } };
    }
    // A response already under way on this connection cannot be followed by another one.
    const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && pending?.headersSent !== true) {
      const text = JSON.stringify(body);
      socket.write(
        `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy();
  };
}

/** The fastify (and through it Node http) options that set the timeouts. */
export function fastifyConnectionOptions(limits: ConnectionLimits): FastifyHttpOptions<Server> {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // fastify sets server.requestTimeout after creating the server (its default 0 switches Node's 5 minutes off);
    // Node checks headersTimeout against requestTimeout when the server is created, so both are given there too.
    requestTimeout: limits.requestTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    clientErrorHandler: clientErrorHandler(limits),
  };
}

/** Caps open connections in total (Node's maxConnections) and per client address; the excess is closed at once. */
function capConnections(server: Server, limits: ConnectionLimits): void {
  server.maxConnections = limits.maxConnections;
  // At most maxConnections entries: an address leaves the map with its last connection.
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    if (socket.remoteAddress === undefined) return; // already closed
    const address = clientAddressKey(socket.remoteAddress);
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * Closes a connection whose request was answered before its body was read (an early 401, 413 or 429): the
 * answer says `Connection: close`, and Node closes the socket once it is sent instead of reading a body that
 * may trickle forever.
 */
function closeAfterEarlyAnswer(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) void reply.header('connection', 'close');
  });
}

/** Applies the connection caps and the early-answer close to a server made with fastifyConnectionOptions. */
export function applyConnectionLimits(app: FastifyInstance, limits: ConnectionLimits): void {
  capConnections(app.server, limits);
  closeAfterEarlyAnswer(app);
}
