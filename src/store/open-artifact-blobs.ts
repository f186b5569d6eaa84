// Opens the artifact blob storage a server is given: a folder, or (`s3://bucket/prefix`) S3-compatible object storage, whose driver is loaded only then.

import { resolve } from 'node:path';
import { LablogError } from '../model/errors.js';
import type { ArtifactBlobs } from './artifact-blobs.js';
import { FileArtifactBlobs } from './files/file-artifact-blobs.js';

/** The artifact blobs at `spec`: `s3://bucket/prefix` or a folder path. */
export async function openArtifactBlobs(spec: string): Promise<ArtifactBlobs> {
  // The S3 driver (and @aws-sdk) is loaded only for an s3:// location.
  if (spec.startsWith('s3://')) return (await import('./s3/s3-artifact-blobs.js')).openS3ArtifactBlobs(spec);
  if (spec.length === 0)
    throw new LablogError('INVALID_OPTION', '--artifacts needs a folder or s3://bucket/prefix', { option: 'artifacts' });
  return new FileArtifactBlobs(resolve(spec));
}
