/**
 * Item attributes from a JSON metadata record (P5 `item_meta.json` values,
 * item JSONL lines, raw Amazon metadata), cleaned into an {@link ItemInfo}.
 */
import type { ItemInfo } from './types';
import { InputFileError } from '../util/errors';
import { decodeHtmlEntities } from './html-entities';

/**
 * Clean one text value: decode HTML entities, collapse runs of whitespace, trim.
 * @returns the text, or undefined when nothing is left
 */
export function cleanText(raw: string): string | undefined {
  const text = decodeHtmlEntities(raw).replace(/\s+/g, ' ').trim();
  return text === '' ? undefined : text;
}

/**
 * Build an ItemInfo from a metadata record. Read fields: `title`, `brand`,
 * `price` (number or string), `categories` (a flat list of names, or Amazon's list
 * of category paths, merged in order without repeats), and `imageUrl` or Amazon's
 * `imUrl`. Other fields are ignored. Text is cleaned with {@link cleanText}; a
 * field that is null, missing or empty after cleaning is left absent, never "".
 * @param record the JSON object
 * @param asin   the item's external id, stored as `asin`
 * @param file   file name for errors
 * @param line   line number for errors (null when unknown)
 * @throws InputFileError when a field has the wrong type
 */
export function itemInfoFromRecord(record: Record<string, unknown>, asin: string, file: string, line: number | null): ItemInfo {
  const wrongType = (field: string, expected: string): never => {
    throw new InputFileError(file, line, `item ${asin}: field "${field}" must be ${expected}`);
  };
  const textField = (field: string): string | undefined => {
    const value = record[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return wrongType(field, 'a string');
    return cleanText(value);
  };

  const info: ItemInfo = { asin };
  const title = textField('title');
  if (title !== undefined) info.title = title;
  const brand = textField('brand');
  if (brand !== undefined) info.brand = brand;

  const price = record.price;
  if (typeof price === 'number') {
    if (Number.isFinite(price)) info.price = price;
  } else if (typeof price === 'string') {
    const text = cleanText(price);
    if (text !== undefined) info.price = text;
  } else if (price !== undefined && price !== null) {
    wrongType('price', 'a number or a string');
  }

  const categories = record.categories;
  if (categories !== undefined && categories !== null) {
    if (!Array.isArray(categories)) wrongType('categories', 'a list');
    const names: string[] = [];
    for (const entry of (categories as unknown[]).flat()) {
      if (typeof entry !== 'string') wrongType('categories', 'a list of strings (or of lists of strings)');
      const name = cleanText(entry as string);
      if (name !== undefined && !names.includes(name)) names.push(name);
    }
    if (names.length > 0) info.categories = names;
  }

  const imageUrl = textField('imageUrl') ?? textField('imUrl');
  if (imageUrl !== undefined) info.imageUrl = imageUrl;
  return info;
}
