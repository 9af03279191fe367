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

export class Catalogue {
  private readonly byId: ItemEntry[];
  private readonly byAsin = new Map<string, number>();

  /** @param entries items.json entries, ids 1..numItems each exactly once */
  constructor(entries: readonly ItemEntry[], readonly numItems: number) {
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

  /** The entry of item id (1..N), or undefined. */
  item(id: number): ItemEntry | undefined {
    return Number.isInteger(id) && id >= 1 && id <= this.numItems ? this.byId[id] : undefined;
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
