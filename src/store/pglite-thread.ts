/**
 * PGlite on a thread of its own (node:worker_threads). PGlite runs each
 * statement synchronously inside WebAssembly, and its file writes are
 * synchronous too: on the server's thread every commit would stall every
 * request in flight for milliseconds. Here the server's thread only posts
 * messages; the worker (./pglite-worker.ts) owns the database.
 *
 * Protocol: every request carries an id and gets one reply with that id.
 *   open {dir}                      → {}            (first message; creates the database when missing)
 *   query {text, params, tx?}       → {rows, affectedRows}
 *   exec {script, tx?}              → {}
 *   begin {tx}                      → {}            (transaction tx, numbered by the sender, stays open until end)
 *   end {tx, commit}                → {}            (commit, or roll back)
 *   close                           → {}
 * The worker handles a transaction's requests one at a time, in the order
 * sent, so its statements need not wait for each other's replies: `begin` is
 * sent without waiting, and statements sent together (Promise.all) cost one
 * round trip. Requests of no transaction are handled at once. An error reply is {error: {message, code?}}; the code is
 * PostgreSQL's SQLSTATE, so that the store's retry of deadlocks works unchanged.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SqlClient, SqlDatabase, SqlResult } from './sql-client';

/** A request to the worker (without its id). */
export type PgliteRequest =
  | { kind: 'open'; dir: string }
  | { kind: 'query'; text: string; params: readonly unknown[]; tx?: number }
  | { kind: 'exec'; script: string; tx?: number }
  | { kind: 'begin'; tx: number }
  | { kind: 'end'; tx: number; commit: boolean }
  | { kind: 'close' };

/** The worker's reply to request `id`. */
export type PgliteReply = { id: number } & (
  { ok: true; rows?: unknown[]; affectedRows?: number; tx?: number } | { ok: false; error: { message: string; code?: string } }
);

/** An error the worker's database raised, with PostgreSQL's SQLSTATE as `code`. */
class PgliteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Open (creating when missing) the PGlite database in `dir` on a worker thread. */
export async function openPgliteThread(dir: string): Promise<SqlDatabase> {
  const worker = new Worker(path.join(__dirname, 'pglite-worker.js'));
  const db = new PgliteThread(worker);
  try {
    await db.request({ kind: 'open', dir });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return db;
}

/** The main thread's side: a SqlDatabase whose statements run on the worker. */
class PgliteThread implements SqlDatabase {
  private nextId = 1;
  private nextTx = 1;
  private readonly pending = new Map<number, { resolve: (reply: PgliteReply & { ok: true }) => void; reject: (err: Error) => void }>();
  private failure: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: PgliteReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(new PgliteError(reply.error.message, reply.error.code));
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the embedded database's thread exited (code ${code})`)));
  }

  /** Send one request; resolves with the worker's reply, rejects with its error. */
  request(message: PgliteRequest): Promise<PgliteReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    });
  }

  query<R>(text: string, params: readonly unknown[] = [], tx?: number): Promise<SqlResult<R>> {
    return this.request({ kind: 'query', text, params, tx }).then((reply) => {
      const rows = (reply.rows ?? []) as R[];
      return { rows, rowCount: reply.affectedRows ?? rows.length };
    });
  }

  async exec(script: string, tx?: number): Promise<void> {
    await this.request({ kind: 'exec', script, tx });
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const tx = this.nextTx++;
    // Not awaited here: the worker begins it before it runs the statements sent after; a failure to begin rejects them all.
    const begun = this.request({ kind: 'begin', tx });
    begun.catch(() => undefined);
    const client: SqlClient = {
      query: async <R>(text: string, params?: readonly unknown[]) => (await Promise.all([begun, this.query<R>(text, params, tx)]))[1],
      exec: async (script) => {
        await Promise.all([begun, this.exec(script, tx)]);
      },
    };
    let result: T;
    try {
      result = await fn(client);
    } catch (err) {
      await this.request({ kind: 'end', tx, commit: false }).catch(() => undefined);
      throw err;
    }
    await Promise.all([begun, this.request({ kind: 'end', tx, commit: true })]);
    return result;
  }

  async close(): Promise<void> {
    try {
      if (!this.failure) await this.request({ kind: 'close' });
    } finally {
      this.failure ??= new Error('the embedded database is closed');
      await this.worker.terminate();
    }
  }
}
