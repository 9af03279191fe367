/**
 * Item attributes: each item's brand and categories and, optionally, the words
 * of its title, kept where several items share them, as a sparse row of weight
 * 1/sqrt(count) per value (unit length; an item with none has an empty row). The model learns one vector per value
 * and adds the weighted sum to the item's vector (model/layers/item-table.ts),
 * so every shared brand and category is known exactly — identity information
 * that a sentence encoder blurs (brand names especially). Computed from the
 * dataset in milliseconds; nothing to cache.
 */
import type { ItemInfo } from '../data/types';
import type { ItemAttributes } from '../model/layers/item-table';

/** Item attributes with the name of each column: the vocabulary an exported model keeps, over which items added later get their attribute rows. */
export interface NamedItemAttributes extends ItemAttributes {
  /** Column names, e.g. "brand:opi", "category:Nail Polish", in column order. */
  vocabulary: string[];
}

/** Which attributes to take from each item. */
export interface AttributeKinds {
  /** Brand (case-folded) and categories: "brand:opi", "category:Nail Polish". */
  brandAndCategory: boolean;
  /** Title words (lower case, letters and digits, 2+ characters, not only digits): "word:matte". */
  titleWords: boolean;
}

const BRAND_AND_CATEGORY: AttributeKinds = { brandAndCategory: true, titleWords: false };

/** The words of a title as attribute tokens (see AttributeKinds.titleWords). */
export function titleWords(title: string): string[] {
  return (title.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length >= 2 && !/^[0-9]+$/.test(w));
}

/** The attribute values of one item. */
export function itemAttributes(info: ItemInfo | null, kinds: AttributeKinds = BRAND_AND_CATEGORY): string[] {
  if (!info) return [];
  const values: string[] = [];
  if (kinds.brandAndCategory) {
    if (info.brand) values.push(`brand:${info.brand.toLowerCase()}`);
    for (const c of info.categories ?? []) values.push(`category:${c}`);
  }
  if (kinds.titleWords && info.title) for (const w of titleWords(info.title)) values.push(`word:${w}`);
  return values;
}

/**
 * Build the sparse attribute rows of a dataset's items.
 * @param items    dataset.items (index 0 = padding, which gets no attribute)
 * @param kinds    which attributes (default: brand and categories)
 * @param minItems keep a value only when at least this many items have it
 *                 (a value of one item would only repeat its ID)
 */
export function attributeFeatures(items: readonly (ItemInfo | null)[], kinds: AttributeKinds = BRAND_AND_CATEGORY, minItems = 2): NamedItemAttributes {
  const perItem = distinctAttributes(items, kinds);
  const counts = new Map<string, number>();
  for (const values of perItem) for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const vocabulary = [...counts]
    .filter(([, n]) => n >= minItems)
    .map(([v]) => v)
    .sort();
  return { ...attributeRows(perItem, vocabulary), vocabulary };
}

/** Each item's distinct attribute values (index 0, the padding item, has none). */
function distinctAttributes(items: readonly (ItemInfo | null)[], kinds: AttributeKinds): string[][] {
  return items.map((info, i) => (i === 0 ? [] : [...new Set(itemAttributes(info, kinds))]));
}

/**
 * The sparse rows of items over a fixed vocabulary (the columns of a trained
 * model's attribute table): item i gets its values that are columns, in column
 * order, each of weight 1/sqrt(their count); a value outside the vocabulary
 * adds nothing and is counted in `unknown[i]`. This is how
 * {@link attributeFeatures} weighs the items it was built from, so an item
 * added after training is weighed as a training item with the same metadata.
 * @param items index 0 = padding (no attribute), as in dataset.items
 */
export function attributesOver(
  items: readonly (ItemInfo | null)[],
  kinds: AttributeKinds,
  vocabulary: readonly string[],
): ItemAttributes & { unknown: number[] } {
  const perItem = distinctAttributes(items, kinds);
  const rows = attributeRows(perItem, vocabulary);
  return { ...rows, unknown: perItem.map((values, i) => values.length - (rows.rowStart[i + 1] - rows.rowStart[i])) };
}

/** Compressed rows of the items' values that are columns of `vocabulary`, weighted 1/sqrt(count) per row. */
function attributeRows(perItem: readonly string[][], vocabulary: readonly string[]): ItemAttributes {
  const column = new Map(vocabulary.map((v, j) => [v, j]));
  const rows = perItem.map((values) =>
    values
      .map((v) => column.get(v))
      .filter((j): j is number => j !== undefined)
      .sort((a, b) => a - b),
  );
  const rowStart = new Int32Array(perItem.length + 1);
  rows.forEach((cols, i) => {
    rowStart[i + 1] = rowStart[i] + cols.length;
  });
  const columns = Int32Array.from(rows.flat());
  const weights = Float32Array.from(rows.flatMap((cols) => cols.map(() => 1 / Math.sqrt(cols.length))));
  return { dim: vocabulary.length, rowStart, columns, weights };
}
