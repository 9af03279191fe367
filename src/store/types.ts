/**
 * The live service's store: per-user streaming state, the event log (the
 * users' histories, idempotent by event id), the pair counts the events add
 * to the model's count prior, and items added after training.
 * One interface, two implementations over the same SQL (./sql-store.ts): an
 * embedded PostgreSQL in a folder (./embedded.ts, one process) and a
 * PostgreSQL server (./postgres.ts, any number of replicas).
 *
 * The store treats a user's state as opaque bytes; the caller (src/serve/live.ts)
 * says how events advance it, and the store runs that inside the transaction
 * that records the events, with the users locked, so that concurrent batches
 * for one user apply one after the other, in commit order.
 */

/** One interaction, as recorded. */
export interface LiveEvent {
  /** The caller's event id: a retried event with the same id is not applied twice. */
  id: string;
  /** The user's id. */
  user: string;
  /** The item's external id (its ASIN for the Amazon datasets). */
  item: string;
  /** The caller's timestamp (stored, not used for ordering); null when not given. */
  ts: number | null;
}

/** A user's row. */
export interface StoredUser {
  id: string;
  /** Events applied: the length of the user's history. */
  length: number;
  /** Batches applied to this user (incremented by every commit that changes the row). */
  version: number;
  /** The serialised state (src/store/user-state.ts). */
  state: Uint8Array;
}

/** One user's part of a batch: its row before the batch (null: a new user) and its new events, in order. */
export interface UserUpdate {
  user: string;
  prior: StoredUser | null;
  events: LiveEvent[];
}

/** An amount added to the count of the pair (first, second): `second` came soon after `first` (item external ids, as in events). */
export interface PairIncrement {
  first: string;
  second: string;
  weight: number;
}

/** What {@link AdvanceStates} returns: each update's new state, in order, and what its events add to the pair counts. */
export interface AdvancedStates {
  states: Uint8Array[];
  pairs: readonly PairIncrement[];
}

/**
 * Advances users' states and counts the pairs their new events make. Runs
 * inside the store's transaction with those users locked; throwing rolls
 * the whole batch back.
 */
export type AdvanceStates = (updates: readonly UserUpdate[]) => AdvancedStates;

/** What a batch of events did. */
export interface ApplyResult {
  /** Events applied by this call. */
  applied: number;
  /** Events whose id was already recorded (earlier, or earlier in the same batch): not applied again. */
  duplicates: number;
  /** The rows this call wrote, after the commit. */
  users: StoredUser[];
}

/** An item added after training (POST /v1/items): its vector at the model's full width. */
export interface NewItem {
  /** External id (ASIN), unique among the model's and the added items. */
  asin: string;
  title: string;
  /** The item's row of the item table, width W. */
  vector: Float32Array;
}

/** An added item as stored: `seq` increases in commit order, so a replica polls `itemsAfter(last seq seen)`. */
export interface AddedItem extends NewItem {
  seq: number;
}

/** The store of the live service. */
export interface LiveStore {
  /** What it is, for logs: "embedded store in <dir>" or "PostgreSQL <url> (schema <s>)". */
  readonly description: string;
  /**
   * Record the events whose ids are new and advance their users' states with
   * `advance`, in one transaction; resolves after the commit. Events apply in
   * the order given; all or nothing.
   */
  applyEvents(events: readonly LiveEvent[], advance: AdvanceStates): Promise<ApplyResult>;
  /** A user's row, or null for a user without events. */
  readUser(id: string): Promise<StoredUser | null>;
  /**
   * The pair counts recorded since the model was exported (every applied
   * batch adds its {@link AdvancedStates} pairs in its transaction), of the
   * pairs whose first item is one of `firsts`.
   */
  readPairCounts(firsts: readonly string[]): Promise<PairIncrement[]>;
  /** A user's history: the recorded events in the order they were applied. */
  readHistory(user: string): Promise<LiveEvent[]>;
  /**
   * Add items in one transaction; throws a UserError naming an ASIN that is
   * already stored. `base`, when given, is the number of items of the model
   * the added items are numbered after (item k added is base + k): the first
   * add records it, and an add with another base is refused with a UserError
   * (the model folder's items changed since: its ids would not be the store's).
   */
  addItems(items: readonly NewItem[], base?: number): Promise<AddedItem[]>;
  /** The `base` recorded by the first {@link addItems} that gave one, or null. */
  itemsBase(): Promise<number | null>;
  /** Added items with seq > `seq`, in seq order. */
  itemsAfter(seq: number): Promise<AddedItem[]>;
  /** Release connections (and the embedded store's folder). */
  close(): Promise<void>;
}
