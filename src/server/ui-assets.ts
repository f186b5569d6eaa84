// The web UI's built files (dist/web, made by `npm run build`), served at / and /assets/* with no CDN.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** dist/web beside the running server (dist/server), or the repository's dist/web when run from src/. */
function uiDirectory(): string | undefined {
  for (const candidate of ['../web/', '../../dist/web/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

/** Routes of the UI's files; they need no key (they hold no data: the app asks the API, which does). */
export const UI_ASSET_ROUTES = ['/', '/assets/:file'];

export function registerUiAssets(app: FastifyInstance): void {
  const dir = uiDirectory();
  // Every file is read once at start: a request names a file of this map, never a path.
  const files = new Map<string, Buffer>();
  let index: Buffer | undefined;
  if (dir !== undefined) {
    try {
      for (const name of readdirSync(`${dir}assets`)) files.set(name, readFileSync(`${dir}assets/${name}`));
      index = readFileSync(`${dir}index.html`);
    } catch {
      // Being rebuilt right now: the server runs, and / says the UI is not built (restart after the build).
      files.clear();
    }
  }

  app.get('/', async (_request, reply) => {
    if (index === undefined) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The lablog UI is not built: run `npm run build`, then start the server again.\n');
    }
    return reply.type(CONTENT_TYPES['.html']!).header('cache-control', 'no-cache').send(index);
  });

  app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
    const name = request.params.file;
    const bytes = files.get(name);
    if (bytes === undefined) return reply.code(404).send({ error: 'NOT_FOUND', message: `no UI file '${name}'`, details: {} });
    // Chunks carry a content hash in their name and never change; the entry files keep their names.
    const hashed = /-[A-Z0-9]{8}\.(js|css)$/.test(name);
    return reply
      .type(CONTENT_TYPES[extname(name)] ?? 'application/octet-stream')
      .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(bytes);
  });
}
