/**
 * A dataset folder in the P5 layout built from the raw Amazon 2014 files of a
 * category: fetch what is missing (when allowed), read (./amazon.ts), write the
 * folder and an ingest report listing every skipped line.
 */
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/files';
import { amazonFileNames, readAmazonDataset, type AmazonDatasetOptions, type AmazonDatasetResult } from './amazon';
import { downloadAmazonRawFiles } from './amazon-download';
import { writeP5Dataset } from './p5';
import { datasetStats } from './stats';

/** The report written next to the dataset. */
export const INGEST_REPORT_FILE = 'ingest-report.json';

/** Options of {@link ingestAmazon}. */
export interface AmazonIngestOptions extends Omit<AmazonDatasetOptions, 'rawDir'> {
  /** Dataset folder to write. */
  out: string;
  /** Folder with the raw files (default `<out>/raw`). */
  rawDir?: string;
  /** Download the raw files that are missing (default false: they must be there). */
  download?: boolean;
  /** Where to download from (default the 2014 release's address). */
  sourceUrl?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@link ingestAmazon} read and wrote. */
export interface AmazonIngestResult extends AmazonDatasetResult {
  /** Folder of the raw files read. */
  rawDir: string;
  /** Interactions in the dataset (after the k-core filter). */
  interactions: number;
  /** Path of the ingest report. */
  reportFile: string;
}

/**
 * Build a P5 dataset folder from a category's raw files: 5-core (or
 * `minCount`), each user's reviews in stable chronological order, item
 * metadata with title, price, brand, first category path and image URL.
 * @throws UserError (code "raw-files-missing") when the raw files are absent and cannot be downloaded;
 *         InputFileError for a malformed line when malformed lines are fatal
 */
export async function ingestAmazon(options: AmazonIngestOptions): Promise<AmazonIngestResult> {
  const { category, out } = options;
  const rawDir = options.rawDir ?? path.join(out, 'raw');
  const log = options.log ?? (() => {});
  const minCount = options.minCount ?? 5;
  if (options.download) await downloadAmazonRawFiles({ category, rawDir, sourceUrl: options.sourceUrl, log });
  const names = amazonFileNames(category);
  log(`reading ${path.join(rawDir, names.reviews)} and ${names.meta}`);
  const result = await readAmazonDataset({ rawDir, category, minCount, onMalformed: options.onMalformed, name: options.name });
  writeP5Dataset(result.dataset, out);
  const { interactions } = datasetStats(result.dataset);
  const reportFile = path.join(out, INGEST_REPORT_FILE);
  writeJsonAtomic(reportFile, {
    category,
    raw: { reviews: path.join(rawDir, names.reviews), meta: path.join(rawDir, names.meta) },
    min_count: minCount,
    reviews_read: result.reviewsRead,
    users: result.dataset.sequences.length,
    items: result.dataset.numItems,
    interactions,
    items_without_meta: result.itemsWithoutMeta,
    malformed_lines: result.malformed,
  });
  return { ...result, rawDir, interactions, reportFile };
}
