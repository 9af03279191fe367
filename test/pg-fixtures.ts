/**
 * PostgreSQL for the store tests: the server named by FMRLREC_TEST_PG (default
 * postgres://postgres@127.0.0.1:5432/test), a schema of their own per run,
 * dropped at the end. Without a server the tests skip, saying why, except in
 * CI (CI=true), where a missing server is a failure.
 */
import { Client } from 'pg';

/** The test server's URL. */
export const TEST_PG_URL = process.env.FMRLREC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when the server answers, else the reason to skip; throws in CI. */
export async function postgresUnavailable(): Promise<string | null> {
  const client = new Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    const reason = `PostgreSQL at ${TEST_PG_URL} does not answer (${(err as Error).message}); set FMRLREC_TEST_PG to a server`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a missing server is a failure)`, { cause: err });
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh schema name for this process. */
export function testSchema(tag: string): string {
  return `fmrlrec_test_${tag}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
}

/** The --store URL of a schema on the test server. */
export function schemaUrl(schema: string): string {
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Run SQL on the test server (search_path = schema when given). */
export async function onTestServer<T>(fn: (client: Client) => Promise<T>, schema?: string): Promise<T> {
  const client = new Client({ connectionString: TEST_PG_URL, options: schema ? `-c search_path=${schema}` : undefined });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drop a test schema and everything in it. */
export function dropSchema(schema: string): Promise<void> {
  return onTestServer(async (c) => {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
}
