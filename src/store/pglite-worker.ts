/**
 * The worker thread that owns the embedded PGlite database (protocol:
 * ./pglite-thread.ts). A transaction stays open across messages: `begin`
 * starts PGlite's transaction, whose callback then waits for the `end`
 * message, committing or (by throwing) rolling back.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { parentPort } from 'node:worker_threads';
import type { PgliteReply, PgliteRequest } from './pglite-thread';

/** Thrown inside PGlite's transaction callback to roll it back. */
class Rollback extends Error {}

let db: PGlite | null = null;
const open = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<void> }>();

function reply(message: PgliteReply): void {
  parentPort!.postMessage(message);
}

async function handle(request: PgliteRequest): Promise<Omit<PgliteReply & { ok: true }, 'id' | 'ok'>> {
  if (request.kind === 'open') {
    const { PGlite } = await import('@electric-sql/pglite');
    db = await PGlite.create(request.dir);
    return {};
  }
  if (!db) throw new Error('the embedded database is not open');
  switch (request.kind) {
    case 'query': {
      const client = request.tx === undefined ? db : transaction(request.tx);
      const result = await client.query(request.text, request.params as unknown[]);
      return { rows: result.rows, affectedRows: result.affectedRows };
    }
    case 'exec':
      await (request.tx === undefined ? db : transaction(request.tx)).exec(request.script);
      return {};
    case 'begin':
      await begin(db, request.tx);
      return {};
    case 'end': {
      const entry = open.get(request.tx);
      if (!entry) throw new Error(`no open transaction ${request.tx}`);
      open.delete(request.tx);
      entry.end(request.commit);
      await entry.done;
      return {};
    }
    case 'close':
      await db.close();
      db = null;
      return {};
  }
}

function transaction(id: number): Transaction {
  const entry = open.get(id);
  if (!entry) throw new Error(`no open transaction ${id}`);
  return entry.tx;
}

/** Start transaction `id`, which stays open until its `end` message; resolves once it has begun. */
function begin(database: PGlite, id: number): Promise<void> {
  return new Promise((started, failed) => {
    let end!: (commit: boolean) => void;
    const ended = new Promise<boolean>((resolve) => (end = resolve));
    const done = database
      .transaction(async (tx) => {
        open.set(id, { tx, end, done });
        started();
        if (!(await ended)) throw new Rollback();
      })
      .then(
        () => undefined,
        (err) => {
          if (!(err instanceof Rollback)) throw err;
        },
      );
    // A transaction that could not begin rejects here before `started`; after it, `end` awaits `done`.
    done.catch(failed);
  });
}

/**
 * A transaction's requests are handled one after the other, in the order sent
 * (the main thread sends its statements without waiting for each other's
 * replies); requests of no transaction are handled at once. Only a
 * transaction's own requests may wait for each other: a statement of no
 * transaction waits inside PGlite for an open transaction to end, and that
 * transaction's `end` must not be queued behind it.
 */
const chains = new Map<number, Promise<void>>();

function answer(message: { id: number } & PgliteRequest): Promise<void> {
  return handle(message).then(
    (result) => reply({ id: message.id, ok: true, ...result }),
    (err: Error & { code?: string }) => reply({ id: message.id, ok: false, error: { message: err.message, code: err.code } }),
  );
}

parentPort!.on('message', (message: { id: number } & PgliteRequest) => {
  const tx = message.kind === 'begin' || message.kind === 'end' ? message.tx : message.kind === 'query' || message.kind === 'exec' ? message.tx : undefined;
  if (tx === undefined) {
    void answer(message);
    return;
  }
  const next = (chains.get(tx) ?? Promise.resolve()).then(() => answer(message));
  chains.set(tx, next);
  if (message.kind === 'end') void next.then(() => chains.delete(tx));
});
