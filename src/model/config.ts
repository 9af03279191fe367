/**
 * Model configuration and the Matryoshka ladder of sizes (docs/method.md §4).
 *
 * The ladder M = [m_1 < ... < m_K = D]; chunk k covers coordinates
 * [m_{k-1}, m_k) with m_0 = 0. Every prefix of width m_k is a complete model.
 */

/** A model's architecture: its ladder of sizes, its items and their inputs, its blocks, dropout and LRU initialisation. */
export interface ModelConfig {
  /** Ladder of sizes, ascending; the last is the model width D. */
  dims: number[];
  /** Number of items N (items 1..N, 0 = padding). */
  numItems: number;
  /** Width F of the frozen item feature vectors (0 = no features, ID only). */
  featureDim: number;
  /** Add a learned item-ID embedding to the projected features (hybrid / ID-only). */
  itemIdEmbedding: boolean;
  /** Number V of sparse item attributes with learned vectors (absent or 0 = none). */
  attributeDim?: number;
  /** Number of LRU blocks. */
  numBlocks: number;
  /** Dropout probability at every dropout site. */
  dropout: number;
  /** LayerNorm epsilon. */
  layerNormEps: number;
  /** LRU ring initialisation radii. */
  rMin: number;
  rMax: number;
  /**
   * Weight of each size's loss in training, dims order (absent: 1 each, the
   * paper's mean over sizes). Training only: what a model computes at a size
   * does not depend on it.
   */
  sizeWeights?: number[];
}

/** The doubling ladder 8, 16, ..., up to and including d (d must be 8·2^j or any value ≥ 8). */
export function doublingLadder(d: number, smallest = 8): number[] {
  if (!Number.isInteger(d) || d < smallest) throw new RangeError(`model width ${d} must be an integer >= ${smallest}`);
  const dims: number[] = [];
  for (let m = smallest; m < d; m *= 2) dims.push(m);
  dims.push(d);
  return dims;
}

/** Chunk boundaries [0, m_1, ..., m_K] as an Int32Array (used by the kernels). */
export function chunkBounds(dims: readonly number[]): Int32Array {
  const b = new Int32Array(dims.length + 1);
  for (let k = 0; k < dims.length; k++) b[k + 1] = dims[k];
  return b;
}

/** Model width D = the largest size. */
export function modelWidth(config: ModelConfig): number {
  return config.dims[config.dims.length - 1];
}

/** Check a configuration; throws RangeError naming the bad field. */
export function validateConfig(config: ModelConfig): void {
  const { dims } = config;
  if (dims.length === 0) throw new RangeError('dims must not be empty');
  for (let k = 0; k < dims.length; k++) {
    if (!Number.isInteger(dims[k]) || dims[k] < 1) throw new RangeError(`dims[${k}] = ${dims[k]} is not a positive integer`);
    if (k > 0 && dims[k] <= dims[k - 1]) throw new RangeError(`dims must be strictly ascending (got ${dims.join(', ')})`);
  }
  if (!Number.isInteger(config.numItems) || config.numItems < 1) throw new RangeError(`numItems = ${config.numItems} must be >= 1`);
  if (config.featureDim < 0) throw new RangeError('featureDim must be >= 0');
  if (config.featureDim === 0 && !config.itemIdEmbedding && !config.attributeDim) {
    throw new RangeError('a model needs item features, an item-ID embedding or item attributes');
  }
  if (!Number.isInteger(config.numBlocks) || config.numBlocks < 1) throw new RangeError('numBlocks must be >= 1');
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new RangeError('dropout must be in [0, 1)');
  const w = config.sizeWeights;
  if (w !== undefined) {
    if (w.length !== dims.length) throw new RangeError(`sizeWeights has ${w.length} entries; it needs one per size (${dims.join(', ')})`);
    if (!w.every((x) => Number.isFinite(x) && x >= 0) || !w.some((x) => x > 0)) throw new RangeError('sizeWeights must be >= 0, and not all 0');
  }
}
