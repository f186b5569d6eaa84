// Blob ownership in the server stores themselves (SQLite and PostgreSQL): the quota under concurrent uploads, collection in bounded batches.

import { describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { openServerBackend } from '../src/store/open-server-backend.js';
import { SERVER_DATABASES } from './support/server-process.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.each(SERVER_DATABASES)('server store blobs on $kind', ({ create }) => {
  it('charges the quota atomically: of 10 concurrent uploads that each fit alone, exactly as many as fit together succeed', async () => {
    const backend = await openServerBackend(await create());
    try {
      const blobs = Array.from({ length: 10 }, (_, i) => Buffer.from(`blob ${i} ${randomUUID()}`.padEnd(100, '.')));
      const quota = 3 * 100 + 50;
      const results = await Promise.allSettled(blobs.map((b) => backend.uploadBlob('alice', sha256(b), b, quota, Date.now())));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(refused).toHaveLength(7);
      for (const r of refused)
        expect(r.reason).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { project: 'alice', limit: quota, actual: 400 } });
      const owned = await backend.ownedBlobs('alice', blobs.map(sha256), Date.now());
      expect(owned.size).toBe(3);
      // Another project's quota is its own.
      await backend.uploadBlob('bob', sha256(blobs[0]!), blobs[0]!, quota, Date.now());
      expect((await backend.ownedBlobs('bob', blobs.map(sha256), Date.now())).size).toBe(1);
    } finally {
      await backend.close();
    }
  });

  it('collects expired unreferenced ownership in batches of at most maxOwners, and bytes only when no project owns them', async () => {
    const backend = await openServerBackend(await create());
    try {
      const uploadedAt = 1_000_000;
      const blobs = Array.from({ length: 5 }, (_, i) => Buffer.from(`collect ${i} ${randomUUID()}`));
      for (const b of blobs) await backend.uploadBlob('alice', sha256(b), b, 1_000_000, uploadedAt);
      await backend.uploadBlob('bob', sha256(blobs[0]!), blobs[0]!, 1_000_000, uploadedAt + 10_000);
      // Not yet past the grace period.
      expect(await backend.collectBlobs(5_000, uploadedAt + 4_000, 2)).toEqual({ owners: 0, blobs: 0, bytes: 0 });
      const passes = [];
      for (let i = 0; i < 4; i++) passes.push(await backend.collectBlobs(5_000, uploadedAt + 6_000, 2));
      expect(passes.map((p) => p.owners)).toEqual([2, 2, 1, 0]);
      // Bob still owns blob 0 (refreshed later): its bytes stay.
      expect(passes.reduce((n, p) => n + p.blobs, 0)).toBe(4);
      expect(await backend.missingBlobs(blobs.map(sha256))).toEqual(blobs.slice(1).map(sha256));
      expect((await backend.collectBlobs(5_000, uploadedAt + 16_000, 2)).blobs).toBe(1);
      expect(await backend.missingBlobs(blobs.map(sha256))).toEqual(blobs.map(sha256));
    } finally {
      await backend.close();
    }
  });
});
