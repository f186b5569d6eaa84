// Test support: a local S3-compatible server (s3rver, a protocol-level stand-in for AWS S3 and MinIO) as a child process on 127.0.0.1, with one bucket.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fixture that runs s3rver (test/fixtures/s3-server.mjs). */
const S3_SERVER_FIXTURE = fileURLToPath(new URL('../fixtures/s3-server.mjs', import.meta.url));
/** How long s3rver may take to start listening, and to exit once told to. */
export const S3_SERVER_START_TIMEOUT_MS = 20_000;
export const S3_SERVER_STOP_TIMEOUT_MS = 5_000;
/** s3rver's fixed account: the credentials it checks signatures against. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A running s3rver: where it listens, its bucket, and the AWS environment variables that point a client at it. */
export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY for this server. */
  readonly env: Readonly<Record<string, string>>;
  /** The folder s3rver keeps its objects in. */
  readonly directory: string;
  readonly child: ChildProcess;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver on 127.0.0.1 (a free port) in a new temp folder with bucket `bucket`, in a child process of
 * its own (so a test's memory measurement is of the client alone), and resolves once it listens. It runs
 * with `--openssl-legacy-provider`: s3rver's ListObjectsV2 continuation tokens use DES.
 */
export async function startS3Server(bucket = 'lablog-test'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'lablog-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', S3_SERVER_FIXTURE, directory, bucket], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`s3rver did not start within ${S3_SERVER_START_TIMEOUT_MS} ms: ${output}`));
    }, S3_SERVER_START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /s3rver listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code ?? signal}) before listening: ${output}`));
    });
  });
  child.removeAllListeners('exit');
  const region = 'us-east-1';
  return {
    endpoint,
    bucket,
    region,
    directory,
    child,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), S3_SERVER_STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
