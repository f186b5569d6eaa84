// lablog/server: run a lablog server in-process, over SQLite or PostgreSQL, and make API keys for it.

export {
  createServer,
  startServer,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_BODY_LIMIT,
  DEFAULT_BLOB_LIMIT,
  type ServerOptions,
  type RunningServer,
} from './server.js';
export { openServerBackend, DEFAULT_SERVER_DB } from '../store/open-server-backend.js';
export { createApiKey, hashKey } from './api-keys.js';
export { HTTP_STATUS } from './http-errors.js';
export { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limiter.js';
export type { ServerBackend } from '../store/server-backend.js';
