/**
 * The P5 dataset layout used by P5, fMRLRec and the staged Amazon 2014 5-core
 * data (see shared/data/PROVENANCE.md): one folder holding
 *
 * - `sequential_data.txt`: one line per user, `user item item ...`, integer ids,
 *   items in chronological order;
 * - `datamaps.json`: `id2item` / `id2user` map the integer ids (as strings) to
 *   Amazon ASINs / reviewer ids (`item2id` / `user2id` are their inverses);
 * - `item_meta.json` (optional): item attributes keyed by ASIN, with `item_id`
 *   (the P5 id), `title`, `brand`, `categories`, ...
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset, ItemInfo } from './types';
import { InputFileError, UserError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { isJsonObject, parseJsonText, readInputText } from './input-files';
import { itemInfoFromRecord } from './item-info';
import { encodeHtmlEntities } from './html-entities';

/** File names of the P5 layout. */
export const P5_FILES = {
  sequences: 'sequential_data.txt',
  datamaps: 'datamaps.json',
  itemMeta: 'item_meta.json',
} as const;

/**
 * Read a dataset in the P5 layout.
 *
 * Users are numbered 0..U-1 in line order; `userIds` are the reviewer ids from
 * `id2user`. Items keep their P5 integer ids when the ids that occur in
 * `sequential_data.txt` are exactly 1..N (true of all four staged datasets).
 * Otherwise they are renumbered densely to 1..N in ascending order of their P5
 * id, so that 0 stays the padding item. `itemIds` are the ASINs from `id2item`.
 * `items[i]` holds the attributes from `item_meta.json` (text HTML-decoded,
 * missing fields absent), or null when the file is absent or has no entry for
 * the item.
 *
 * @param dir  the dataset folder
 * @param name dataset name for reports (default: the folder's base name)
 * @throws InputFileError for a missing file, a malformed line (non-integer token,
 *   a user without items, a repeated user), an id missing from datamaps.json,
 *   invalid JSON, or a file without users
 */
export function readP5Dataset(dir: string, name?: string): Dataset {
  const sequencesFile = path.join(dir, P5_FILES.sequences);
  const datamapsFile = path.join(dir, P5_FILES.datamaps);
  const sequencesText = readInputText(sequencesFile, `a P5 dataset folder needs ${P5_FILES.sequences}`);
  const datamaps = parseJsonText(readInputText(datamapsFile, `a P5 dataset folder needs ${P5_FILES.datamaps}`), datamapsFile);
  const id2item = stringMap(datamaps, 'id2item', datamapsFile);
  const id2user = stringMap(datamaps, 'id2user', datamapsFile);

  // Parse the lines, checking every user and item id against the datamaps.
  const userIds: string[] = [];
  const rawSequences: Int32Array[] = [];
  const seenUsers = new Set<number>();
  const knownItems = new Set<number>();
  let maxItem = 0;
  for (const { line, values } of parseIntegerLines(sequencesText, sequencesFile)) {
    const user = values[0];
    if (values.length < 2) throw new InputFileError(sequencesFile, line, `user ${user} has no items`);
    if (seenUsers.has(user)) throw new InputFileError(sequencesFile, line, `user ${user} appears twice`);
    seenUsers.add(user);
    const userId = id2user[user];
    if (userId === undefined) {
      throw new InputFileError(sequencesFile, line, `user ${user} is missing from ${datamapsFile} (id2user)`);
    }
    const sequence = values.slice(1);
    for (const item of sequence) {
      if (knownItems.has(item)) continue;
      if (item === 0 || id2item[item] === undefined) {
        throw new InputFileError(sequencesFile, line, `item ${item} is missing from ${datamapsFile} (id2item)`);
      }
      knownItems.add(item);
      if (item > maxItem) maxItem = item;
    }
    userIds.push(userId);
    rawSequences.push(sequence);
  }
  if (rawSequences.length === 0) throw new InputFileError(sequencesFile, null, 'no users: the file is empty');

  // Internal ids: the P5 ids when they are exactly 1..N, else dense renumbering.
  const numItems = knownItems.size;
  const p5Ids = Int32Array.from(knownItems).sort(); // p5Ids[internal - 1]
  let sequences = rawSequences;
  if (maxItem !== numItems) {
    const internalOf = new Map<number, number>();
    p5Ids.forEach((p5, k) => internalOf.set(p5, k + 1));
    sequences = rawSequences.map((s) => s.map((p5) => internalOf.get(p5) as number));
  }
  const itemIds = new Array<string>(numItems + 1);
  itemIds[0] = '';
  const internalOfAsin = new Map<string, number>();
  for (let k = 1; k <= numItems; k++) {
    const asin = id2item[String(p5Ids[k - 1])];
    const previous = internalOfAsin.get(asin);
    if (previous !== undefined) {
      throw new InputFileError(datamapsFile, null, `id2item maps both ${p5Ids[previous - 1]} and ${p5Ids[k - 1]} to "${asin}"`);
    }
    internalOfAsin.set(asin, k);
    itemIds[k] = asin;
  }

  const items = new Array<ItemInfo | null>(numItems + 1).fill(null);
  const metaFile = path.join(dir, P5_FILES.itemMeta);
  if (fs.existsSync(metaFile)) {
    const meta = parseJsonText(readInputText(metaFile, 'item metadata'), metaFile);
    if (!isJsonObject(meta)) throw new InputFileError(metaFile, null, 'must be a JSON object keyed by item id (ASIN)');
    for (const [asin, record] of Object.entries(meta)) {
      const internal = internalOfAsin.get(asin);
      if (internal === undefined) continue;
      if (!isJsonObject(record)) throw new InputFileError(metaFile, null, `item ${asin}: must be a JSON object`);
      const p5Id = p5Ids[internal - 1];
      if (record.item_id !== undefined && record.item_id !== null && Number(record.item_id) !== p5Id) {
        throw new InputFileError(metaFile, null, `item ${asin}: item_id ${String(record.item_id)} disagrees with ${P5_FILES.datamaps} (${p5Id})`);
      }
      items[internal] = itemInfoFromRecord(record, asin, metaFile, null);
    }
  }

  return {
    name: name ?? path.basename(path.resolve(dir)),
    numItems,
    sequences,
    userIds,
    itemIds,
    items,
  };
}

/**
 * Parse a file of whitespace-separated non-negative integers, one record per
 * non-blank line. A record's values are a view into one shared buffer (copy to keep).
 * @throws InputFileError at the line of a token that is not an integer below 2^31
 */
function parseIntegerLines(text: string, file: string): { line: number; values: Int32Array }[] {
  const SPACE = 32,
    TAB = 9,
    CR = 13,
    LF = 10,
    ZERO = 48,
    NINE = 57;
  const buffer = new Int32Array((text.length >>> 1) + 1);
  const records: { line: number; values: Int32Array }[] = [];
  let count = 0;
  let recordStart = 0;
  let line = 1;
  let value = -1; // -1: not inside a number
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : LF;
    if (c >= ZERO && c <= NINE) {
      value = value === -1 ? c - ZERO : value * 10 + (c - ZERO);
      if (value > 0x7fffffff) throw badToken(text, i, file, line, 'is too large for an id');
      continue;
    }
    if (c !== SPACE && c !== TAB && c !== CR && c !== LF) throw badToken(text, i, file, line, 'is not an integer id');
    if (value !== -1) {
      buffer[count++] = value;
      value = -1;
    }
    if (c === LF) {
      if (count > recordStart) records.push({ line, values: buffer.subarray(recordStart, count) });
      recordStart = count;
      line++;
    }
  }
  return records;
}

/** The error for the token of text that contains position i. */
function badToken(text: string, i: number, file: string, line: number, problem: string): InputFileError {
  const isSeparator = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  let start = i;
  while (start > 0 && !isSeparator(text[start - 1])) start--;
  let end = i;
  while (end < text.length && !isSeparator(text[end])) end++;
  return new InputFileError(file, line, `"${text.slice(start, end)}" ${problem}`);
}

/** The object `datamaps[key]`, whose values must be strings. */
function stringMap(datamaps: unknown, key: string, file: string): Record<string, string> {
  const map = isJsonObject(datamaps) ? datamaps[key] : undefined;
  if (!isJsonObject(map)) throw new InputFileError(file, null, `has no "${key}" object`);
  for (const [id, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw new InputFileError(file, null, `${key}["${id}"] must be a string`);
  }
  return map as Record<string, string>;
}

/**
 * Write a dataset in the P5 layout, so that {@link readP5Dataset} reads it back
 * unchanged (given that every item 1..N occurs in some sequence and text is
 * already clean, as {@link readP5Dataset} collapses whitespace). P5 user ids are
 * 1..U in user order; item ids are the internal ids. `datamaps.json` holds
 * `user2id`, `item2id`, `id2user` and `id2item`; `item_meta.json` holds the
 * items with attributes, keyed by external id, with `&` written as `&amp;` like
 * the Amazon metadata (an old `item_meta.json` is removed when no item has
 * attributes). Each file is written atomically.
 *
 * @param ds  the dataset
 * @param dir the folder to write (created if needed)
 * @throws UserError when user or item external ids are not unique
 */
export function writeP5Dataset(ds: Dataset, dir: string): void {
  requireUnique(ds.userIds, 'user');
  requireUnique(ds.itemIds.slice(1), 'item');

  const lines = ds.sequences.map((seq, u) => `${u + 1} ${Array.from(seq).join(' ')}\n`);
  writeFileAtomic(path.join(dir, P5_FILES.sequences), lines.join(''));

  const datamaps = {
    user2id: {} as Record<string, string>,
    item2id: {} as Record<string, string>,
    id2user: {} as Record<string, string>,
    id2item: {} as Record<string, string>,
  };
  ds.userIds.forEach((userId, u) => {
    datamaps.user2id[userId] = String(u + 1);
    datamaps.id2user[String(u + 1)] = userId;
  });
  for (let i = 1; i <= ds.numItems; i++) {
    datamaps.item2id[ds.itemIds[i]] = String(i);
    datamaps.id2item[String(i)] = ds.itemIds[i];
  }
  writeFileAtomic(path.join(dir, P5_FILES.datamaps), JSON.stringify(datamaps));

  const meta: Record<string, Record<string, unknown>> = {};
  let described = 0;
  for (let i = 1; i <= ds.numItems; i++) {
    const info = ds.items[i];
    if (info === null) continue;
    described++;
    meta[ds.itemIds[i]] = {
      item_id: i,
      title: info.title === undefined ? undefined : encodeHtmlEntities(info.title),
      brand: info.brand === undefined ? undefined : encodeHtmlEntities(info.brand),
      price: typeof info.price === 'string' ? encodeHtmlEntities(info.price) : info.price,
      categories: info.categories?.map(encodeHtmlEntities),
      imageUrl: info.imageUrl === undefined ? undefined : encodeHtmlEntities(info.imageUrl),
    };
  }
  const metaFile = path.join(dir, P5_FILES.itemMeta);
  if (described > 0) writeFileAtomic(metaFile, JSON.stringify(meta));
  else fs.rmSync(metaFile, { force: true });
}

function requireUnique(ids: string[], kind: string): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new UserError(`cannot write a P5 dataset: ${kind} id "${id}" occurs twice`);
    seen.add(id);
  }
}
