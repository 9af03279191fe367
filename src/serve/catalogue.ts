/**
 * The item catalogue of an exported model (items.json): item id ↔ ASIN ↔
 * title, and how a history written by a person is turned into item ids.
 * Browser-safe.
 */
import type { ItemEntry } from '../deploy/format';
import { UserError } from '../util/errors';

/** A reference to an item as given by a caller: an ASIN, or an id (number or digits). */
export type ItemRef = string | number;

/** Ids of resolved references, and the references that name no item. */
export interface Resolved {
  ids: number[];
  unknown: ItemRef[];
}

/** The items a model knows, by id and by ASIN, with their titles; it grows when items are added to the model. */
export class Catalogue {
  private readonly byId: ItemEntry[];
  private readonly byAsin = new Map<string, number>();
  private count: number;

  /** @param entries items.json entries, ids 1..numItems each exactly once */
  constructor(entries: readonly ItemEntry[], numItems: number) {
    this.count = numItems;
    this.byId = new Array<ItemEntry>(numItems + 1);
    for (const e of entries) {
      if (!Number.isInteger(e.id) || e.id < 1 || e.id > numItems || this.byId[e.id]) {
        throw new UserError(`items.json: entry with id ${e.id} is out of 1..${numItems} or repeated`);
      }
      this.byId[e.id] = e;
      if (e.asin) this.byAsin.set(e.asin, e.id);
    }
    for (let id = 1; id <= numItems; id++) if (!this.byId[id]) throw new UserError(`items.json: item ${id} is missing`);
  }

  /** N: items are 1..N (it grows with {@link add}). */
  get numItems(): number {
    return this.count;
  }

  /**
   * Append items added after training: ids N+1, N+2, ... in order, each with
   * an ASIN that names no item yet (the engine's addItems appends their vectors).
   * @throws UserError for an id out of order or an ASIN already known; nothing is added then
   */
  add(entries: readonly ItemEntry[]): void {
    const asins = new Set<string>();
    entries.forEach((e, i) => {
      if (e.id !== this.count + 1 + i) throw new UserError(`added item ${e.asin} has id ${e.id}, expected ${this.count + 1 + i}`);
      if (!e.asin || this.byAsin.has(e.asin) || asins.has(e.asin))
        throw new UserError(`added item ${e.id} has an ASIN that is empty or already known: "${e.asin}"`);
      asins.add(e.asin);
    });
    for (const e of entries) {
      this.byId.push(e);
      this.byAsin.set(e.asin, e.id);
    }
    this.count += entries.length;
  }

  /** The entry of item id (1..N), or undefined. */
  item(id: number): ItemEntry | undefined {
    return Number.isInteger(id) && id >= 1 && id <= this.numItems ? this.byId[id] : undefined;
  }

  /** The id of the item with this ASIN, or null (digits are not read as an id). */
  idOfAsin(asin: string): number | null {
    return this.byAsin.get(asin) ?? null;
  }

  /**
   * The id a reference names, or null: a number must be an id 1..N; a string is
   * an ASIN when one matches exactly, else an id when it is all digits in 1..N.
   */
  resolve(ref: ItemRef): number | null {
    if (typeof ref === 'number') return this.item(ref) ? ref : null;
    const byAsin = this.byAsin.get(ref);
    if (byAsin !== undefined) return byAsin;
    if (/^[0-9]+$/.test(ref)) {
      const id = Number(ref);
      return this.item(id) ? id : null;
    }
    return null;
  }

  /** Resolve a list, keeping its order; unknown references are collected, not fatal. */
  resolveAll(refs: readonly ItemRef[]): Resolved {
    const ids: number[] = [];
    const unknown: ItemRef[] = [];
    for (const ref of refs) {
      const id = this.resolve(ref);
      if (id === null) unknown.push(ref);
      else ids.push(id);
    }
    return { ids, unknown };
  }
}
