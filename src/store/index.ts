/** The live service's stores: where a store is, and opening it. */
import { openEmbeddedStore } from './embedded';
import { openPostgresStore } from './postgres';
import type { LiveStore } from './types';

export type { AddedItem, AdvanceStates, AdvancedStates, ApplyResult, PairIncrement, LiveEvent, LiveStore, NewItem, StoredUser, UserUpdate } from './types';
export { DEFAULT_STATE_DIR } from './embedded';
export { DEFAULT_SCHEMA, parsePostgresUrl } from './postgres';

/** Where the store is: a folder (embedded) or a PostgreSQL URL. */
export type StoreLocation = { kind: 'embedded'; dir: string } | { kind: 'postgres'; url: string };

/** What opening a store needs besides its location. */
export interface OpenStoreOptions {
  /** Identifies the model whose user states the store holds. */
  modelFingerprint: string;
  /** Progress and connection lines. */
  log?: (line: string) => void;
}

/** Open the store at `location`: migrations applied, model checked. */
export function openStore(location: StoreLocation, options: OpenStoreOptions): Promise<LiveStore> {
  return location.kind === 'embedded' ? openEmbeddedStore(location.dir, options) : openPostgresStore(location.url, options);
}
