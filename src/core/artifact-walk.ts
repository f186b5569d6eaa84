// The files an artifact path holds: one regular file, or a directory's regular files found recursively (symlinks to files followed; loops, sockets, FIFOs and devices refused).

import { lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { LablogError } from '../model/errors.js';
import { driverCodeOf } from '../model/error-codes.js';
import { MAX_ARTIFACT_BYTES, MAX_ARTIFACT_FILES, assertArtifactPath } from '../model/artifact.js';

/** A regular file to copy: its path in the artifact, where it is, and its size and time when found (checked again after the copy). */
export interface SourceFile {
  readonly path: string;
  readonly absolute: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface SourceListing {
  readonly type: 'file' | 'directory';
  readonly files: readonly SourceFile[];
  readonly size: number;
}

/** An artifact source that cannot be logged: INVALID_OPTION naming the path and why. */
export function badSource(path: string, why: string, cause?: unknown): LablogError {
  return new LablogError(
    'INVALID_OPTION',
    `logArtifact: ${path} ${why}; nothing was logged`,
    { option: 'source', actual: path },
    ...(cause === undefined ? [] : [{ cause }]),
  );
}

/** What kind of file `stats` is, for a refusal. */
function kindOf(stats: Stats): string {
  if (stats.isSocket()) return 'a socket';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

/** stat() following symlinks, its failures as a refusal (a loop, a dangling link, no permission). */
async function follow(path: string, what: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (cause) {
    const code = driverCodeOf(cause);
    if (code === 'ELOOP') throw badSource(path, `is a symlink loop (${what})`, cause);
    if (code === 'ENOENT')
      throw badSource(path, what === 'the path given' ? 'does not exist' : 'is a symlink to nothing (dangling)', cause);
    throw badSource(path, `cannot be read (${code ?? (cause as Error).message})`, cause);
  }
}

/**
 * Lists what `source` holds. A path given that is a symlink is followed (to a file or a directory); inside a
 * directory, a symlink is followed only to a regular file. Fails before anything is copied, naming the path:
 * no such path, a symlink loop or dangling link, a socket, FIFO or device, a symlink to a directory inside
 * one, more than MAX_ARTIFACT_FILES files or MAX_ARTIFACT_BYTES bytes, a file path breaking the path rules.
 */
export async function listSourceFiles(source: string, name: string): Promise<SourceListing> {
  const top = await follow(source, 'the path given');
  if (top.isFile()) {
    if (top.size > MAX_ARTIFACT_BYTES) throw tooLarge(source, name, top.size);
    // A file artifact's one file is named as the file.
    const path = basename(source);
    assertArtifactPath(path);
    return { type: 'file', files: [{ path, absolute: source, size: top.size, mtimeMs: top.mtimeMs }], size: top.size };
  }
  if (!top.isDirectory()) throw badSource(source, `is ${kindOf(top)}, not a regular file or a directory`);
  const files: SourceFile[] = [];
  let size = 0;
  const pending: string[] = [''];
  while (pending.length > 0) {
    const prefix = pending.pop()!;
    const folder = prefix === '' ? source : join(source, prefix);
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (cause) {
      throw badSource(folder, `cannot be listed (${driverCodeOf(cause) ?? (cause as Error).message})`, cause);
    }
    for (const entry of entries) {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const absolute = join(source, path);
      let stats: Stats;
      if (entry.isDirectory()) {
        pending.push(path);
        continue;
      } else if (entry.isSymbolicLink()) {
        stats = await follow(absolute, 'inside the directory');
        if (stats.isDirectory()) throw badSource(absolute, 'is a symlink to a directory (only symlinks to regular files are followed)');
        if (!stats.isFile()) throw badSource(absolute, `is a symlink to ${kindOf(stats)}, not to a regular file`);
      } else if (entry.isFile()) {
        try {
          stats = await lstat(absolute);
        } catch (cause) {
          throw badSource(absolute, `cannot be read (${driverCodeOf(cause) ?? (cause as Error).message})`, cause);
        }
      } else {
        throw badSource(absolute, `is ${kindOf(await lstat(absolute))}: an artifact holds regular files only`);
      }
      assertArtifactPath(path);
      files.push({ path, absolute, size: stats.size, mtimeMs: stats.mtimeMs });
      size += stats.size;
      if (files.length > MAX_ARTIFACT_FILES) {
        throw new LablogError(
          'LIMIT_EXCEEDED',
          `logArtifact: ${source} holds more than ${MAX_ARTIFACT_FILES} files (MAX_ARTIFACT_FILES); nothing was logged`,
          { option: 'source', key: name, limit: MAX_ARTIFACT_FILES, actual: files.length },
        );
      }
      if (size > MAX_ARTIFACT_BYTES) throw tooLarge(source, name, size);
    }
  }
  if (files.length === 0) throw badSource(source, 'is a directory without regular files');
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { type: 'directory', files, size };
}

/** An artifact over MAX_ARTIFACT_BYTES. */
export function tooLarge(source: string, name: string, size: number): LablogError {
  return new LablogError(
    'LIMIT_EXCEEDED',
    `logArtifact: ${source} is ${size} bytes; an artifact is at most ${MAX_ARTIFACT_BYTES} bytes (MAX_ARTIFACT_BYTES); nothing was logged`,
    { option: 'source', key: name, limit: MAX_ARTIFACT_BYTES, actual: size },
  );
}
