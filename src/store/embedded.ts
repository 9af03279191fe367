/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) persisted to
 * a folder, with the server store's SQL and migrations; nothing else to run.
 * PGlite runs on a thread of its own (./pglite-thread.ts), so the server's
 * thread never waits for a statement.
 * One process per folder (a lock file says which). PGlite runs one statement
 * at a time, so users' rows are also kept in memory (the most recently used
 * ones, written through at every commit), and so are all the pair counts of
 * the count prior (read at open, added to at every commit; about a hundred
 * bytes per distinct pair): a recommendation reads no database.
 * Batches of events that arrive while a commit runs are committed together
 * (./group-commit.ts), so the store's work per event falls under load.
 *
 * Durability: a batch is acknowledged after PGlite's COMMIT has written the
 * write-ahead log to the folder's files, so a killed process loses nothing
 * acknowledged; PGlite does not fsync, so an operating-system crash or a
 * power cut may lose the last commits (the PostgreSQL store does not).
 *
 * Layout: <dir>/pgdata (the database), <dir>/fmrlrec.lock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { lockFolder } from './folder-lock';
import { GroupCommit } from './group-commit';
import { openPgliteThread } from './pglite-thread';
import type { SqlDatabase } from './sql-client';
import { SqlStore } from './sql-store';
import type { AddedItem, AdvanceStates, ApplyResult, LiveEvent, LiveStore, NewItem, PairIncrement, StoredUser } from './types';

/** Default folder of the embedded store (relative to the working directory). */
export const DEFAULT_STATE_DIR = 'fmrlrec-state';

/** How to open the embedded store. */
export interface EmbeddedStoreOptions {
  /** See SqlStoreOptions.modelFingerprint. */
  modelFingerprint: string;
  /** Users kept in memory (most recently used). */
  cachedUsers?: number;
  /** Progress lines (the first start creates the database, which takes a few seconds). */
  log?: (line: string) => void;
}

/** Open (creating on first use) the embedded store in `dir`. */
export async function openEmbeddedStore(dir: string, options: EmbeddedStoreOptions): Promise<LiveStore> {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new UserError(`${dir}: cannot create the state folder (${(err as Error).message})`);
  }
  const unlock = lockFolder(dir, 'the embedded store');
  const pgdata = path.join(dir, 'pgdata');
  let db: SqlDatabase | null = null;
  try {
    if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) options.log?.(`creating the embedded store in ${dir} (first start only: a few seconds)`);
    db = await openPgliteThread(pgdata);
    const pairs = new PairCountsInMemory();
    const sql = await SqlStore.open(db, `embedded store in ${dir}`, {
      lockKey: 'embedded',
      modelFingerprint: options.modelFingerprint,
      onPairsCommitted: (added) => pairs.add(added),
    });
    pairs.add(await sql.allPairCounts());
    return new EmbeddedStore(sql, unlock, options.cachedUsers ?? 10_000, pairs);
  } catch (err) {
    await db?.close().catch(() => undefined);
    unlock();
    if (err instanceof UserError) throw err;
    throw new UserError(`${dir}: cannot open the embedded store (${(err as Error).message})`);
  }
}

/** The SQL store plus the in-memory users and the folder lock. */
class EmbeddedStore implements LiveStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly commits: GroupCommit;

  constructor(
    private readonly sql: SqlStore,
    private readonly unlock: () => void,
    private readonly capacity: number,
    private readonly pairs: PairCountsInMemory,
  ) {
    this.commits = new GroupCommit(sql);
  }

  get description(): string {
    return this.sql.description;
  }

  async applyEvents(events: readonly LiveEvent[], advance: AdvanceStates): Promise<ApplyResult> {
    const result = await this.commits.apply(events, advance);
    for (const user of result.users) this.remember(user);
    return result;
  }

  async readUser(id: string): Promise<StoredUser | null> {
    const cached = this.users.get(id);
    if (cached) {
      this.users.delete(id);
      this.users.set(id, cached);
      return cached;
    }
    const user = await this.sql.readUser(id);
    if (user) this.remember(user);
    return user;
  }

  readPairCounts(firsts: readonly string[]): Promise<PairIncrement[]> {
    return Promise.resolve(this.pairs.read(firsts));
  }

  readHistory(user: string): Promise<LiveEvent[]> {
    return this.sql.readHistory(user);
  }

  addItems(items: readonly NewItem[], base?: number): Promise<AddedItem[]> {
    return this.sql.addItems(items, base);
  }

  itemsBase(): Promise<number | null> {
    return this.sql.itemsBase();
  }

  itemsAfter(seq: number): Promise<AddedItem[]> {
    return this.sql.itemsAfter(seq);
  }

  async close(): Promise<void> {
    try {
      await this.sql.close();
    } finally {
      this.unlock();
    }
  }

  /** Keep a row unless a newer version of it is kept already (a read may finish after a later commit). */
  private remember(user: StoredUser): void {
    const kept = this.users.get(user.id);
    if (kept && kept.version > user.version) return;
    this.users.delete(user.id);
    this.users.set(user.id, user);
    if (this.users.size > this.capacity) this.users.delete(this.users.keys().next().value!);
  }
}

/** The store's pair counts, kept in memory: only this process commits to the folder, so the copy stays whole. */
class PairCountsInMemory {
  private readonly byFirst = new Map<string, Map<string, number>>();

  /** Add committed increments. */
  add(increments: readonly PairIncrement[]): void {
    for (const { first, second, weight } of increments) {
      let row = this.byFirst.get(first);
      if (!row) this.byFirst.set(first, (row = new Map()));
      row.set(second, (row.get(second) ?? 0) + weight);
    }
  }

  /** The counts of the pairs whose first item is one of `firsts`, as SqlStore.readPairCounts returns them. */
  read(firsts: readonly string[]): PairIncrement[] {
    const out: PairIncrement[] = [];
    for (const first of new Set(firsts)) {
      const row = this.byFirst.get(first);
      if (row) for (const [second, weight] of row) out.push({ first, second, weight });
    }
    return out;
  }
}
