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

/**
 * The store's database failed: unreachable, closed, or an error of its own
 * (`code`: PostgreSQL's SQLSTATE when it gave one). The service answers 503
 * (try again later) rather than 500: the request was fine.
 */
export class StoreError extends Error {
  readonly code?: string;

  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'StoreError';
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === 'string') this.code = code;
  }
}

/** `db` with every failure of its own turned into a {@link StoreError} (an error thrown by a transaction's callback passes unchanged). */
export function withStoreErrors(db: SqlDatabase): SqlDatabase {
  const wrap = <T>(promise: Promise<T>): Promise<T> =>
    promise.catch((err: unknown) => {
      throw err instanceof StoreError ? err : new StoreError(err);
    });
  const client = (c: SqlClient): SqlClient => ({
    query: (text, params) => wrap(c.query(text, params)),
    exec: (script) => wrap(c.exec(script)),
  });
  return {
    ...client(db),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) => {
      let fromCallback: { error: unknown } | null = null;
      return db
        .transaction((tx) =>
          fn(client(tx)).catch((err: unknown) => {
            fromCallback = { error: err };
            throw err;
          }),
        )
        .catch((err: unknown) => {
          if (fromCallback && fromCallback.error === err) throw err;
          throw err instanceof StoreError ? err : new StoreError(err);
        });
    },
    close: () => db.close(),
  };
}
