/**
 * Attribute features: each item's brand and categories as a multi-hot vector
 * over the attribute values that several items share, L2-normalised (an item
 * with none keeps a zero row). Appended to the text embedding, they pass
 * through the same learned projection (SPEC §4: e_i = P f_i + p), so every
 * shared brand and category gets a learned vector of its own — exact identity
 * information that a sentence encoder blurs (brand names especially). Computed
 * from the dataset in milliseconds; nothing to cache.
 */
import type { ItemInfo } from '../data/types';

export interface AttributeFeatures {
  /** (N+1)×dim, row 0 (padding) zeros. */
  matrix: Float32Array;
  dim: number;
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
 * Build the attribute matrix of a dataset's items.
 * @param items    dataset.items (index 0 = padding)
 * @param minItems keep a value only when at least this many items have it
 *                 (a value of one item would only repeat its ID)
 */
export function attributeFeatures(items: readonly (ItemInfo | null)[], minItems = 2): AttributeFeatures {
  const perItem = items.map((info, i) => (i === 0 ? [] : [...new Set(itemAttributes(info))]));
  const counts = new Map<string, number>();
  for (const values of perItem) for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const vocabulary = [...counts].filter(([, n]) => n >= minItems).map(([v]) => v).sort();
  const column = new Map(vocabulary.map((v, j) => [v, j]));
  const dim = vocabulary.length;
  const matrix = new Float32Array(items.length * dim);
  perItem.forEach((values, i) => {
    const cols = values.map((v) => column.get(v)).filter((j): j is number => j !== undefined);
    const weight = 1 / Math.sqrt(cols.length);
    for (const j of cols) matrix[i * dim + j] = weight;
  });
  return { matrix, dim, vocabulary };
}
