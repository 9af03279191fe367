/**
 * Items added while the service runs, shared by every replica through the store:
 *   POST /v1/items  {"items": [{"asin", "title"?, "brand"?, "categories"?, "price"?}, ...]}
 *                   → {"added": [{"asin", "id"}]}, sent after the commit
 * The vectors are built by src/deploy/new-items.ts at the model's full width
 * W (the text encoder is loaded on the first request) and stored with the
 * items (src/store). Ids follow the store's commit order: the store hands
 * out `seq` in commit order (one adder at a time), and every replica appends
 * the stored items to its catalogue and item table in that order, so the k-th
 * item ever added is N + k on every replica, at every size.
 *
 * A replica learns of items added by another by asking the store for the
 * items after the last one it has (`sync`): at start, every `pollMs` (for a
 * shared PostgreSQL store), after its own additions, and when a request names
 * an item it does not know (GET /v1/items/:id, an event's item), once, before
 * answering 404 or 400.
 *
 * An ASIN already in the catalogue gets 409 naming the field; a service that
 * cannot build vectors (the model's encoder package is not installed, an
 * export without item_recipe.json) answers 503 with the reason.
 */
import * as path from 'node:path';
import type { ItemEntry } from '../deploy/format';
import { checkDistinctAsins, checkRecipe, ItemToAdd, ItemVectorBuilder, parseItemToAdd, readItemRecipe } from '../deploy/new-items';
import type { AddedItem, LiveStore } from '../store/types';
import { UserError } from '../util/errors';
import type { Catalogue } from './catalogue';
import type { InferenceEngine } from './engine';
import type { LoadedModel } from './model-folder';
import { RequestError } from './recommender';

/** Settings of {@link LiveItems}. */
export interface LiveItemsOptions {
  /** Milliseconds between two polls of the store for items other replicas added; null: no polling (a store of one process). */
  pollMs: number | null;
  /** Most items in one POST /v1/items. */
  maxItems: number;
  /** Largest POST /v1/items body in bytes. */
  maxBodyBytes: number;
  /** Where a failed poll is reported (one line). */
  log: (line: string) => void;
}

/** Defaults: poll every second, 1,000 items and 1 MiB per request. */
export const DEFAULT_LIVE_ITEMS_OPTIONS: LiveItemsOptions = {
  pollMs: 1000,
  maxItems: 1000,
  maxBodyBytes: 1024 * 1024,
  log: (line) => process.stderr.write(`${line}\n`),
};

/** The answer to POST /v1/items. */
export interface AddItemsResponse {
  /** The ids given to the new items, in request order. */
  added: { asin: string; id: number }[];
}

/** The added items of one service: POST /v1/items and the replicas' catalogue kept in step with the store. */
export class LiveItems {
  /** seq of the last stored item this replica has. */
  private lastSeq = 0;
  private running: Promise<number> | null = null;
  private queued: Promise<number> | null = null;
  private builder: Promise<ItemVectorBuilder> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pollFailing = false;
  /** N of the model folder: the k-th added item is base + k. */
  private readonly base: number;

  /**
   * @param loadBuilder loads the vector builder (called on the first POST; a
   *   UserError it throws is answered 503, and the next request tries again)
   */
  constructor(
    private readonly engine: InferenceEngine,
    private readonly catalogue: Catalogue,
    private readonly store: LiveStore,
    private readonly loadBuilder: () => Promise<ItemVectorBuilder>,
    readonly options: LiveItemsOptions = DEFAULT_LIVE_ITEMS_OPTIONS,
  ) {
    this.base = catalogue.numItems;
  }

  /**
   * Learn the items stored so far, then poll every `pollMs` (when set).
   * @throws UserError when the store's items were numbered after another item
   *   count (items were added to the folder offline since): their ids would shift
   */
  async start(): Promise<void> {
    const base = await this.store.itemsBase();
    if (base !== null && base !== this.base) {
      throw new UserError(
        `the ${this.store.description} numbers its added items after ${base} items, this model folder has ${this.base} ` +
          '(items were added to the folder with "fmrlrec items add" since): serve the folder the store\'s items were added to, or give this one an empty store',
      );
    }
    await this.sync();
    if (this.options.pollMs === null) return;
    this.timer = setInterval(() => {
      this.sync().then(
        () => {
          if (this.pollFailing) this.options.log('added items: the store answers again');
          this.pollFailing = false;
        },
        (err: unknown) => {
          if (!this.pollFailing) this.options.log(`added items: cannot poll the store (${(err as Error).message}); retrying every ${this.options.pollMs} ms`);
          this.pollFailing = true;
        },
      );
    }, this.options.pollMs);
    this.timer.unref();
  }

  /** Stop polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Append the items stored after the last one this replica has, in seq
   * order; resolves with how many. A call made while one runs waits for it
   * and runs once more, so it sees every item committed before it was made.
   */
  sync(): Promise<number> {
    if (!this.running) {
      this.running = this.syncOnce().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    if (!this.queued) {
      this.queued = this.running
        .catch(() => 0)
        .then(() => {
          this.queued = null;
          return this.sync();
        });
    }
    return this.queued;
  }

  private async syncOnce(): Promise<number> {
    const stored = await this.store.itemsAfter(this.lastSeq);
    if (stored.length === 0) return 0;
    this.append(stored);
    return stored.length;
  }

  /** Give stored items the next ids: catalogue entries and item table rows together. */
  private append(stored: readonly AddedItem[]): void {
    const w = this.engine.width;
    const bad = stored.find((s) => s.vector.length !== w);
    if (bad) throw new Error(`stored item ${bad.asin} has a vector of width ${bad.vector.length}; this model's is ${w}`);
    if (this.engine.numItems !== this.catalogue.numItems)
      throw new Error(`the engine has ${this.engine.numItems} items, the catalogue ${this.catalogue.numItems}`);
    const first = this.catalogue.numItems + 1;
    const entries: ItemEntry[] = stored.map((s, i) => ({ id: first + i, asin: s.asin, title: s.title }));
    this.catalogue.add(entries);
    const vectors = new Float32Array(stored.length * w);
    stored.forEach((s, i) => vectors.set(s.vector, i * w));
    this.engine.addItems(vectors);
    this.lastSeq = stored[stored.length - 1].seq;
  }

  /** POST /v1/items: check the whole body, build the vectors, store them in one commit, answer the ids. */
  async add(body: unknown): Promise<AddItemsResponse> {
    const items = this.parse(body);
    const builder = await this.vectorBuilder();
    await this.sync();
    this.refuseKnown(items);
    const { vectors } = await builder.vectors(items.map((i) => i.info));
    const w = this.engine.width;
    try {
      await this.store.addItems(
        items.map((item, i) => ({ asin: item.asin, title: item.info.title ?? '', vector: vectors.slice(i * w, (i + 1) * w) })),
        this.base,
      );
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      await this.sync();
      this.refuseKnown(items); // another replica stored one of these ASINs meanwhile: 409
      throw new RequestError('items', `this service cannot add items: ${err.message}`, 503);
    }
    await this.sync();
    return { added: items.map((item) => ({ asin: item.asin, id: this.catalogue.idOfAsin(item.asin) as number })) };
  }

  /** Check a POST /v1/items body; throws RequestError naming the first bad field. */
  parse(body: unknown): ItemToAdd[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError('body', 'the body must be a JSON object {"items": [...]}');
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) if (key !== 'items') throw new RequestError(key, `unknown field "${key}" (fields: items)`);
    const list = b.items;
    if (!Array.isArray(list) || list.length === 0)
      throw new RequestError('items', '"items" must be a non-empty array of {"asin", "title"?, "brand"?, "categories"?, "price"?}');
    if (list.length > this.options.maxItems) throw new RequestError('items', `"items" has ${list.length} items; at most ${this.options.maxItems} are accepted`);
    const items = list.map((value: unknown, i) => parseItemToAdd(value, `items[${i}]`));
    checkDistinctAsins(items, (i) => `items[${i}]`);
    return items;
  }

  /** 409 for the first item whose ASIN the catalogue has. */
  private refuseKnown(items: readonly ItemToAdd[]): void {
    items.forEach((item, i) => {
      const id = this.catalogue.idOfAsin(item.asin);
      if (id !== null) throw new RequestError(`items[${i}].asin`, `item ${item.asin} is already in the catalogue (id ${id}); nothing was added`, 409);
    });
  }

  /** The vector builder, loaded once; a failure is answered 503 and tried again by the next request. */
  private async vectorBuilder(): Promise<ItemVectorBuilder> {
    this.builder ??= this.loadBuilder();
    try {
      return await this.builder;
    } catch (err) {
      this.builder = null;
      if (err instanceof UserError) throw new RequestError('items', `this service cannot add items: ${err.message}`, 503);
      throw err;
    }
  }
}

/** The size folder a loaded model serves from (its largest): where its weights and item_recipe.json are. */
export function servedSizeFolder(model: LoadedModel): string {
  return model.index ? path.join(model.dir, model.index.sizes[model.index.sizes.length - 1].folder) : model.dir;
}

/** One line for the service's log: how POST /v1/items builds vectors, or why it answers 503. */
export function addedItemsSummary(model: LoadedModel): string {
  try {
    const recipe = readItemRecipe(servedSizeFolder(model));
    checkRecipe(recipe);
    return recipe.textEncoder === null
      ? 'POST /v1/items: new items get vectors from their brand, categories and title words'
      : `POST /v1/items: new items' text is encoded with "${recipe.textEncoder}" (loaded on the first request)`;
  } catch (err) {
    if (err instanceof UserError) return `POST /v1/items will answer 503: ${err.message}`;
    throw err;
  }
}
