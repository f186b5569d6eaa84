// Artifact publisher: sends an experiment's artifacts not yet acknowledged — each file's bytes in chunks from where the server's upload stands (nothing the project holds is sent again), verified there, then the record.

import type { ArtifactFile, ArtifactRecord } from '../model/artifact.js';
import { ARTIFACT_CHUNK_BYTES } from '../model/artifact.js';
import type { LablogError } from '../model/errors.js';
import type { ArtifactBlobs } from '../store/artifact-blobs.js';
import type { PublishSource } from '../store/publish-source.js';
import { isRetryable, type RemoteClient, type RetryPolicy } from './remote-client.js';

/** What publishing an experiment's artifacts did: artifacts and bytes sent, and the artifacts refused (with why). */
export interface ArtifactPublication {
  readonly artifacts: number;
  readonly bytesSent: number;
  readonly problems: readonly { readonly artifact: ArtifactRecord; readonly error: LablogError }[];
}

interface BlobStatus {
  readonly stored: boolean;
  readonly offset: number;
}

/** Reads `length` bytes of a blob from `start` into one buffer (a chunk: at most ARTIFACT_CHUNK_BYTES). */
async function readChunk(blobs: ArtifactBlobs, sha256: string, start: number, length: number): Promise<Buffer> {
  const stream = await blobs.read(sha256, { start, end: start + length - 1 });
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** Uploads one file's bytes to `project` unless it holds them; resumes from the server's offset. Returns the bytes sent. */
async function uploadFile(
  client: RemoteClient,
  blobs: ArtifactBlobs,
  project: string,
  file: ArtifactFile,
  retry: RetryPolicy,
): Promise<number> {
  const path = `/api/v1/projects/${encodeURIComponent(project)}/artifact-blobs/${file.sha256}`;
  const status = await client.call<BlobStatus>('GET', path, undefined, retry);
  if (status.stored) return 0;
  let offset = status.offset > file.size ? 0 : status.offset;
  let sent = 0;
  while (offset < file.size) {
    const length = Math.min(ARTIFACT_CHUNK_BYTES, file.size - offset);
    const chunk = await readChunk(blobs, file.sha256, offset, length);
    try {
      offset = (await client.call<{ offset: number }>('PUT', `${path}/chunks/${offset}`, chunk, retry)).offset;
      sent += chunk.length;
    } catch (error) {
      // The server's upload is elsewhere (a chunk sent again after a lost answer, another uploader): go on from there.
      if ((error as LablogError).code !== 'UPLOAD_CONFLICT') throw error;
      offset = (error as LablogError<'UPLOAD_CONFLICT'>).details.expected;
    }
  }
  await client.call('POST', `${path}/complete`, { size: file.size }, retry);
  return sent;
}

/**
 * Publishes the artifacts of experiment `experimentId` (published before) that `client`'s remote has not
 * acknowledged. Throws what the remote cannot be reached with (retryable); an artifact the remote refuses is
 * returned as a problem and the others go on.
 */
export async function publishArtifacts(
  source: PublishSource,
  client: RemoteClient,
  experimentId: string,
  project: string,
  retry: RetryPolicy,
): Promise<ArtifactPublication> {
  const blobs = source.artifactBlobs();
  let artifacts = 0;
  let bytesSent = 0;
  const problems: { artifact: ArtifactRecord; error: LablogError }[] = [];
  for (const artifact of source.artifacts().listArtifacts(experimentId)) {
    if (source.artifactAcked(client.url, artifact.id)) continue;
    try {
      for (const file of artifact.files) bytesSent += await uploadFile(client, blobs, project, file, retry);
      await client.call('PUT', `/api/v1/experiments/${experimentId}/artifacts/${artifact.id}`, artifact, retry);
      source.ackArtifact(client.url, artifact.id, Date.now());
      artifacts++;
    } catch (error) {
      if (isRetryable(error) || (error as LablogError).code === 'UNAUTHENTICATED') throw error;
      problems.push({ artifact, error: error as LablogError });
    }
  }
  return { artifacts, bytesSent, problems };
}
