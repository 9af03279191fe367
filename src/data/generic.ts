/**
 * Datasets from plain interaction logs: an interactions file (CSV/TSV or JSON
 * Lines), an optional item metadata file (JSON Lines), and
 * {@link buildDataset}, which orders, filters and numbers them like the P5 data.
 */
import * as path from 'node:path';
import type { Dataset, ItemInfo } from './types';
import { InputFileError, UserError } from '../util/errors';
import { isJsonObject, parseJsonText, readInputText, splitLines } from './input-files';
import { parseCsv } from './csv';
import { itemInfoFromRecord } from './item-info';
import { kCoreMask } from './kcore';

/** One user–item interaction with its time (any increasing unit: seconds, ms, ...). */
export interface Interaction {
  user: string;
  item: string;
  timestamp: number;
}

/**
 * Accepted names of each column (CSV header) or field (JSON Lines), compared
 * case-insensitively; the last ones are those of the raw Amazon review files.
 */
export const INTERACTION_FIELDS = {
  user: ['user', 'user_id', 'userid', 'reviewerid'],
  item: ['item', 'item_id', 'itemid', 'asin'],
  timestamp: ['timestamp', 'time', 'unixreviewtime'],
} as const;

type Field = keyof typeof INTERACTION_FIELDS;
const FIELDS: Field[] = ['user', 'item', 'timestamp'];

/**
 * Read an interactions file. The format follows the extension: `.csv` (comma),
 * `.tsv` (tab), `.jsonl` / `.ndjson` / `.json` (one JSON object per line);
 * any other extension is JSON Lines when the first character is `{`, else CSV.
 * A CSV needs a header naming the user, item and timestamp columns (see
 * {@link INTERACTION_FIELDS}; other columns are ignored) and may quote fields.
 * Timestamps are numbers or dates that `Date.parse` understands (then in ms).
 * Interactions are returned in file order.
 *
 * @throws InputFileError for a missing file, missing columns or fields, an empty
 *   id, a bad timestamp, invalid JSON (with its line), or a file with no rows
 */
export function readInteractions(file: string): Interaction[] {
  const text = readInputText(file, 'interactions');
  const ext = path.extname(file).toLowerCase();
  const isJsonLines = ['.jsonl', '.ndjson', '.json'].includes(ext) || (!['.csv', '.tsv'].includes(ext) && text.trimStart().startsWith('{'));
  const interactions = isJsonLines ? readInteractionsJsonl(text, file) : readInteractionsCsv(text, file, ext === '.tsv' ? '\t' : ',');
  if (interactions.length === 0) throw new InputFileError(file, null, 'no interactions: the file has no rows');
  return interactions;
}

function readInteractionsCsv(text: string, file: string, delimiter: string): Interaction[] {
  const records = parseCsv(text, file, delimiter);
  if (records.length === 0) return [];
  const header = records[0].fields.map((name) => name.trim().toLowerCase());
  const column = {} as Record<Field, number>;
  const missing: string[] = [];
  for (const field of FIELDS) {
    column[field] = header.findIndex((name) => (INTERACTION_FIELDS[field] as readonly string[]).includes(name));
    if (column[field] === -1) missing.push(`${field} (${INTERACTION_FIELDS[field].join(' | ')})`);
  }
  if (missing.length > 0) {
    throw new InputFileError(
      file,
      records[0].line,
      `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in header "${records[0].fields.join(delimiter)}"`,
    );
  }
  const interactions: Interaction[] = [];
  for (let r = 1; r < records.length; r++) {
    const { fields, line } = records[r];
    if (fields.length !== header.length) {
      throw new InputFileError(file, line, `expected ${header.length} fields as in the header, found ${fields.length}`);
    }
    interactions.push({
      user: idValue(fields[column.user], 'user', file, line),
      item: idValue(fields[column.item], 'item', file, line),
      timestamp: timestampValue(fields[column.timestamp], file, line),
    });
  }
  return interactions;
}

function readInteractionsJsonl(text: string, file: string): Interaction[] {
  const interactions: Interaction[] = [];
  forEachJsonLine(text, file, (record, line) => {
    const value = (field: Field): unknown => {
      for (const key of Object.keys(record)) {
        if ((INTERACTION_FIELDS[field] as readonly string[]).includes(key.toLowerCase())) return record[key];
      }
      throw new InputFileError(file, line, `missing field ${field} (${INTERACTION_FIELDS[field].join(' | ')})`);
    };
    interactions.push({
      user: idValue(value('user'), 'user', file, line),
      item: idValue(value('item'), 'item', file, line),
      timestamp: timestampValue(value('timestamp'), file, line),
    });
  });
  return interactions;
}

/** Call fn with each non-blank line parsed as a JSON object. */
function forEachJsonLine(text: string, file: string, fn: (record: Record<string, unknown>, line: number) => void): void {
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const record = parseJsonText(lines[i], file, i + 1);
    if (!isJsonObject(record)) throw new InputFileError(file, i + 1, 'expected a JSON object');
    fn(record, i + 1);
  }
}

function idValue(raw: unknown, field: string, file: string, line: number): string {
  const id = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (id === '') throw new InputFileError(file, line, `${field} id is empty or not a string/number`);
  return id;
}

function timestampValue(raw: unknown, file: string, line: number): number {
  let value = NaN;
  if (typeof raw === 'number') value = raw;
  else if (typeof raw === 'string') {
    const text = raw.trim();
    value = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) ? Number(text) : Date.parse(text);
  }
  if (!Number.isFinite(value)) {
    throw new InputFileError(file, line, `timestamp ${JSON.stringify(raw)} is not a number or a date`);
  }
  return value;
}

/**
 * Read item metadata, one JSON object per line. The item's id is its `item`
 * field, or else `asin`; the attributes are read as in {@link itemInfoFromRecord}
 * (title, brand, price, categories, imageUrl / imUrl), and the id is kept as
 * `asin`.
 *
 * @returns attributes by item id
 * @throws InputFileError for a missing file, invalid JSON (with its line), a
 *   record without an id, a repeated id, or a field of the wrong type
 */
export function readItemsJsonl(file: string): Map<string, ItemInfo> {
  const text = readInputText(file, 'item metadata');
  const items = new Map<string, ItemInfo>();
  const firstLine = new Map<string, number>();
  forEachJsonLine(text, file, (record, line) => {
    const raw = record.item ?? record.asin;
    if (raw === undefined || raw === null) throw new InputFileError(file, line, 'missing field item (or asin)');
    const id = idValue(raw, 'item', file, line);
    const previous = firstLine.get(id);
    if (previous !== undefined) throw new InputFileError(file, line, `item ${id} already appeared on line ${previous}`);
    firstLine.set(id, line);
    items.set(id, itemInfoFromRecord(record, id, file, line));
  });
  return items;
}

/** Input of {@link buildDataset}. */
export interface BuildDatasetOptions {
  /** Interactions in file order (ties in time keep this order). */
  interactions: Interaction[];
  /** Item attributes by external item id; items without an entry get null. */
  items?: Map<string, ItemInfo>;
  /** Dataset name for reports. */
  name: string;
  /** k of the k-core filter (users and items with at least k interactions); 0 or 1 keeps all. Default 5. */
  minCount?: number;
}

/**
 * Turn an interaction log into a Dataset the way the P5 data was made:
 * 1. k-core filter (iterated until every user and item has >= minCount);
 * 2. each user's interactions sorted by time, stably (ties keep file order);
 *    repeated user–item pairs are kept as separate interactions;
 * 3. users numbered in order of first appearance in the file;
 * 4. items numbered 1..N by first appearance when reading the users' sequences
 *    in user order.
 *
 * @throws UserError when no interactions are given or none survive the filter
 */
export function buildDataset(options: BuildDatasetOptions): Dataset {
  const { interactions, items, name } = options;
  const minCount = options.minCount ?? 5;
  if (interactions.length === 0) throw new UserError(`dataset ${name}: no interactions`);

  // Dense indices in order of first appearance.
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const users = new Int32Array(interactions.length);
  const itemsOf = new Int32Array(interactions.length);
  interactions.forEach((x, e) => {
    let u = userIndex.get(x.user);
    if (u === undefined) userIndex.set(x.user, (u = userIndex.size));
    let i = itemIndex.get(x.item);
    if (i === undefined) itemIndex.set(x.item, (i = itemIndex.size));
    users[e] = u;
    itemsOf[e] = i;
  });
  const keep = kCoreMask(users, itemsOf, userIndex.size, itemIndex.size, minCount);

  // Group the kept interactions by user (counting sort keeps file order inside a user).
  const offsets = new Int32Array(userIndex.size + 1);
  for (let e = 0; e < interactions.length; e++) if (keep[e] === 1) offsets[users[e] + 1]++;
  for (let u = 0; u < userIndex.size; u++) offsets[u + 1] += offsets[u];
  const byUser = new Int32Array(offsets[userIndex.size]);
  const fill = offsets.slice(0, userIndex.size);
  for (let e = 0; e < interactions.length; e++) if (keep[e] === 1) byUser[fill[users[e]]++] = e;
  if (byUser.length === 0) {
    throw new UserError(`dataset ${name}: no interactions left after the ${minCount}-core filter`);
  }

  const externalUserIds = Array.from(userIndex.keys());
  const userIds: string[] = [];
  const sequences: Int32Array[] = [];
  const itemNumber = new Map<string, number>();
  const itemIds = [''];
  for (let u = 0; u < userIndex.size; u++) {
    if (offsets[u] === offsets[u + 1]) continue;
    const events = Array.from(byUser.subarray(offsets[u], offsets[u + 1]));
    events.sort((a, b) => interactions[a].timestamp - interactions[b].timestamp); // stable
    const sequence = new Int32Array(events.length);
    events.forEach((e, t) => {
      const external = interactions[e].item;
      let id = itemNumber.get(external);
      if (id === undefined) {
        itemNumber.set(external, (id = itemIds.length));
        itemIds.push(external);
      }
      sequence[t] = id;
    });
    userIds.push(externalUserIds[u]);
    sequences.push(sequence);
  }
  const itemInfos: (ItemInfo | null)[] = itemIds.map((id, i) => (i === 0 ? null : (items?.get(id) ?? null)));
  return { name, numItems: itemIds.length - 1, sequences, userIds, itemIds, items: itemInfos };
}
