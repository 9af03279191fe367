/**
 * Argument checks for the kernels of ./types.ts, used by the TypeScript twin.
 * The native addon makes the same checks in C++ (native/addon.cc) with the same
 * messages, so both implementations reject the same calls:
 *   "<kernel>: <argument> is too short (has L, needs N)"  (RangeError)
 *   "<kernel>: <what> <problem>"                           (RangeError)
 */

/** Throws RangeError "<kernel>: <message>". */
export function fail(kernel: string, message: string): never {
  throw new RangeError(`${kernel}: ${message}`);
}

/** A non-negative integer (a size or a stride). */
export function checkCount(kernel: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) fail(kernel, `${name} must be a non-negative integer (got ${value})`);
}

/** The array holds at least `needed` elements. */
export function checkLength(kernel: string, name: string, array: ArrayLike<number>, needed: number): void {
  if (array.length < needed) fail(kernel, `${name} is too short (has ${array.length}, needs ${needed})`);
}

/**
 * A row-major matrix of rows × cols stored with row stride ld (ld >= cols):
 * checks the stride and that the array reaches the last element.
 */
export function checkMatrix(kernel: string, name: string, array: ArrayLike<number>, rows: number, cols: number, ld: number): void {
  checkCount(kernel, `ld of ${name}`, ld);
  if (ld < Math.max(1, cols)) fail(kernel, `row stride of ${name} (${ld}) must be at least max(1, ${cols} columns)`);
  if (rows > 0 && cols > 0) checkLength(kernel, name, array, (rows - 1) * ld + cols);
}

/** Sizes of a ladder: at least one, strictly ascending, each in 1..d. */
export function checkDims(kernel: string, dims: Int32Array, d: number): void {
  if (dims.length === 0) fail(kernel, 'dims must not be empty');
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] < 1 || dims[k] > d || (k > 0 && dims[k] <= dims[k - 1])) {
      fail(kernel, `dims must be strictly ascending sizes in 1..${d} (got ${Array.from(dims).join(', ')})`);
    }
  }
}

/** Chunk bounds [0, m_1, ..., d]: strictly ascending from 0 to d. */
export function checkBounds(kernel: string, bounds: Int32Array, d: number): void {
  const ok = bounds.length >= 2 && bounds[0] === 0 && bounds[bounds.length - 1] === d && bounds.every((b, k) => k === 0 || b > bounds[k - 1]);
  if (!ok) fail(kernel, `bounds must rise strictly from 0 to ${d} (got ${Array.from(bounds).join(', ')})`);
}

/** Segment starts [0, ..., t]: non-decreasing from 0 to t. */
export function checkSegments(kernel: string, segments: Int32Array, t: number): void {
  const ok = segments.length >= 1 && segments[0] === 0 && segments[segments.length - 1] === t && segments.every((s, k) => k === 0 || s >= segments[k - 1]);
  if (!ok) fail(kernel, `segments must rise from 0 to ${t} (got ${segments.length} entries)`);
}

/**
 * Row starts of compressed sparse rows: rowStart[0] = 0, non-decreasing over
 * its first rows + 1 entries (its length checked before).
 */
export function checkRowStart(kernel: string, rowStart: Int32Array, rows: number): void {
  let ok = rowStart[0] === 0;
  for (let r = 1; ok && r <= rows; r++) ok = rowStart[r] >= rowStart[r - 1];
  if (!ok) fail(kernel, `rowStart must rise from 0 (non-decreasing over ${rows + 1} entries)`);
}

/** Every entry of items[0..count) lies in [lo, hi). */
export function checkItems(kernel: string, name: string, items: Int32Array, count: number, lo: number, hi: number): void {
  for (let i = 0; i < count; i++) {
    if (items[i] < lo || items[i] >= hi) fail(kernel, `${name}[${i}] = ${items[i]} is outside ${lo}..${hi - 1}`);
  }
}

/** Two arrays share memory (same buffer, overlapping byte ranges). */
function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** No output shares memory with an input or another output. */
export function checkNoOverlap(kernel: string, outputs: Record<string, ArrayBufferView | null>, inputs: Record<string, ArrayBufferView | null>): void {
  const outs = Object.entries(outputs).filter((entry): entry is [string, ArrayBufferView] => entry[1] !== null);
  const ins = Object.entries(inputs).filter((entry): entry is [string, ArrayBufferView] => entry[1] !== null);
  outs.forEach(([name, out], i) => {
    for (const [other, array] of [...ins, ...outs.slice(i + 1)]) {
      if (overlaps(out, array)) fail(kernel, `${name} must not overlap ${other}`);
    }
  });
}
