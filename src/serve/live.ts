/**
 * The live routes of the service, over a store (src/store):
 *   POST /v1/events  {"events": [{"id", "user", "item", "ts"?}, ...]}
 *                    → {"applied", "duplicates"}, sent only after the commit
 *   GET  /v1/users/:id/recommendations?k=10&size=64&exclude_history=false&funnel=16:200
 *                    → {"user", "known_user", "history_length", "size", "items": [{id, asin, title, score}]}
 * An event advances its user's state at the model's full width W
 * (src/store/user-state.ts); a recommendation reads the stored state, never
 * the history, and ranks with its first `size` coordinates, which is the
 * size-m model's user vector. It equals POST /v1/recommend with the user's
 * whole history (both read the last maxLen items), but for the pair counts
 * recorded since the export, which only the live routes see. With a count prior
 * (docs/method.md §5.11), each commit also adds the pairs its events make to
 * the store's pair counts, and a recommendation adds those recorded for the
 * user's last items to the exported counts: every replica ranks with the
 * counts of every event committed. A user without events gets
 * the empty-history recommendation, with "known_user": false.
 *
 * Events of a user apply in the order they are committed (within a request,
 * in the order given); `ts` is stored, not used for ordering. A request is
 * checked whole before anything is applied: one bad event and none is.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FILE, ExportedConfig, WEIGHTS_FILE } from '../deploy/format';
import { PairCounts } from '../model/count-prior';
import type { AdvanceStates, LiveEvent, LiveStore, PairIncrement } from '../store/types';
import { advanceUserStates, decodeUserState, encodeUserState, type UserState } from '../store/user-state';
import type { Catalogue } from './catalogue';
import type { InferenceEngine } from './engine';
import { funnelRank } from './funnel';
import type { LiveItems } from './live-items';
import type { LoadedModel } from './model-folder';
import { DEFAULT_LIMITS, RecommendedItem, RequestError } from './recommender';
import type { RankedItem } from './top-k';

/** Event and user ids: 1 to 128 characters of letters, digits and . _ : @ - */
export const LIVE_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Limits of the live routes. */
export interface LiveOptions {
  /** Most events in one POST /v1/events. */
  maxEvents: number;
  /** Largest POST /v1/events body in bytes. */
  maxBodyBytes: number;
  /** Largest k of a recommendation. */
  maxK: number;
  /** Longest funnel shortlist. */
  maxShortlist: number;
}

/** 1000 events and 1 MiB per POST /v1/events; k and shortlists as large as POST /v1/recommend allows. */
export const DEFAULT_LIVE_OPTIONS: LiveOptions = {
  maxEvents: 1000,
  maxBodyBytes: 1024 * 1024,
  maxK: DEFAULT_LIMITS.maxK,
  maxShortlist: DEFAULT_LIMITS.maxCandidates,
};

/** The answer to POST /v1/events. */
export interface EventsResponse {
  /** Events applied by this request. */
  applied: number;
  /** Events whose id was recorded before (or earlier in this request): not applied again. */
  duplicates: number;
}

/** The answer to GET /v1/users/:id/recommendations. */
export interface UserRecommendations {
  user: string;
  /** False when no event of this user is recorded: the items are the empty-history recommendation. */
  known_user: boolean;
  history_length: number;
  size: number;
  items: RecommendedItem[];
}

/** A checked user recommendation query. */
interface UserQuery {
  k: number;
  size: number;
  excludeHistory: boolean;
  funnel: { size: number; shortlist: number } | null;
}

const EVENT_FIELDS = new Set(['id', 'user', 'item', 'ts']);
const QUERY_FIELDS = new Set(['k', 'size', 'exclude_history', 'funnel']);

/** The live routes over a store: applies events to the stored user states and recommends from a user's stored state. */
export class LiveService {
  /** The padding item's output at width W: the vector of a user without events. */
  private readonly emptyVector: Float32Array;

  constructor(
    private readonly engine: InferenceEngine,
    private readonly catalogue: Catalogue,
    readonly store: LiveStore,
    readonly options: LiveOptions = DEFAULT_LIVE_OPTIONS,
    /** Items added while serving (./live-items.ts): an event may name one another replica has just added. */
    private readonly addedItems: LiveItems | null = null,
  ) {
    this.emptyVector = engine.userVector([], engine.width);
  }

  /** Advances stored users' states over their new events (one function, so that the embedded store can commit concurrent batches together). */
  private readonly advance: AdvanceStates = (updates) => {
    const priors = updates.map((u) => (u.prior ? decodeUserState(u.prior.state, this.engine) : null));
    const items = updates.map((u) => u.events.map((e) => this.itemId(e.item)));
    const pairs = this.newPairs(priors, items);
    return { states: advanceUserStates(this.engine, priors, items).map(encodeUserState), pairs };
  };

  /**
   * The pairs the new items make with the items before them, under the count
   * prior's rule (none without a prior): what the events add to its counts.
   */
  private newPairs(priors: readonly (UserState | null)[], items: readonly (readonly number[])[]): PairIncrement[] {
    const prior = this.engine.countPrior;
    if (!prior) return [];
    const counts = new PairCounts(prior.counts.rule);
    items.forEach((added, u) => {
      const before = priors[u]?.recent ?? new Int32Array(0);
      const history = [...before, ...added];
      for (let t = before.length; t < history.length; t++) counts.addStep(history, t);
    });
    const { first, second, weight } = counts.toArrays();
    return Array.from(first, (a, p) => ({ first: this.itemRef(a), second: this.itemRef(second[p]), weight: weight[p] }));
  }

  /**
   * The pairs counted since the export whose first item is one of the last
   * items of `recent` that the prior looks up, or null without a prior.
   * Items this replica does not know yet are left out.
   */
  private async liveCounts(recent: Int32Array): Promise<PairCounts | null> {
    const prior = this.engine.countPrior;
    if (!prior || recent.length === 0) return null;
    const rule = prior.counts.rule;
    const rows = await this.store.readPairCounts(Array.from(recent.subarray(Math.max(0, recent.length - rule.context)), (id) => this.itemRef(id)));
    const counts = new PairCounts(rule);
    for (const row of rows) {
      const a = this.catalogue.resolve(row.first);
      const b = this.catalogue.resolve(row.second);
      if (a !== null && b !== null) counts.add(a, b, row.weight);
    }
    return counts;
  }

  /** POST /v1/events: check the whole body, then apply its new events in one commit. */
  async addEvents(body: unknown): Promise<EventsResponse> {
    const events = await this.learningAddedItems(() => this.parseEvents(body));
    const { applied, duplicates } = await this.learningAddedItems(() => this.store.applyEvents(events, this.advance));
    return { applied, duplicates };
  }

  /**
   * Run `step`; when it fails and the store has items this replica has not
   * learnt yet (an event's item, or a user's recent item, added by another
   * replica), learn them and run it once more.
   */
  private async learningAddedItems<T>(step: () => T | Promise<T>): Promise<T> {
    const known = this.engine.numItems;
    try {
      return await step();
    } catch (err) {
      if (!this.addedItems) throw err;
      // Compare counts rather than trust sync()'s: the periodic poll may be the call that learns the items meanwhile.
      await this.addedItems.sync();
      if (this.engine.numItems === known) throw err;
      return step();
    }
  }

  /**
   * GET /v1/users/:id/recommendations: `id` is the path segment as sent
   * (percent-encoded), `query` the URL's parameters.
   */
  async recommendForUser(id: string, query: URLSearchParams): Promise<UserRecommendations> {
    const user = this.parseUserId(id);
    const q = this.parseQuery(query);
    const row = await this.store.readUser(user);
    const state = row ? decodeUserState(row.state, this.engine) : null;
    const vector = state?.vector ?? this.emptyVector;
    const exclude = q.excludeHistory && state ? new Set(state.seen) : null;
    const extraCounts = state ? await this.liveCounts(state.recent) : null;
    let ranked: RankedItem[];
    if (q.funnel) {
      ranked = funnelRank(this.engine, vector, {
        shortlistSize: q.funnel.size,
        shortlist: q.funnel.shortlist,
        size: q.size,
        k: q.k,
        exclude: exclude ?? undefined,
        history: state?.recent,
        extraCounts,
      });
    } else {
      ranked = this.engine.rankBatch(vector.slice(0, q.size), q.size, [q.k], [exclude], [state?.recent ?? null], extraCounts)[0];
    }
    return {
      user,
      known_user: state !== null,
      history_length: state?.length ?? 0,
      size: q.size,
      items: ranked.map(({ id: item, score }) => {
        const entry = this.catalogue.item(item);
        return { id: item, asin: entry?.asin ?? '', title: entry?.title ?? '', score };
      }),
    };
  }

  /** Check a POST /v1/events body; throws RequestError naming the first bad field. */
  parseEvents(body: unknown): LiveEvent[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError('body', 'the body must be a JSON object {"events": [...]}');
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) if (key !== 'events') throw new RequestError(key, `unknown field "${key}" (fields: events)`);
    const list = b.events;
    if (!Array.isArray(list) || list.length === 0) {
      throw new RequestError('events', '"events" must be a non-empty array of {"id", "user", "item", "ts"?}');
    }
    if (list.length > this.options.maxEvents)
      throw new RequestError('events', `"events" has ${list.length} events; at most ${this.options.maxEvents} are accepted`);
    return list.map((e: unknown, i) => {
      const at = `events[${i}]`;
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new RequestError(at, `"${at}" must be an object {"id", "user", "item", "ts"?}`);
      const event = e as Record<string, unknown>;
      for (const key of Object.keys(event)) {
        if (!EVENT_FIELDS.has(key)) throw new RequestError(`${at}.${key}`, `unknown field "${at}.${key}" (fields: ${[...EVENT_FIELDS].join(', ')})`);
      }
      const id = checkId(event.id, `${at}.id`);
      const user = checkId(event.user, `${at}.user`);
      const ref = event.item;
      const item = typeof ref === 'string' && ref.length > 0 && ref.length <= 128 ? this.catalogue.resolve(ref) : null;
      if (item === null)
        throw new RequestError(
          `${at}.item`,
          `"${at}.item" must name an item of the model (an ASIN or an id 1..${this.engine.numItems}); got ${JSON.stringify(ref)}`,
        );
      if (event.ts !== undefined && event.ts !== null && (typeof event.ts !== 'number' || !Number.isFinite(event.ts))) {
        throw new RequestError(`${at}.ts`, `"${at}.ts" must be a number (e.g. seconds since 1970)`);
      }
      return { id, user, item: this.itemRef(item), ts: (event.ts as number | undefined) ?? null };
    });
  }

  private parseUserId(segment: string): string {
    let user: string;
    try {
      user = decodeURIComponent(segment);
    } catch {
      throw new RequestError('id', 'the user id in the path is not valid percent-encoding');
    }
    return checkId(user, 'id');
  }

  private parseQuery(query: URLSearchParams): UserQuery {
    for (const key of new Set(query.keys())) {
      if (!QUERY_FIELDS.has(key)) throw new RequestError(key, `unknown parameter "${key}" (parameters: ${[...QUERY_FIELDS].join(', ')})`);
      if (query.getAll(key).length > 1) throw new RequestError(key, `"${key}" is given more than once`);
    }
    const sizes = this.engine.sizes.join(', ');
    const integer = (name: string, fallback: number, min: number, max: number): number => {
      const v = query.get(name);
      if (v === null) return fallback;
      const n = /^[0-9]{1,9}$/.test(v) ? Number(v) : NaN;
      if (!(n >= min && n <= max)) throw new RequestError(name, `"${name}" must be an integer from ${min} to ${max}`);
      return n;
    };
    const k = integer('k', 10, 1, this.options.maxK);
    const size = integer('size', this.engine.width, 1, this.engine.width);
    if (!this.engine.servesSize(size)) throw new RequestError('size', `"size" must be one of the model's sizes: ${sizes}`);
    const exclude = query.get('exclude_history');
    if (exclude !== null && exclude !== 'true' && exclude !== 'false') throw new RequestError('exclude_history', '"exclude_history" must be true or false');
    let funnel: UserQuery['funnel'] = null;
    const f = query.get('funnel');
    if (f !== null) {
      const match = /^([0-9]{1,9}):([0-9]{1,9})$/.exec(f);
      const shortlistSize = match ? Number(match[1]) : NaN;
      const shortlist = match ? Number(match[2]) : NaN;
      if (!match || !this.engine.servesSize(shortlistSize) || shortlistSize > size || shortlist < k || shortlist > this.options.maxShortlist) {
        throw new RequestError(
          'funnel',
          `"funnel" must be <size>:<shortlist>, e.g. 16:200, with a size of the model up to ${size} (${sizes}) and a shortlist from k = ${k} to ${this.options.maxShortlist}`,
        );
      }
      funnel = { size: shortlistSize, shortlist };
    }
    return { k, size, excludeHistory: exclude === 'true', funnel };
  }

  /** The external id an event records for item `id` (its ASIN, else the id). */
  private itemRef(id: number): string {
    return this.catalogue.item(id)?.asin || String(id);
  }

  private itemId(ref: string): number {
    const id = this.catalogue.resolve(ref);
    if (id === null) throw new Error(`a recorded event names item ${ref}, which this model does not have`);
    return id;
  }
}

function checkId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !LIVE_ID_PATTERN.test(value)) {
    throw new RequestError(field, `"${field}" must be 1 to 128 characters of letters, digits and . _ : @ - (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * What identifies the model a store's user states belong to: a hash of the
 * served size folder's weights and configuration. Items appended to the folder
 * (`fmrlrec items add`: item table, items.json and the item count grow, the
 * weights do not) leave it unchanged, since the states of existing users stay valid.
 */
export function modelFingerprint(model: LoadedModel): string {
  const folder = model.index ? path.join(model.dir, model.index.sizes[model.index.sizes.length - 1].folder) : model.dir;
  const config = JSON.parse(fs.readFileSync(path.join(folder, CONFIG_FILE), 'utf8')) as ExportedConfig;
  const { numItems: _grows, ...modelConfig } = config.model;
  return createHash('sha256')
    .update(JSON.stringify({ ...config, model: modelConfig }))
    .update(fs.readFileSync(path.join(folder, WEIGHTS_FILE)))
    .digest('hex')
    .slice(0, 16);
}
