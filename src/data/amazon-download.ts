/** Fetching the raw Amazon 2014 files of a category (./amazon.ts reads them). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadFile } from '../util/download';
import { UserError } from '../util/errors';
import { AMAZON_2014_BASE_URL, amazonFileNames, missingRawFilesMessage } from './amazon';

/** Options of {@link downloadAmazonRawFiles}. */
export interface AmazonDownloadOptions {
  /** Category, as in the file names (e.g. "Beauty"). */
  category: string;
  /** Folder the files go to. */
  rawDir: string;
  /** Where the files are published (default {@link AMAZON_2014_BASE_URL}). */
  sourceUrl?: string;
  /** Progress lines: the URL of each download, then every 16 MiB received. */
  log?: (line: string) => void;
}

/** The raw files of `category` that are not in `rawDir`. */
export function missingAmazonRawFiles(category: string, rawDir: string): string[] {
  const names = amazonFileNames(category);
  return [names.reviews, names.meta].filter((f) => !fs.existsSync(path.join(rawDir, f)));
}

/**
 * Download the raw files of the category that are not in rawDir yet.
 * @returns the files downloaded
 * @throws UserError (code "raw-files-missing") naming the URL and where to put the file when a download fails
 */
export async function downloadAmazonRawFiles(options: AmazonDownloadOptions): Promise<string[]> {
  const { category, rawDir } = options;
  const log = options.log ?? (() => {});
  const base = (options.sourceUrl ?? AMAZON_2014_BASE_URL).replace(/\/+$/, '');
  const missing = missingAmazonRawFiles(category, rawDir);
  for (const file of missing) {
    const url = `${base}/${file}`;
    log(`downloading ${url}`);
    let lastShown = 0;
    try {
      await downloadFile(url, path.join(rawDir, file), {
        onProgress: (received, total) => {
          if (received - lastShown < 16 << 20) return;
          lastShown = received;
          log(`  ${(received / 2 ** 20).toFixed(0)} MiB${total ? ` of ${(total / 2 ** 20).toFixed(0)} MiB` : ''}`);
        },
      });
    } catch (err) {
      throw new UserError(`could not download ${url} (${(err as Error).message}); ${missingRawFilesMessage(category, rawDir)}`, 'raw-files-missing');
    }
  }
  return missing.map((f) => path.join(rawDir, f));
}
