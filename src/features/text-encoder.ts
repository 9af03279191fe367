/**
 * What every text encoder provides: a batch of strings in, one L2-normalised
 * row per string out.
 */

/** A loaded sentence encoder. */
export interface TextEncoder {
  /**
   * Stable identifier of the model (and of any choice that changes its vectors);
   * it names cache files, so it must be a short file-name-safe word.
   */
  readonly id: string;
  /** Width of one embedding. */
  readonly dim: number;
  /**
   * Encode `texts`, exactly as given (no case folding).
   * @param onProgress called with the number of texts encoded so far
   * @returns texts.length × dim values, row i for texts[i], each row of unit L2
   *   norm (a zero row only if the model itself returns zeros)
   */
  encode(texts: string[], onProgress?: (done: number) => void): Promise<Float32Array>;
}

/**
 * A text encoder that is known by id but not loaded yet, so that a caller can
 * look for cached features before paying for the model's weights.
 */
export interface TextEncoderSource {
  /** The id the loaded encoder will have. */
  readonly id: string;
  /** Load the model. */
  load(): Promise<TextEncoder>;
}

/** Options that any encoder accepts. */
export interface TextEncoderOptions {
  /** Worker threads to encode with (default: min(2, available cores)). */
  workers?: number;
}

/** Scale each row of a rows × dim matrix, in place, to unit L2 norm (zero rows stay zero). */
export function normalizeRows(matrix: Float32Array, dim: number): Float32Array {
  for (let start = 0; start < matrix.length; start += dim) {
    let sumSquares = 0;
    for (let j = start; j < start + dim; j++) sumSquares += matrix[j] * matrix[j];
    if (sumSquares === 0) continue;
    const scale = 1 / Math.sqrt(sumSquares);
    for (let j = start; j < start + dim; j++) matrix[j] *= scale;
  }
  return matrix;
}
