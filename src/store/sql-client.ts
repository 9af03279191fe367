/**
 * The little of a SQL connection the stores use, so that one implementation of
 * the store's SQL (./sql-store.ts) runs on a PostgreSQL server (node-postgres)
 * and on the embedded PGlite alike. Parameters are $1, $2, ...; bytea values
 * are Uint8Array both ways.
 */

/** Rows of a statement and how many rows it touched. */
export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/** Runs statements. */
export interface SqlClient {
  /** One statement with parameters. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  /** A script of statements separated by semicolons, without parameters. */
  exec(script: string): Promise<void>;
}

/** A database: statements, transactions, and closing. */
export interface SqlDatabase extends SqlClient {
  /** Run `fn` in a transaction on one connection: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Advisory lock class of fmrlrec (the first key of the two-key advisory locks): "FMRL". */
export const ADVISORY_LOCK_CLASS = 0x464d524c;
