/**
 * Item images: from a local folder (a file named by ASIN or item id, any of
 * .jpg .jpeg .png .webp) or, when allowed, downloaded from the item's image URL
 * (concurrent, with a timeout and retries). An item whose image cannot be had
 * gets a problem string instead of bytes; it is never an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import { downloadBytes, HttpStatusError } from '../util/download';
import { UserError } from '../util/errors';

/** Extensions of the image files read from an image folder (lower case; other files are ignored). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'];

/** Where item images come from. */
export interface ItemImageOptions {
  /** Folder of image files named `<asin>.<ext>` or `<item id>.<ext>`. */
  folder?: string;
  /** Download from the metadata's image URL when no local file exists (default false). */
  download?: boolean;
  /** Parallel downloads (default 8). */
  concurrency?: number;
  /** Per-attempt download timeout in ms (default 20 s). */
  timeoutMs?: number;
  /** Download attempts (default 3). */
  attempts?: number;
}

/** Where item i's image is: a file, a URL, or why there is none. */
export type ImageSource = { file: string } | { url: string } | { problem: string };

/**
 * The image source of every item 1..N (index 0 unused), without reading any image.
 * @throws UserError when the folder does not exist
 */
export function itemImageSources(dataset: Dataset, options: ItemImageOptions): ImageSource[] {
  const files = new Map<string, string>();
  if (options.folder !== undefined) {
    if (!fs.existsSync(options.folder) || !fs.statSync(options.folder).isDirectory()) {
      throw new UserError(`image folder ${options.folder} does not exist`);
    }
    for (const name of fs.readdirSync(options.folder).sort()) {
      const ext = path.extname(name).toLowerCase();
      if (!IMAGE_EXTENSIONS.includes(ext)) continue;
      const base = name.slice(0, -ext.length);
      if (!files.has(base)) files.set(base, path.join(options.folder, name));
    }
  }
  const sources: ImageSource[] = [{ problem: 'padding' }];
  for (let i = 1; i <= dataset.numItems; i++) {
    const asin = dataset.items[i]?.asin ?? dataset.itemIds[i];
    const file = files.get(asin) ?? files.get(dataset.itemIds[i]) ?? files.get(String(i));
    const url = dataset.items[i]?.imageUrl;
    if (file !== undefined) sources.push({ file });
    else if (url !== undefined && options.download) sources.push({ url });
    else if (url !== undefined) {
      sources.push({ problem: `no image file${options.folder ? ` in ${options.folder}` : ''} and downloads are off (URL ${url})` });
    } else sources.push({ problem: `no image file${options.folder ? ` in ${options.folder}` : ''} and no image URL in the metadata` });
  }
  return sources;
}

/** A string that changes when an item's image would (for cache keys). */
export function imageSourceKey(source: ImageSource): string {
  if ('file' in source) {
    const stat = fs.statSync(source.file);
    return `file:${path.basename(source.file)}:${stat.size}:${stat.mtimeMs}`;
  }
  if ('url' in source) return `url:${source.url}`;
  return 'none';
}

/** The bytes of each source, or why they could not be read. */
export async function readImageSources(sources: ImageSource[], options: ItemImageOptions): Promise<({ bytes: Uint8Array } | { problem: string })[]> {
  const results = new Array<{ bytes: Uint8Array } | { problem: string }>(sources.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const k = next++;
      const source = sources[k];
      if ('problem' in source) results[k] = { problem: source.problem };
      else if ('file' in source) {
        try {
          results[k] = { bytes: fs.readFileSync(source.file) };
        } catch (err) {
          results[k] = { problem: `cannot read ${source.file}: ${(err as Error).message}` };
        }
      } else results[k] = await downloadImage(source.url, options);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return results;
}

async function downloadImage(url: string, options: ItemImageOptions): Promise<{ bytes: Uint8Array } | { problem: string }> {
  try {
    return { bytes: await downloadBytes(url, { attempts: options.attempts, timeoutMs: options.timeoutMs }) };
  } catch (err) {
    return { problem: err instanceof HttpStatusError ? err.message : `download of ${url} failed: ${(err as Error).message}` };
  }
}
