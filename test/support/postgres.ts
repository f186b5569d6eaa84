// Test support: the PostgreSQL server to test against (LABLOG_TEST_POSTGRES_URL) and a fresh database per test file.

import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** How long checking the server may take before the PostgreSQL tests are skipped. */
const CONNECT_TIMEOUT_MS = 5_000;

/** Runs one statement on its own connection. */
async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * LABLOG_TEST_POSTGRES_URL (set by you, or by test/global-setup.ts which starts a throwaway server) when a
 * server answers there; undefined otherwise (a set but unreachable URL is reported on stderr).
 */
export async function postgresUrl(): Promise<string | undefined> {
  const url = await reachableUrl();
  // CI sets LABLOG_REQUIRE_POSTGRES=1: there the PostgreSQL tests must run, never be skipped.
  if (url === undefined && process.env['LABLOG_REQUIRE_POSTGRES'] === '1') {
    throw new Error('LABLOG_REQUIRE_POSTGRES=1 but no PostgreSQL is reachable at LABLOG_TEST_POSTGRES_URL');
  }
  return url;
}

async function reachableUrl(): Promise<string | undefined> {
  const url = process.env['LABLOG_TEST_POSTGRES_URL'];
  if (!url) return undefined;
  try {
    await execute(url, 'SELECT 1');
    return url;
  } catch (cause) {
    console.warn(`LABLOG_TEST_POSTGRES_URL is set but no PostgreSQL answers there: ${(cause as Error).message || String(cause)}`);
    return undefined;
  }
}

/** Creates an empty database with a unique name on the server of `baseUrl`; drop() removes it. */
export async function freshDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  // Only [a-z0-9_]: safe to put in the statement as an identifier.
  const name = `lablog_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await execute(baseUrl, `CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE closes connections a failed test left open.
    drop: () => execute(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
