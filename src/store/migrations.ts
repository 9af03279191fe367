/**
 * Versioned schema of the store: numbered SQL steps, recorded in
 * `schema_migrations`, applied at start in one transaction. On PostgreSQL the
 * transaction first takes an advisory lock keyed by the schema, so replicas
 * starting together apply each step once: the second waits, then finds the
 * steps done. Add a step at the end; never edit a released one.
 */
import { UserError } from '../util/errors';
import { ADVISORY_LOCK_CLASS, SqlClient, SqlDatabase } from './sql-client';

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The schema, step by step. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users and events',
    sql: `
      CREATE TABLE users (
        id text PRIMARY KEY,
        length integer NOT NULL DEFAULT 0,
        version integer NOT NULL DEFAULT 0,
        state bytea,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE events (
        id text PRIMARY KEY,
        user_id text NOT NULL,
        position integer NOT NULL,
        item text NOT NULL,
        ts double precision,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, position)
      );`,
  },
  {
    version: 2,
    name: 'added items',
    sql: `
      CREATE TABLE items (
        seq integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        asin text NOT NULL UNIQUE,
        title text NOT NULL,
        vector bytea NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    version: 3,
    name: 'store metadata (the model whose states the users table holds)',
    sql: 'CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);',
  },
  {
    version: 4,
    name: "pair counts the events add to the model's count prior",
    sql: 'CREATE TABLE pair_counts (first text NOT NULL, second text NOT NULL, weight double precision NOT NULL, PRIMARY KEY (first, second));',
  },
];

/** How to run the migrations. */
export interface MigrationOptions {
  /** Key of the advisory lock that serialises starts (the schema's name). */
  lockKey: string;
  /** Statements run under the lock before the steps (e.g. CREATE SCHEMA). */
  prelude?: readonly string[];
  /** Run under the same lock after the steps, in the same transaction. */
  after?: (tx: SqlClient) => Promise<void>;
}

/** Apply the steps not yet recorded, in order, in one transaction; resolves with the versions applied now. */
export async function applyMigrations(db: SqlDatabase, options: MigrationOptions, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ADVISORY_LOCK_CLASS, options.lockKey]);
    for (const statement of options.prelude ?? []) await tx.query(statement);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) throw new UserError(`the store's schema is at version ${newest}, newer than this fmrlrec knows (${known}): upgrade fmrlrec`);
    const applied: number[] = [];
    for (const step of migrations) {
      if (done.has(step.version)) continue;
      await tx.exec(step.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [step.version, step.name]);
      applied.push(step.version);
    }
    if (options.after) await options.after(tx);
    return applied;
  });
}
