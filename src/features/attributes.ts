/**
 * Item attributes: each item's brand and categories, kept where several items
 * share them, as a sparse row of weight 1/sqrt(count) per value (unit length;
 * an item with none has an empty row). The model learns one vector per value
 * and adds the weighted sum to the item's vector (model/layers/item-table.ts),
 * so every shared brand and category is known exactly — identity information
 * that a sentence encoder blurs (brand names especially). Computed from the
 * dataset in milliseconds; nothing to cache.
 */
import type { ItemInfo } from '../data/types';
import type { ItemAttributes } from '../model/layers/item-table';

export interface NamedItemAttributes extends ItemAttributes {
  /** Column names, e.g. "brand:opi", "category:Nail Polish", in column order. */
  vocabulary: string[];
}

/** The attribute values of one item: its brand (case-folded) and its categories. */
export function itemAttributes(info: ItemInfo | null): string[] {
  if (!info) return [];
  const values: string[] = [];
  if (info.brand) values.push(`brand:${info.brand.toLowerCase()}`);
  for (const c of info.categories ?? []) values.push(`category:${c}`);
  return values;
}

/**
 * Build the sparse attribute rows of a dataset's items.
 * @param items    dataset.items (index 0 = padding, which gets no attribute)
 * @param minItems keep a value only when at least this many items have it
 *                 (a value of one item would only repeat its ID)
 */
export function attributeFeatures(items: readonly (ItemInfo | null)[], minItems = 2): NamedItemAttributes {
  const perItem = items.map((info, i) => (i === 0 ? [] : [...new Set(itemAttributes(info))]));
  const counts = new Map<string, number>();
  for (const values of perItem) for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const vocabulary = [...counts].filter(([, n]) => n >= minItems).map(([v]) => v).sort();
  const column = new Map(vocabulary.map((v, j) => [v, j]));
  const rows = perItem.map((values) => values.map((v) => column.get(v)).filter((j): j is number => j !== undefined).sort((a, b) => a - b));
  const rowStart = new Int32Array(items.length + 1);
  rows.forEach((cols, i) => { rowStart[i + 1] = rowStart[i] + cols.length; });
  const columns = Int32Array.from(rows.flat());
  const weights = Float32Array.from(rows.flatMap((cols) => cols.map(() => 1 / Math.sqrt(cols.length))));
  return { dim: vocabulary.length, rowStart, columns, weights, vocabulary };
}
