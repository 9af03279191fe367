/**
 * The item image feature matrix (docs/method.md §3): every item's main picture encoded
 * once, cached like the text features, and resumable.
 *
 * Files, per dataset and image encoder, in the cache folder:
 * - `<dataset>.<encoder-id>.npy` + `.json` sidecar ({@link ImageCacheSidecar}):
 *   (N+1) × dim float32, row 0 and every item without a usable image all zeros;
 *   the sidecar lists those items and why (the missing-image report);
 * - while encoding, the checkpoint of src/features/partial.ts: a run that is
 *   interrupted continues from there when the inputs are unchanged.
 */
import type { ItemFeatures } from './cache';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import { writeJsonAtomic } from '../util/files';
import { ProgressBar } from '../util/progress';
import type { ImageEncoderSource } from './huggingface';
import { imageSourceKey, itemImageSources, readImageSources, type ItemImageOptions } from './images';
import { readNpy, writeNpy } from './npy';
import { checkCacheNames, EncodingCheckpoint, matrixSha256 } from './partial';

/** An item without an image vector, and why. */
export interface MissingImage {
  item: number;
  asin: string;
  problem: string;
}

/** Contents of the `.json` sidecar beside a cached image matrix: what it was encoded from, and which items have no image. */
export interface ImageCacheSidecar {
  /** Id of the image encoder. */
  encoder: string;
  /** Width of one image vector. */
  dim: number;
  /** N, the number of items (the matrix has N+1 rows). */
  items: number;
  /** sha256 of every item's image source (file name, size, mtime, or URL). */
  inputs_sha256: string;
  /** sha256 of the matrix's bytes, checked when the cache is read. */
  matrix_sha256: string;
  /** Items whose row is zero because their image is missing or broken. */
  missing: MissingImage[];
  /** When the matrix was written (ISO 8601). */
  created: string;
}

/** What to encode the item images of, where to cache them, and how. */
export interface LoadImageFeaturesOptions extends ItemImageOptions {
  /** The dataset whose items' images are encoded. */
  dataset: Dataset;
  /** Folder of cache files (created when missing). */
  cacheDir: string;
  /** The image encoder, loaded only when the cache cannot be used. */
  encoder: ImageEncoderSource;
  /** Encode again even when the cache is valid. */
  rebuild?: boolean;
  /** Draw a progress bar on stderr while encoding (default true). */
  progress?: boolean;
  /** Items per chunk between checkpoints (default 64). */
  chunkSize?: number;
  /** Stop after this many chunks (for tests of resuming); the partial files stay. */
  stopAfterChunks?: number;
}

/** Image features: the item feature matrix plus what could not be read. */
export interface ImageFeatures extends ItemFeatures {
  missing: MissingImage[];
  /** False only when stopAfterChunks cut the run short. */
  complete: boolean;
}

/**
 * The image feature matrix of `dataset`, from the cache when valid, else
 * encoded (continuing an interrupted run) and cached.
 */
export async function loadItemImageFeatures(options: LoadImageFeaturesOptions): Promise<ImageFeatures> {
  const { dataset, cacheDir, encoder: source, progress = true } = options;
  checkCacheNames(dataset.name, source.id);
  const N = dataset.numItems;
  const sources = itemImageSources(dataset, options);
  const hash = createHash('sha256');
  for (let i = 1; i <= N; i++) hash.update(`${dataset.itemIds[i]}\t${imageSourceKey(sources[i])}\n`);
  const inputsSha256 = hash.digest('hex');
  const base = path.join(cacheDir, `${dataset.name}.${source.id}`);
  const matrixFile = `${base}.npy`,
    sidecarFile = `${base}.json`;

  if (!options.rebuild && fs.existsSync(matrixFile) && fs.existsSync(sidecarFile)) {
    try {
      const sidecar = JSON.parse(fs.readFileSync(sidecarFile, 'utf8')) as ImageCacheSidecar;
      if (sidecar.encoder === source.id && sidecar.items === N && sidecar.inputs_sha256 === inputsSha256) {
        const array = readNpy(matrixFile);
        if (array.shape[0] === N + 1 && array.shape[1] === sidecar.dim && matrixSha256(array.data) === sidecar.matrix_sha256) {
          return {
            matrix: array.data,
            dim: sidecar.dim,
            numRows: N + 1,
            encoder: source.id,
            path: matrixFile,
            fromCache: true,
            missing: sidecar.missing,
            complete: true,
          };
        }
      }
      log(`cache ${matrixFile} is stale; encoding again`);
    } catch (err) {
      log(`cache ${matrixFile} is unreadable (${(err as Error).message}); encoding again`);
    }
  }

  const encoder = await source.load();
  const dim = encoder.dim;
  const checkpoint = new EncodingCheckpoint<MissingImage[]>(base, { encoder: source.id, dim, items: N, inputs_sha256: inputsSha256 });
  let matrix: Float32Array = new Float32Array((N + 1) * dim);
  let done = 0;
  let missing: MissingImage[] = [];
  const resumed = options.rebuild ? null : checkpoint.resume();
  if (resumed) {
    ({ matrix, done, extra: missing } = resumed);
    log(`resuming: ${done} of ${N} item images already encoded (${checkpoint.matrixFile})`);
  }

  const chunkSize = options.chunkSize ?? 64;
  const bar = new ProgressBar('encoding item images', N - done, 'items', progress ? process.stderr : null);
  let chunks = 0;
  while (done < N) {
    if (options.stopAfterChunks !== undefined && chunks >= options.stopAfterChunks) {
      bar.finish();
      return { matrix, dim, numRows: N + 1, encoder: source.id, path: checkpoint.matrixFile, fromCache: false, missing, complete: false };
    }
    const end = Math.min(N, done + chunkSize);
    const chunkSources = sources.slice(done + 1, end + 1);
    const read = await readImageSources(chunkSources, options);
    const bytes: Uint8Array[] = [];
    const at: number[] = [];
    read.forEach((r, k) => {
      const item = done + 1 + k;
      if ('bytes' in r) {
        bytes.push(r.bytes);
        at.push(item);
      } else missing.push({ item, asin: dataset.itemIds[item], problem: r.problem });
    });
    const { rows, failed } = await encoder.encode(bytes);
    at.forEach((item, k) => {
      const problem = failed.get(k);
      if (problem !== undefined) missing.push({ item, asin: dataset.itemIds[item], problem });
      else matrix.set(rows.subarray(k * dim, (k + 1) * dim), item * dim);
    });
    done = end;
    chunks++;
    checkpoint.save(matrix, done, missing);
    bar.tick(chunkSources.length);
  }
  bar.finish();
  missing.sort((a, b) => a.item - b.item);
  writeNpy(matrixFile, matrix, [N + 1, dim]);
  const sidecar: ImageCacheSidecar = {
    encoder: source.id,
    dim,
    items: N,
    inputs_sha256: inputsSha256,
    matrix_sha256: matrixSha256(matrix),
    missing,
    created: new Date().toISOString(),
  };
  writeJsonAtomic(sidecarFile, sidecar);
  checkpoint.remove();
  log(`wrote ${matrixFile} (${N + 1} × ${dim}); ${missing.length} item(s) without an image got a zero row (listed in ${sidecarFile})`);
  return { matrix, dim, numRows: N + 1, encoder: source.id, path: matrixFile, fromCache: false, missing, complete: true };
}

function log(message: string): void {
  process.stderr.write(`image features: ${message}\n`);
}
