// Opens the artifact blob storage a server is given: a folder, or (`s3://bucket/prefix`) S3-compatible object storage, whose driver is loaded only then.

import { resolve } from 'node:path';
import { LablogError } from '../model/errors.js';
import type { ArtifactBlobs } from './artifact-blobs.js';
import { FileArtifactBlobs } from './files/file-artifact-blobs.js';

/** The artifact blobs at `spec`: `s3://bucket/prefix` or a folder path. */
export async function openArtifactBlobs(spec: string): Promise<ArtifactBlobs> {
  if (spec.startsWith('s3://')) {
    throw new LablogError('INVALID_OPTION', `--artifacts ${spec}: S3 storage is not available in this build yet`, { option: 'artifacts' });
  }
  if (spec.length === 0)
    throw new LablogError('INVALID_OPTION', '--artifacts needs a folder or s3://bucket/prefix', { option: 'artifacts' });
  return new FileArtifactBlobs(resolve(spec));
}
