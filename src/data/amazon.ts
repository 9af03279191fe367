/**
 * The raw Amazon 2014 review data (McAuley et al., "Image-based recommendations
 * on styles and substitutes"), turned into the P5 layout:
 *
 * - `reviews_<Category>_5.json.gz`: gzipped JSON Lines, one review per line with
 *   `reviewerID`, `asin`, `unixReviewTime` (other fields ignored);
 * - `meta_<Category>.json.gz`: gzipped, one *Python literal* dict per line (the
 *   originals were written with `str(dict)`: single quotes, `True`/`None`), with
 *   `asin`, `title`, `price`, `brand`, `categories` (a list of category paths)
 *   and `imUrl`.
 *
 * A malformed line is either skipped and listed in the report (with its file and
 * line number) or fatal, as the caller asks. Downloading the files:
 * ./amazon-download.ts; building a dataset folder from them: ./amazon-ingest.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as zlib from 'node:zlib';
import type { Dataset, ItemInfo } from './types';
import { buildDataset, type Interaction } from './generic';
import { itemInfoFromRecord } from './item-info';
import { isJsonObject } from './input-files';
import { InputFileError, UserError } from '../util/errors';
import { parsePythonLiteral } from './python-literal';

/** Where the 2014 per-category files are published. */
export const AMAZON_2014_BASE_URL = 'http://snap.stanford.edu/data/amazon/productGraph/categoryFiles';

/** File names of one category's raw files. */
export function amazonFileNames(category: string): { reviews: string; meta: string } {
  if (!/^[A-Za-z0-9_]+$/.test(category)) {
    throw new UserError(`category "${category}" must be a name like Beauty, Sports_and_Outdoors or Toys_and_Games`);
  }
  return { reviews: `reviews_${category}_5.json.gz`, meta: `meta_${category}.json.gz` };
}

/** What to do with a line that cannot be read. */
export type MalformedPolicy = 'skip' | 'fail';

/** One skipped line. */
export interface MalformedLine {
  file: string;
  line: number;
  problem: string;
}

/** Call fn(line, lineNumber) for each non-blank line of a (possibly gzipped) text file. */
async function forEachLine(file: string, fn: (line: string, lineNumber: number) => void): Promise<void> {
  if (!fs.existsSync(file)) throw new InputFileError(file, null, 'missing file');
  const input = fs.createReadStream(file);
  const stream = file.endsWith('.gz') ? input.pipe(zlib.createGunzip()) : input;
  const failure = new Promise<never>((_, reject) => {
    const onError = (err: Error): void => reject(new InputFileError(file, null, `cannot read: ${err.message}`));
    input.on('error', onError);
    stream.on('error', onError);
  });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const loop = (async () => {
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() !== '') fn(line, n);
    }
  })();
  try {
    await Promise.race([loop, failure]);
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Collects malformed lines under a policy. */
class MalformedLog {
  readonly lines: MalformedLine[] = [];
  constructor(private readonly policy: MalformedPolicy) {}
  add(file: string, line: number, problem: string): void {
    if (this.policy === 'fail') throw new InputFileError(file, line, problem, 'malformed-line');
    this.lines.push({ file, line, problem });
  }
}

/**
 * Read a reviews file (JSON Lines, gzipped or not) into interactions in file order.
 * @throws InputFileError for a missing file, or a malformed line when policy is "fail"
 */
export async function readAmazonReviews(file: string, policy: MalformedPolicy, malformed: MalformedLine[] = []): Promise<Interaction[]> {
  const log = new MalformedLog(policy);
  const interactions: Interaction[] = [];
  await forEachLine(file, (text, line) => {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      return log.add(file, line, `invalid JSON: ${(err as Error).message}`);
    }
    if (!isJsonObject(record)) return log.add(file, line, 'expected a JSON object');
    const user = record.reviewerID,
      item = record.asin,
      time = record.unixReviewTime;
    if (typeof user !== 'string' || user === '') return log.add(file, line, 'missing or empty "reviewerID"');
    if (typeof item !== 'string' || item === '') return log.add(file, line, 'missing or empty "asin"');
    if (typeof time !== 'number' || !Number.isFinite(time)) return log.add(file, line, 'missing or non-numeric "unixReviewTime"');
    interactions.push({ user, item, timestamp: time });
  });
  malformed.push(...log.lines);
  if (interactions.length === 0) throw new InputFileError(file, null, 'no readable reviews');
  return interactions;
}

/**
 * Read the metadata of the wanted items from a meta file (one Python-literal or
 * JSON dict per line). Item text keeps title, price, brand and the *first*
 * category path; the image URL comes from `imUrl`.
 * @param wanted only these ASINs are kept (all when undefined)
 */
export async function readAmazonMeta(
  file: string,
  policy: MalformedPolicy,
  wanted?: Set<string>,
  malformed: MalformedLine[] = [],
): Promise<Map<string, ItemInfo>> {
  const log = new MalformedLog(policy);
  const items = new Map<string, ItemInfo>();
  await forEachLine(file, (text, line) => {
    // Cheap pre-filter: skip lines whose asin we do not want without a full parse.
    if (wanted !== undefined) {
      const m = /['"]asin['"]\s*:\s*u?['"]([^'"]+)['"]/.exec(text);
      if (m !== null && !wanted.has(m[1])) return;
    }
    let record: unknown;
    try {
      record = parsePythonLiteral(text);
    } catch (err) {
      return log.add(file, line, `not a Python dict literal: ${(err as Error).message}`);
    }
    if (!isJsonObject(record)) return log.add(file, line, 'expected a dict');
    const asin = record.asin;
    if (typeof asin !== 'string' || asin === '') return log.add(file, line, 'missing or empty "asin"');
    if (wanted !== undefined && !wanted.has(asin)) return;
    const categories = record.categories;
    const firstPath = Array.isArray(categories) && categories.length > 0 ? (Array.isArray(categories[0]) ? [categories[0]] : [categories]) : categories;
    try {
      items.set(asin, itemInfoFromRecord({ ...record, categories: firstPath }, asin, file, line));
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
      return log.add(file, line, err.problem);
    }
  });
  malformed.push(...log.lines);
  return items;
}

/** Options of {@link readAmazonDataset}. */
export interface AmazonDatasetOptions {
  /** Folder holding the two raw files. */
  rawDir: string;
  /** Category, as in the file names (e.g. "Beauty"). */
  category: string;
  /** Dataset name (default: category in lower case). */
  name?: string;
  /** k of the k-core filter (default 5). */
  minCount?: number;
  /** Malformed lines: skipped and reported (default), or fatal. */
  onMalformed?: MalformedPolicy;
}

/** A dataset read from the raw files, with what was skipped. */
export interface AmazonDatasetResult {
  dataset: Dataset;
  malformed: MalformedLine[];
  /** Items of the dataset with no metadata line. */
  itemsWithoutMeta: string[];
  reviewsRead: number;
}

/**
 * Read a category's raw files into a Dataset ({@link buildDataset}: k-core,
 * stable chronological sort per user, ids by first appearance).
 * @throws InputFileError for a missing file or (policy "fail") a malformed line
 */
export async function readAmazonDataset(options: AmazonDatasetOptions): Promise<AmazonDatasetResult> {
  const names = amazonFileNames(options.category);
  const policy = options.onMalformed ?? 'skip';
  const malformed: MalformedLine[] = [];
  const reviewsFile = path.join(options.rawDir, names.reviews);
  const metaFile = path.join(options.rawDir, names.meta);
  for (const file of [reviewsFile, metaFile]) {
    if (!fs.existsSync(file)) throw new UserError(missingRawFilesMessage(options.category, options.rawDir), 'raw-files-missing');
  }
  const interactions = await readAmazonReviews(reviewsFile, policy, malformed);
  const dataset = buildDataset({
    interactions,
    name: options.name ?? options.category.toLowerCase(),
    minCount: options.minCount ?? 5,
  });
  const wanted = new Set(dataset.itemIds.slice(1));
  const meta = await readAmazonMeta(metaFile, policy, wanted, malformed);
  const itemsWithoutMeta: string[] = [];
  dataset.items = dataset.itemIds.map((id, i) => {
    if (i === 0) return null;
    const info = meta.get(id);
    if (info === undefined) itemsWithoutMeta.push(id);
    return info ?? null;
  });
  return { dataset, malformed, itemsWithoutMeta, reviewsRead: interactions.length };
}

/** What to do about raw files that are absent (offline, or not yet downloaded). */
export function missingRawFilesMessage(category: string, rawDir: string): string {
  const names = amazonFileNames(category);
  return (
    `the raw Amazon 2014 files for ${category} are not in ${rawDir}: put ` +
    `${names.reviews} (${AMAZON_2014_BASE_URL}/${names.reviews}) and ` +
    `${names.meta} (${AMAZON_2014_BASE_URL}/${names.meta}) there`
  );
}
