// Where S3 artifact blobs live: an `s3://bucket/prefix` location parsed, and the client's endpoint, region and credentials read from the usual AWS environment variables (pure functions).

import { LablogError } from '../../model/errors.js';

/** The scheme of an S3 location (`--artifacts s3://bucket/prefix`). */
export const S3_SCHEME = 's3://';
/** The region used when neither AWS_REGION nor AWS_DEFAULT_REGION is set (S3-compatible servers mostly ignore it). */
export const DEFAULT_S3_REGION = 'us-east-1';
/** S3's bucket name rule: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
export const S3_BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A segment of a key prefix: letters, digits, '.', '_' and '-' (no segment of only dots), so keys need no escaping anywhere. */
export const S3_PREFIX_SEGMENT_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]+$/;
/** The longest key prefix, in characters (S3 keys are at most 1,024 bytes; a blob's key adds 78 to the prefix). */
export const MAX_S3_PREFIX_LENGTH = 512;

/** A bucket and the key prefix (no leading or trailing '/', '' for none) under which the blobs live. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** What the S3 client is given: where the server is, its region, the credentials, and path-style addressing for a custom endpoint. */
export interface S3ClientSettings {
  /** AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (a MinIO, an s3rver); undefined: AWS's own endpoint for the region. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** From AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); undefined: the SDK's default chain (profiles, instance roles). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string } | undefined;
  /** Bucket in the path (`http://host/bucket/key`), as S3-compatible servers on a custom endpoint expect. */
  readonly forcePathStyle: boolean;
}

/** Parses `s3://bucket` or `s3://bucket/some/prefix`; a location that breaks a rule is an INVALID_OPTION naming it. */
export function parseS3Location(location: string): S3Location {
  const refuse = (rule: string): never => {
    throw new LablogError('INVALID_OPTION', `S3 location ${JSON.stringify(String(location).slice(0, 200))} ${rule}`, {
      option: 'artifacts',
      actual: String(location).slice(0, 200),
    });
  };
  if (typeof location !== 'string' || !location.startsWith(S3_SCHEME)) refuse(`must start with ${S3_SCHEME} (s3://bucket/prefix)`);
  const rest = location.slice(S3_SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (!S3_BUCKET_PATTERN.test(bucket)) {
    refuse(`names bucket ${JSON.stringify(bucket)}; a bucket is 3 to 63 lower-case letters, digits, '.' and '-' (S3_BUCKET_PATTERN)`);
  }
  if (prefix.length > MAX_S3_PREFIX_LENGTH)
    refuse(`has a prefix of ${prefix.length} characters; at most ${MAX_S3_PREFIX_LENGTH} (MAX_S3_PREFIX_LENGTH)`);
  if (prefix !== '' && !prefix.split('/').every((segment) => S3_PREFIX_SEGMENT_PATTERN.test(segment))) {
    refuse("has a prefix whose '/'-separated segments must be letters, digits, '.', '_' and '-' (S3_PREFIX_SEGMENT_PATTERN)");
  }
  return { bucket, prefix };
}

/** The location as written for messages and `ArtifactBlobs.location`: `s3://bucket/prefix`. */
export function formatS3Location({ bucket, prefix }: S3Location): string {
  return prefix === '' ? `${S3_SCHEME}${bucket}` : `${S3_SCHEME}${bucket}/${prefix}`;
}

/**
 * The client settings from the usual AWS environment variables: AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL),
 * AWS_REGION (or AWS_DEFAULT_REGION), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. A custom
 * endpoint is addressed path-style. Only one of the two keys set is an INVALID_OPTION (a half-given
 * credential would silently fall back to another one).
 */
export function s3ClientSettings(env: Readonly<Record<string, string | undefined>>): S3ClientSettings {
  const value = (name: string) => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const endpoint = value('AWS_ENDPOINT_URL_S3') ?? value('AWS_ENDPOINT_URL');
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new LablogError(
      'INVALID_OPTION',
      `AWS_ENDPOINT_URL(_S3) ${JSON.stringify(endpoint.slice(0, 200))} must be an http:// or https:// URL`,
      {
        option: 'AWS_ENDPOINT_URL',
        actual: endpoint.slice(0, 200),
      },
    );
  }
  const accessKeyId = value('AWS_ACCESS_KEY_ID');
  const secretAccessKey = value('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    const missing = accessKeyId === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY';
    throw new LablogError(
      'INVALID_OPTION',
      `AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together or not at all; ${missing} is not set`,
      {
        option: missing,
      },
    );
  }
  const sessionToken = value('AWS_SESSION_TOKEN');
  return {
    endpoint,
    region: value('AWS_REGION') ?? value('AWS_DEFAULT_REGION') ?? DEFAULT_S3_REGION,
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) }
        : undefined,
    forcePathStyle: endpoint !== undefined,
  };
}
