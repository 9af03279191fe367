/** Rows of row-major matrices: gathered by index, and added back (the gather's gradient). */

/** out[i] = matrix[rows[i]] for rows of the given width, stacked (rows.length × width). */
export function gatherRows(matrix: Float32Array, rows: ArrayLike<number>, width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(matrix.subarray(rows[i] * width, (rows[i] + 1) * width), i * width);
  return out;
}

/** matrix[rows[i]] += values[i] for rows of the given width. */
export function scatterAddRows(matrix: Float32Array, rows: ArrayLike<number>, values: Float32Array, width: number): void {
  for (let i = 0; i < rows.length; i++) {
    const o = rows[i] * width;
    const s = i * width;
    for (let j = 0; j < width; j++) matrix[o + j] += values[s + j];
  }
}
