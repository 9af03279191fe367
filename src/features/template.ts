/**
 * The text an item is encoded from (docs/method.md §3): its attributes in the paper's
 * template, one `Name: value` line per attribute that is present.
 */
import type { ItemInfo } from '../data/types';

/**
 * Version of {@link itemText}'s output format. Bump it whenever the template
 * changes: cached feature matrices record it and are rebuilt when it differs.
 */
export const TEMPLATE_VERSION = 1;

/** The text of an item that has no attribute at all. */
export const UNTITLED_ITEM = 'Untitled Item';

/**
 * The template text of one item:
 * `Title: ...\nPrice: ...\nBrand: ...\nCategories: ...`.
 * A field that is missing, empty or blank is left out (a non-finite numeric price
 * too); categories are joined by ", ". An item with no field, or `null`, becomes
 * `Untitled Item`. Values are trimmed but otherwise kept as they are (case
 * matters to the encoders).
 */
export function itemText(info: ItemInfo | null): string {
  if (info === null) return UNTITLED_ITEM;
  const lines: string[] = [];
  const add = (name: string, value: string | undefined): void => {
    const text = value?.trim();
    if (text) lines.push(`${name}: ${text}`);
  };
  add('Title', info.title);
  add('Price', priceText(info.price));
  add('Brand', info.brand);
  const categories = (info.categories ?? []).map((c) => c.trim()).filter((c) => c !== '');
  if (categories.length > 0) lines.push(`Categories: ${categories.join(', ')}`);
  return lines.length > 0 ? lines.join('\n') : UNTITLED_ITEM;
}

function priceText(price: string | number | undefined): string | undefined {
  if (typeof price === 'number') return Number.isFinite(price) ? String(price) : undefined;
  return price;
}
