/**
 * The item feature matrix F of a dataset (docs/method.md §3): every item's template text
 * encoded once and cached on disk, frozen afterwards.
 *
 * Cache layout, per dataset and encoder:
 * - `<cacheDir>/<dataset>.<encoder-id>.npy`: (N+1) × dim float32, row 0 zeros
 *   (the padding item), row i item i;
 * - `<cacheDir>/<dataset>.<encoder-id>.json`: a {@link CacheSidecar} describing
 *   what the matrix was computed from.
 * A cache is reused only when the sidecar matches the current inputs exactly
 * (encoder, template version, item count, hash of every item text) and the
 * matrix matches the sidecar (shape, hash); otherwise it is rebuilt and the reason
 * printed on stderr. Both files are written atomically, matrix first, so a killed
 * run leaves either the old cache, or a matrix its sidecar does not vouch for
 * (rebuilt next time), never a half-written file. Encoding goes in chunks with
 * a checkpoint after each (src/features/partial.ts): an interrupted run
 * continues where it stopped.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import { writeJsonAtomic } from '../util/files';
import { ProgressBar } from '../util/progress';
import { textEncoderSource } from './encoders';
import { readNpy, writeNpy, type NpyArray } from './npy';
import { checkCacheNames, EncodingCheckpoint, matrixSha256 } from './partial';
import { itemText, TEMPLATE_VERSION } from './template';
import type { TextEncoderSource } from './text-encoder';

/** The item feature matrix of a dataset. */
export interface ItemFeatures {
  /** numRows × dim, row-major; row 0 (the padding item) is all zeros, row i is item i. */
  matrix: Float32Array;
  /** Width of one feature vector. */
  dim: number;
  /** N + 1. */
  numRows: number;
  /** Id of the encoder that produced the matrix. */
  encoder: string;
  /** The cached `.npy` file. */
  path: string;
  /** True when read from the cache, false when just encoded. */
  fromCache: boolean;
}

/** What {@link loadItemFeatures} needs. */
export interface LoadItemFeaturesOptions {
  dataset: Dataset;
  /** Folder of cache files (created when missing). */
  cacheDir: string;
  /**
   * Encoder name (see textEncoderNames(), loaded with default options) or an
   * unloaded source; it is loaded only when the cache cannot be used.
   */
  encoder: string | TextEncoderSource;
  /** Encode again even when the cache is valid. */
  rebuild?: boolean;
  /** Draw a progress bar on stderr while encoding (default true). */
  progress?: boolean;
  /** Items per chunk between checkpoints (default 1024). */
  chunkSize?: number;
  /** Stop after this many chunks (for tests of resuming); the checkpoint stays. */
  stopAfterChunks?: number;
}

/** Contents of the `.json` file next to a cached matrix. */
export interface CacheSidecar {
  encoder: string;
  template_version: number;
  dim: number;
  /** N, the number of items (the matrix has N+1 rows). */
  items: number;
  /** sha256 of every item text in id order (see {@link itemTextsSha256}). */
  inputs_sha256: string;
  /** sha256 of the matrix's float32 bytes. */
  matrix_sha256: string;
  /** ISO time of writing. */
  created: string;
}

/**
 * The item feature matrix of `dataset` under the chosen encoder, from the cache
 * when it is valid, else encoded (continuing an interrupted run) and cached.
 * The result's `path` is the checkpoint's file only when stopAfterChunks cut
 * the run short.
 * @throws UserError when the dataset or encoder name cannot name a cache file,
 *   or the encoder cannot be loaded
 */
export async function loadItemFeatures(options: LoadItemFeaturesOptions): Promise<ItemFeatures> {
  const { dataset, cacheDir, rebuild = false, progress = true } = options;
  const source = typeof options.encoder === 'string' ? textEncoderSource(options.encoder) : options.encoder;
  checkCacheNames(dataset.name, source.id);
  if (dataset.items.length !== dataset.numItems + 1) {
    throw new Error(`dataset ${dataset.name}: ${dataset.items.length} item records for ${dataset.numItems} items (expected N+1)`);
  }
  const texts = dataset.items.slice(1).map(itemText);
  const inputsSha256 = itemTextsSha256(texts);
  const base = path.join(cacheDir, `${dataset.name}.${source.id}`);
  const matrixFile = `${base}.npy`;
  const sidecarFile = `${base}.json`;

  if (!rebuild) {
    const cached = readCache(matrixFile, sidecarFile, source.id, dataset.numItems, inputsSha256);
    if ('matrix' in cached) {
      return { ...cached, numRows: dataset.numItems + 1, encoder: source.id, path: matrixFile, fromCache: true };
    }
    log(`${cached.reason}; encoding ${dataset.numItems} item texts with "${source.id}"`);
  } else {
    log(`rebuild requested; encoding ${dataset.numItems} item texts with "${source.id}"`);
  }

  const started = Date.now();
  const encoder = await source.load();
  if (encoder.id !== source.id) throw new Error(`text encoder source "${source.id}" loaded an encoder with id "${encoder.id}"`);
  const dim = encoder.dim;
  const N = texts.length;
  const checkpoint = new EncodingCheckpoint(base, { encoder: encoder.id, dim, items: N, inputs_sha256: inputsSha256 });
  let matrix: Float32Array = new Float32Array((N + 1) * dim);
  let done = 0;
  const resumed = rebuild ? null : checkpoint.resume();
  if (resumed) {
    ({ matrix, done } = resumed);
    log(`resuming: ${done} of ${N} item texts already encoded (${checkpoint.matrixFile})`);
  }
  const chunkSize = options.chunkSize ?? 1024;
  const bar = new ProgressBar('encoding item texts', N - done, 'items', progress ? process.stderr : null);
  for (let chunks = 0; done < N; chunks++) {
    if (options.stopAfterChunks !== undefined && chunks >= options.stopAfterChunks) {
      bar.finish();
      return { matrix, dim, numRows: N + 1, encoder: encoder.id, path: checkpoint.matrixFile, fromCache: false };
    }
    const chunk = texts.slice(done, done + chunkSize);
    let reported = 0;
    const rows = await encoder.encode(chunk, (n) => {
      bar.tick(n - reported);
      reported = n;
    });
    if (rows.length !== chunk.length * dim) {
      throw new Error(`text encoder "${encoder.id}" returned ${rows.length} values for ${chunk.length} texts × ${dim}`);
    }
    matrix.set(rows, (done + 1) * dim);
    done += chunk.length;
    bar.tick(chunk.length - reported);
    if (done < N) checkpoint.save(matrix, done, undefined);
  }
  bar.finish();

  writeNpy(matrixFile, matrix, [N + 1, dim]);
  const sidecar: CacheSidecar = {
    encoder: encoder.id,
    template_version: TEMPLATE_VERSION,
    dim,
    items: dataset.numItems,
    inputs_sha256: inputsSha256,
    matrix_sha256: matrixSha256(matrix),
    created: new Date().toISOString(),
  };
  writeJsonAtomic(sidecarFile, sidecar);
  checkpoint.remove();
  log(`wrote ${matrixFile} (${N + 1} × ${dim}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return { matrix, dim, numRows: N + 1, encoder: encoder.id, path: matrixFile, fromCache: false };
}

/**
 * sha256 (hex) identifying a list of texts: each text as a JSON string, one per
 * line, so that no two different lists hash the same input.
 */
export function itemTextsSha256(texts: string[]): string {
  const hash = createHash('sha256');
  for (const text of texts) hash.update(JSON.stringify(text) + '\n');
  return hash.digest('hex');
}

/** The cached matrix and its width, or why the cache cannot be used. */
function readCache(
  matrixFile: string,
  sidecarFile: string,
  encoderId: string,
  numItems: number,
  inputsSha256: string,
): { matrix: Float32Array; dim: number } | { reason: string } {
  const haveMatrix = fs.existsSync(matrixFile);
  const haveSidecar = fs.existsSync(sidecarFile);
  if (!haveMatrix && !haveSidecar) return { reason: `no cache at ${matrixFile}` };
  const stale = (why: string): { reason: string } => ({ reason: `cache ${matrixFile} is stale (${why})` });
  if (!haveMatrix || !haveSidecar) return stale(`${path.basename(haveMatrix ? sidecarFile : matrixFile)} is missing`);

  let sidecar: Partial<CacheSidecar>;
  try {
    sidecar = JSON.parse(fs.readFileSync(sidecarFile, 'utf8')) as Partial<CacheSidecar>;
  } catch (err) {
    return stale(`cannot read ${sidecarFile} (${(err as Error).message})`);
  }
  if (typeof sidecar !== 'object' || sidecar === null) return stale(`${sidecarFile} does not hold a JSON object`);
  if (sidecar.encoder !== encoderId) return stale(`made by encoder "${sidecar.encoder}", not "${encoderId}"`);
  if (sidecar.template_version !== TEMPLATE_VERSION) {
    return stale(`made with item text template version ${sidecar.template_version}, current is ${TEMPLATE_VERSION}`);
  }
  if (sidecar.items !== numItems) return stale(`made for ${sidecar.items} items, the dataset has ${numItems}`);
  if (sidecar.inputs_sha256 !== inputsSha256) return stale('item texts have changed');

  let array: NpyArray;
  try {
    array = readNpy(matrixFile);
  } catch (err) {
    return stale((err as Error).message);
  }
  const [rows, dim] = array.shape;
  if (array.shape.length !== 2 || rows !== numItems + 1 || dim !== sidecar.dim) {
    return stale(`matrix shape (${array.shape.join(', ')}) is not (${numItems + 1}, ${sidecar.dim})`);
  }
  if (matrixSha256(array.data) !== sidecar.matrix_sha256) return stale('matrix does not match its sidecar (corrupt or half-replaced)');
  return { matrix: array.data, dim };
}

function log(message: string): void {
  process.stderr.write(`item features: ${message}\n`);
}
