/**
 * The store on a PostgreSQL server (node-postgres), for one replica or many:
 * every replica opens the same database and schema; a user's batches
 * serialise on the user's row lock (./sql-store.ts); commits are durable as
 * the server's synchronous_commit makes them (on by default).
 *
 * URL: postgres://user:password@host:port/database[?schema=name]; the tables
 * live in `schema` (default "fmrlrec"), created at start when missing.
 */
import { Pool, PoolClient } from 'pg';
import { UserError } from '../util/errors';
import type { SqlClient, SqlDatabase, SqlResult } from './sql-client';
import { SqlStore } from './sql-store';
import type { LiveStore } from './types';

/** Default schema of the store's tables. */
export const DEFAULT_SCHEMA = 'fmrlrec';

/** A schema name the store accepts: lower-case letters, digits and _, not starting with a digit (no quoting needed). */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A PostgreSQL store URL taken apart. */
export interface PostgresLocation {
  /** The URL without the schema parameter, as node-postgres reads it. */
  connectionString: string;
  schema: string;
  /** The URL with its password hidden, for logs and errors. */
  display: string;
}

/** Check a postgres:// URL and take its schema parameter out; throws a UserError naming the problem. */
export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`"${url}" is not a PostgreSQL URL such as postgres://user@localhost:5432/fmrlrec`, 'bad-store-url');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UserError(`a PostgreSQL URL starts with postgres:// (got "${parsed.protocol}//...")`, 'bad-store-url');
  }
  const schema = parsed.searchParams.get('schema') ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema))
    throw new UserError(`the schema "${schema}" must be lower-case letters, digits and _ (at most 63, not starting with a digit)`, 'bad-store-url');
  parsed.searchParams.delete('schema');
  const connectionString = parsed.toString();
  if (parsed.password) parsed.password = '***';
  parsed.searchParams.delete('password');
  return { connectionString, schema, display: parsed.toString() };
}

/** How to open the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** See SqlStoreOptions.modelFingerprint. */
  modelFingerprint: string;
  /** Connections per replica. */
  poolSize?: number;
  /** Where connection problems after start are reported. */
  log?: (line: string) => void;
}

/** Connect, apply the migrations (once across replicas), check the model. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<LiveStore> {
  const where = parsePostgresUrl(url);
  const pool = new Pool({ connectionString: where.connectionString, options: `-c search_path=${where.schema}`, max: options.poolSize ?? 10 });
  pool.on('error', (err) => options.log?.(`PostgreSQL (${where.display}): idle connection lost: ${err.message}`));
  const description = `PostgreSQL store ${where.display} (schema ${where.schema})`;
  try {
    return await SqlStore.open(new PgDatabase(pool), description, {
      lockKey: where.schema,
      prelude: [`CREATE SCHEMA IF NOT EXISTS ${where.schema}`, `SET LOCAL search_path TO ${where.schema}`],
      modelFingerprint: options.modelFingerprint,
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot open the ${description}: ${(err as Error).message}`);
  }
}

/** node-postgres as a SqlDatabase. */
class PgDatabase implements SqlDatabase {
  constructor(private readonly pool: Pool) {}

  async query<R>(text: string, params: readonly unknown[] = []): Promise<SqlResult<R>> {
    return asResult<R>(await this.pool.query(text, params as unknown[]));
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(clientOf(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

function clientOf(client: PoolClient): SqlClient {
  return {
    query: async <R>(text: string, params: readonly unknown[] = []) => asResult<R>(await client.query(text, params as unknown[])),
    exec: async (script: string) => {
      await client.query(script);
    },
  };
}

function asResult<R>(r: { rows: unknown[]; rowCount: number | null }): SqlResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
}
