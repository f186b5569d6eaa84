// WAL sync: puts every transaction committed to a SQLite store (WAL, synchronous=NORMAL) on stable storage.

import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * With WAL and synchronous=NORMAL a commit is in the WAL but not fsynced; SQLite fsyncs the WAL before a
 * checkpoint copies frames into the database file, and the database file after, and only restarts the
 * WAL after both. So one fsync of the WAL covers every commit made before it, by any connection: on
 * Linux, fsync flushes the file whichever descriptor wrote to it. (A checkpoint would not do: with a
 * reader holding an older snapshot, it copies nothing and fsyncs nothing.) The folder is fsynced once, at
 * the first sync: the WAL and a new database file are entries in it.
 *
 * Descriptors are opened at construction (when the store's connection has made the WAL) and kept: a sync
 * then reaches the files even if they are renamed or unlinked. No lock lives on either (SQLite locks the
 * database file, whose descriptors must never be closed behind its back).
 */
export class WalSync {
  readonly #file: string;
  #walFd: number | undefined;
  #folderFd: number | undefined;
  #folderSynced = false;

  constructor(file: string) {
    this.#file = file;
    this.#walFd = openQuietly(`${file}-wal`);
    this.#folderFd = openQuietly(dirname(file));
  }

  /** Fsyncs the WAL (and the folder, the first time); throws what the file system threw. */
  sync(): void {
    this.#walFd ??= openSync(`${this.#file}-wal`, 'r');
    fsyncSync(this.#walFd);
    if (!this.#folderSynced) {
      this.#folderFd ??= openSync(dirname(this.#file), 'r');
      fsyncSync(this.#folderFd);
      this.#folderSynced = true;
    }
  }

  close(): void {
    for (const fd of [this.#walFd, this.#folderFd]) if (fd !== undefined) closeSync(fd);
    this.#walFd = this.#folderFd = undefined;
  }
}

function openQuietly(file: string): number | undefined {
  try {
    return openSync(file, 'r');
  } catch {
    return undefined; // Tried again at the first sync, which reports the error.
  }
}
