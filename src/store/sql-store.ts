/**
 * The store's SQL, one implementation for both stores (the embedded PGlite
 * and a PostgreSQL server), over ./sql-client.ts.
 *
 * A batch of events is one transaction (the embedded store commits the
 * batches that wait for its one connection together: ./group-commit.ts):
 *   1. create the rows of new users (ON CONFLICT DO NOTHING) and lock every
 *      user of the batch with SELECT ... ORDER BY id FOR UPDATE: a second batch
 *      for one of these users, from any replica, waits here until this one
 *      commits, then reads the committed row; locks are taken in id order, so
 *      two batches never wait on each other in a cycle;
 *   2. find which event ids are already recorded: those are duplicates;
 *   3. advance each user's state over its new events (the caller's function);
 *   4. insert the new events at the next positions of their users' histories
 *      and write the users' rows back; commit.
 * Step 4 inserts with ON CONFLICT (id) DO NOTHING: if an id was committed
 * meanwhile by a batch of another user (a client reusing an id), the insert
 * comes up short and the whole transaction is retried, then counting that id
 * as a duplicate. Deadlocks and serialisation failures are retried as well.
 */
import { UserError } from '../util/errors';
import { applyMigrations, MigrationOptions } from './migrations';
import { SqlClient, SqlDatabase, withStoreErrors } from './sql-client';
import type { AddedItem, AdvanceStates, ApplyResult, LiveEvent, LiveStore, NewItem, PairIncrement, StoredUser, UserUpdate } from './types';

/** Tries of a batch that meets a deadlock, a serialisation failure or a concurrent insert of one of its ids. */
const MAX_ATTEMPTS = 8;

/** PostgreSQL error codes after which a transaction is simply run again. */
const RETRYABLE_CODES = new Set(['40001', '40P01']);

/** A concurrent batch committed one of this batch's event ids first. */
class EventIdRace extends Error {}

interface UserRow {
  id: string;
  length: number;
  version: number;
  state: Uint8Array | null;
}

interface ItemRow {
  seq: number;
  asin: string;
  title: string;
  vector: Uint8Array;
}

/** How to open a store on a database. */
export interface SqlStoreOptions extends MigrationOptions {
  /** Identifies the model whose user states the store holds (see {@link checkModel}). */
  modelFingerprint: string;
  /**
   * Called after each commit that added to the pair counts, with what it added
   * (one increment per pair), before the commit's callers hear of it: how the
   * embedded store keeps its copy of the counts in memory.
   */
  onPairsCommitted?: (pairs: readonly PairIncrement[]) => void;
}

/** The live store over a SQL database (PGlite or PostgreSQL): users' states, histories and event ids, written one transaction per batch as above. */
export class SqlStore implements LiveStore {
  private constructor(
    private readonly db: SqlDatabase,
    readonly description: string,
    private readonly onPairsCommitted: SqlStoreOptions['onPairsCommitted'],
  ) {}

  /** Apply the migrations, check the model, and return the store. */
  static async open(db: SqlDatabase, description: string, options: SqlStoreOptions): Promise<SqlStore> {
    await applyMigrations(db, {
      ...options,
      after: async (tx) => {
        await options.after?.(tx);
        await checkModel(tx, options.modelFingerprint, description);
      },
    });
    return new SqlStore(withStoreErrors(db), description, options.onPairsCommitted);
  }

  async applyEvents(events: readonly LiveEvent[], advance: AdvanceStates): Promise<ApplyResult> {
    return (await this.applyEventBatches([events], advance))[0];
  }

  /**
   * Apply several batches in one transaction, as if committed one after the
   * other in the order given (an event id of an earlier batch is a duplicate
   * in a later one); all or nothing. Returns each batch's result; a batch's
   * `users` are the rows of its users as this commit leaves them.
   */
  async applyEventBatches(batches: readonly (readonly LiveEvent[])[], advance: AdvanceStates): Promise<ApplyResult[]> {
    if (batches.every((events) => events.length === 0)) return batches.map(() => ({ applied: 0, duplicates: 0, users: [] }));
    for (let attempt = 1; ; attempt++) {
      try {
        const { results, pairs } = await this.db.transaction((tx) => applyOnce(tx, batches, advance));
        if (pairs.length > 0) this.onPairsCommitted?.(pairs);
        return results;
      } catch (err) {
        const retryable = err instanceof EventIdRace || RETRYABLE_CODES.has((err as { code?: string }).code ?? '');
        if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  async readUser(id: string): Promise<StoredUser | null> {
    const { rows } = await this.db.query<UserRow>('SELECT id, length, version, state FROM users WHERE id = $1 AND length > 0', [id]);
    return rows.length > 0 ? storedUser(rows[0]) : null;
  }

  async readPairCounts(firsts: readonly string[]): Promise<PairIncrement[]> {
    if (firsts.length === 0) return [];
    const { rows } = await this.db.query<PairIncrement>('SELECT first, second, weight FROM pair_counts WHERE first = ANY($1::text[])', [[...new Set(firsts)]]);
    return rows;
  }

  /** Every pair count recorded (for a copy kept in memory). */
  async allPairCounts(): Promise<PairIncrement[]> {
    return (await this.db.query<PairIncrement>('SELECT first, second, weight FROM pair_counts')).rows;
  }

  async readHistory(user: string): Promise<LiveEvent[]> {
    const { rows } = await this.db.query<{ id: string; user_id: string; item: string; ts: number | null }>(
      'SELECT id, user_id, item, ts FROM events WHERE user_id = $1 ORDER BY position',
      [user],
    );
    return rows.map((r) => ({ id: r.id, user: r.user_id, item: r.item, ts: r.ts }));
  }

  async addItems(items: readonly NewItem[], base?: number): Promise<AddedItem[]> {
    if (items.length === 0) return [];
    const asins = items.map((i) => i.asin);
    const repeated = asins.find((a, i) => asins.indexOf(a) !== i);
    if (repeated !== undefined) throw new UserError(`item ${repeated} is given twice`);
    return this.db.transaction(async (tx) => {
      // One adder at a time, so that seq order is commit order and a replica
      // polling "seq > last seen" never skips an item committed late.
      await tx.query('LOCK TABLE items IN EXCLUSIVE MODE');
      if (base !== undefined) await checkItemsBase(tx, base, this.description);
      const existing = await tx.query<{ asin: string }>('SELECT asin FROM items WHERE asin = ANY($1::text[]) ORDER BY asin LIMIT 1', [asins]);
      if (existing.rows.length > 0) throw new UserError(`item ${existing.rows[0].asin} is already stored`);
      const { blob, starts, sizes } = pack(items.map((i) => float32Bytes(i.vector)));
      const { rows } = await tx.query<{ seq: number; asin: string }>(
        `INSERT INTO items (asin, title, vector)
         SELECT v.asin, v.title, substring($1::bytea FROM v.start FOR v.size)
         FROM unnest($2::text[], $3::text[], $4::int[], $5::int[]) WITH ORDINALITY AS v(asin, title, start, size, n)
         ORDER BY v.n RETURNING seq, asin`,
        [blob, asins, items.map((i) => i.title), starts, sizes],
      );
      const seqOf = new Map(rows.map((r) => [r.asin, r.seq]));
      return items.map((i) => ({ ...i, seq: seqOf.get(i.asin)! }));
    });
  }

  async itemsBase(): Promise<number | null> {
    const { rows } = await this.db.query<{ value: string }>(`SELECT value FROM meta WHERE key = '${ITEMS_BASE_KEY}'`);
    return rows.length > 0 ? Number(rows[0].value) : null;
  }

  async itemsAfter(seq: number): Promise<AddedItem[]> {
    const { rows } = await this.db.query<ItemRow>('SELECT seq, asin, title, vector FROM items WHERE seq > $1 ORDER BY seq', [seq]);
    return rows.map((r) => ({ seq: r.seq, asin: r.asin, title: r.title, vector: float32FromBytes(r.vector) }));
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** One try of a transaction of one or more batches (see the file comment): each batch's result, and the pair counts the transaction adds. */
async function applyOnce(
  tx: SqlClient,
  batches: readonly (readonly LiveEvent[])[],
  advance: AdvanceStates,
): Promise<{ results: ApplyResult[]; pairs: PairIncrement[] }> {
  const events = batches.flat();
  const userIds = [...new Set(events.map((e) => e.user))];
  // Statements whose parameters do not depend on each other's results are sent together (one round trip to the
  // embedded store's thread); a connection runs them in the order sent.
  const [, locked, recorded] = await Promise.all([
    tx.query('INSERT INTO users (id) SELECT u FROM unnest($1::text[]) AS t(u) ORDER BY u ON CONFLICT (id) DO NOTHING', [userIds]),
    tx.query<UserRow>('SELECT id, length, version, state FROM users WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE', [userIds]),
    tx.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1::text[])', [[...new Set(events.map((e) => e.id))]]),
  ]);
  const rows = new Map(locked.rows.map((r) => [r.id, r]));
  const seen = new Set(recorded.rows.map((r) => r.id));
  const byUser = new Map<string, LiveEvent[]>();
  const counts = batches.map((batch) => {
    let applied = 0;
    for (const e of batch) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      applied++;
      const list = byUser.get(e.user);
      if (list) list.push(e);
      else byUser.set(e.user, [e]);
    }
    return { applied, duplicates: batch.length - applied };
  });
  const applied = counts.reduce((sum, c) => sum + c.applied, 0);
  if (applied === 0) return { results: counts.map((c) => ({ ...c, users: [] })), pairs: [] };
  const updates: UserUpdate[] = [...byUser].map(([user, list]) => {
    const row = rows.get(user)!;
    return { user, prior: row.length > 0 ? storedUser(row) : null, events: list };
  });
  const { states, pairs } = advance(updates);
  if (states.length !== updates.length) throw new Error(`advance returned ${states.length} states for ${updates.length} users`);
  const pairWeights = new Map<string, PairIncrement>();
  for (const p of pairs) {
    const key = JSON.stringify([p.first, p.second]);
    const kept = pairWeights.get(key);
    if (kept) kept.weight += p.weight;
    else pairWeights.set(key, { ...p });
  }
  // One row per pair, in key order: concurrent commits then lock shared rows in the same order.
  const pairRows = [...pairWeights.values()].sort((a, b) =>
    a.first < b.first ? -1 : a.first > b.first ? 1 : a.second < b.second ? -1 : a.second > b.second ? 1 : 0,
  );

  const ev = { ids: [] as string[], users: [] as string[], positions: [] as number[], items: [] as string[], ts: [] as (number | null)[] };
  for (const u of updates) {
    const base = rows.get(u.user)!.length;
    u.events.forEach((e, i) => {
      ev.ids.push(e.id);
      ev.users.push(e.user);
      ev.positions.push(base + i);
      ev.items.push(e.item);
      ev.ts.push(e.ts);
    });
  }
  const written = new Map<string, StoredUser>();
  updates.forEach((u, i) => {
    const row = rows.get(u.user)!;
    written.set(u.user, { id: u.user, length: row.length + u.events.length, version: row.version + 1, state: states[i] });
  });
  const { blob, starts, sizes } = pack(states);
  const list = [...written.values()];
  const [inserted] = await Promise.all([
    tx.query(
      `INSERT INTO events (id, user_id, position, item, ts)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::float8[]) ON CONFLICT (id) DO NOTHING`,
      [ev.ids, ev.users, ev.positions, ev.items, ev.ts],
    ),
    tx.query(
      `UPDATE users AS u SET length = v.length, version = v.version, state = substring($1::bytea FROM v.start FOR v.size), updated_at = now()
       FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::int[]) AS v(id, length, version, start, size) WHERE u.id = v.id`,
      [blob, list.map((w) => w.id), list.map((w) => w.length), list.map((w) => w.version), starts, sizes],
    ),
    pairRows.length === 0
      ? null
      : tx.query(
          `INSERT INTO pair_counts (first, second, weight)
           SELECT * FROM unnest($1::text[], $2::text[], $3::float8[]) ORDER BY 1, 2
           ON CONFLICT (first, second) DO UPDATE SET weight = pair_counts.weight + EXCLUDED.weight`,
          [pairRows.map((p) => p.first), pairRows.map((p) => p.second), pairRows.map((p) => p.weight)],
        ),
  ]);
  // The update is rolled back with everything else when the insert came up short.
  if (inserted.rowCount !== applied) throw new EventIdRace();
  const results = batches.map((batch, b) => ({
    ...counts[b],
    users: counts[b].applied === 0 ? [] : [...new Set(batch.map((e) => e.user))].flatMap((user) => written.get(user) ?? []),
  }));
  return { results, pairs: pairRows };
}

/** The meta key of the item count the added items are numbered after. */
const ITEMS_BASE_KEY = 'items_base';

/**
 * Record `base` (the model's item count that added items are numbered after)
 * with the first added items; refuse another once recorded. Runs under the
 * items table's lock.
 */
async function checkItemsBase(tx: SqlClient, base: number, description: string): Promise<void> {
  const { rows } = await tx.query<{ value: string }>(`SELECT value FROM meta WHERE key = '${ITEMS_BASE_KEY}'`);
  if (rows.length === 0) {
    await tx.query(`INSERT INTO meta (key, value) VALUES ('${ITEMS_BASE_KEY}', $1)`, [String(base)]);
  } else if (Number(rows[0].value) !== base) {
    throw new UserError(
      `the ${description} numbers its added items after ${rows[0].value} items, this model folder has ${base} ` +
        '(items were added to the folder with "fmrlrec items add" since): serve the folder the store\'s items were added to, or give this one an empty store',
    );
  }
}

/**
 * Record the model on first start; refuse a store whose users' states were
 * computed by another model, or that holds items added to another model
 * (they would be meaningless); adopt the new model when it has neither.
 */
async function checkModel(tx: SqlClient, fingerprint: string, description: string): Promise<void> {
  const { rows } = await tx.query<{ value: string }>("SELECT value FROM meta WHERE key = 'model'");
  if (rows.length > 0 && rows[0].value === fingerprint) return;
  if (rows.length > 0) {
    const used = await tx.query('SELECT 1 FROM users WHERE length > 0 LIMIT 1');
    if (used.rows.length > 0) {
      throw new UserError(
        `the ${description} holds user states of another model (model ${rows[0].value}, this one is ${fingerprint}): ` +
          'serve that model, or give this one an empty store',
        'store-of-another-model',
      );
    }
    // Added items' vectors are rows of that model's item table, meaningless to another.
    const items = await tx.query('SELECT 1 FROM items LIMIT 1');
    if (items.rows.length > 0) {
      throw new UserError(
        `the ${description} holds items added to another model (model ${rows[0].value}, this one is ${fingerprint}): ` +
          'serve that model, or give this one an empty store',
        'store-of-another-model',
      );
    }
  }
  await tx.query("INSERT INTO meta (key, value) VALUES ('model', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [fingerprint]);
}

function storedUser(row: UserRow): StoredUser {
  return { id: row.id, length: row.length, version: row.version, state: row.state ?? new Uint8Array(0) };
}

/** Concatenate byte strings for one parameter; starts are 1-based, as SQL's substring counts. */
function pack(parts: readonly Uint8Array[]): { blob: Uint8Array; starts: number[]; sizes: number[] } {
  const sizes = parts.map((p) => p.length);
  const blob = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  const starts: number[] = [];
  let offset = 0;
  for (const p of parts) {
    blob.set(p, offset);
    starts.push(offset + 1);
    offset += p.length;
  }
  return { blob, starts, sizes };
}

/** Little-endian bytes of float32 values. */
function float32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

function float32FromBytes(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length >> 2 }, (_, i) => view.getFloat32(i * 4, true));
}
