// HTTP proxies for fault tests on loopback: one that loses the answer to the first matching request (the server handled it), one that holds matching requests before forwarding them.

import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';

export interface TestProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** A request's method and path, for a proxy to decide what to do with it. */
export type RequestMatch = (method: string, path: string) => boolean;

async function listen(handle: (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer) => void): Promise<TestProxy> {
  const proxy: Server = createHttpServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => handle(incoming, outgoing, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => proxy.close(() => resolve())) };
}

/** Sends the request on to `target` and calls `answered` with the whole answer. */
function forward(
  target: URL,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  body: Buffer,
  answered: (status: number, headers: IncomingMessage['headers'], bytes: Buffer) => void,
): void {
  const upstream = httpRequest(
    { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
    (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => answered(answer.statusCode ?? 502, answer.headers, Buffer.concat(chunks)));
    },
  );
  upstream.on('error', () => outgoing.socket?.destroy());
  upstream.end(body);
}

/** A proxy to `target` that, once, lets the server answer a matching request (with 200) and then cuts the client's connection: the answer is lost. */
export async function answerLosingProxy(target: string, matches: RequestMatch): Promise<TestProxy & { lost(): number }> {
  let lost = 0;
  const upstream = new URL(target);
  const proxy = await listen((incoming, outgoing, body) =>
    forward(upstream, incoming, outgoing, body, (status, headers, bytes) => {
      if (lost === 0 && status === 200 && matches(incoming.method ?? '', incoming.url ?? '')) {
        lost++;
        outgoing.socket?.destroy();
        return;
      }
      outgoing.writeHead(status, headers);
      outgoing.end(bytes);
    }),
  );
  return { ...proxy, lost: () => lost };
}

/** A proxy to `target` that holds each matching request `delayMs` before forwarding it. */
export async function delayingProxy(target: string, matches: RequestMatch, delayMs: number): Promise<TestProxy> {
  const upstream = new URL(target);
  return listen((incoming, outgoing, body) =>
    setTimeout(
      () =>
        forward(upstream, incoming, outgoing, body, (status, headers, bytes) => {
          outgoing.writeHead(status, headers);
          outgoing.end(bytes);
        }),
      matches(incoming.method ?? '', incoming.url ?? '') ? delayMs : 0,
    ),
  );
}
