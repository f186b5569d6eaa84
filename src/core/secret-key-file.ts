// The secret key file of the embedded store: outside the store, mode 0600, created on first use, refused when others may read it.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { LablogError } from '../model/errors.js';
import { SECRET_KEY_BYTES, SecretBox, parseSecretKey } from './secret-box.js';

/** The environment variable naming the key file (default DEFAULT_SECRET_KEY_FILE). */
export const SECRET_KEY_FILE_ENV = 'LABLOG_SECRET_KEY_FILE';
/** Where the key file is when LABLOG_SECRET_KEY_FILE is not set: ~/.config/lablog/secret.key. */
export const DEFAULT_SECRET_KEY_FILE = join('.config', 'lablog', 'secret.key');
/** The key file's mode: read and write by its owner only. */
export const SECRET_KEY_FILE_MODE = 0o600;
/** Permission bits that must be clear on an existing key file (group and others). */
const FORBIDDEN_BITS = 0o077;

/** The key file's path: $LABLOG_SECRET_KEY_FILE, else ~/.config/lablog/secret.key. */
export function secretKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[SECRET_KEY_FILE_ENV];
  return given !== undefined && given.length > 0 ? given : join(homedir(), DEFAULT_SECRET_KEY_FILE);
}

function readKeyFile(path: string): Buffer {
  const mode = statSync(path).mode & 0o777;
  if ((mode & FORBIDDEN_BITS) !== 0) {
    // As ssh does with a private key: a key others can read protects nothing.
    throw new LablogError(
      'SECRET_KEY_ERROR',
      `the secret key file ${path} has mode ${mode.toString(8).padStart(4, '0')}; group and others must not have access (chmod 600 ${path})`,
      { reason: 'permissions', path, mode: mode.toString(8).padStart(4, '0') },
    );
  }
  return parseSecretKey(readFileSync(path, 'utf8'), path);
}

/**
 * Writes a new random key to `path` atomically: into a temporary file of mode 0600 (O_EXCL), then linked to
 * `path`, which fails if another process linked its key first (then that key is the one used).
 */
function createKeyFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', SECRET_KEY_FILE_MODE);
  try {
    writeSync(fd, `${randomBytes(SECRET_KEY_BYTES).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/** The secret box of the key file at `path`, the file created on first use (`create`: false only reads). */
export function openKeyFile(path: string, create: boolean): SecretBox {
  try {
    try {
      return new SecretBox(readKeyFile(path), path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !create) throw error;
    }
    createKeyFile(path);
    return new SecretBox(readKeyFile(path), path);
  } catch (error) {
    if (error instanceof LablogError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new LablogError(
      'SECRET_KEY_ERROR',
      code === 'ENOENT'
        ? `no secret key file at ${path}: secrets set in this store were sealed with a key that is not here (set ${SECRET_KEY_FILE_ENV})`
        : `cannot use the secret key file ${path}: ${(error as Error).message}`,
      { reason: code === 'ENOENT' ? 'missing' : 'malformed', path },
      { cause: error },
    );
  }
}
