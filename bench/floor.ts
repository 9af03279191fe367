/**
 * The arithmetic floor: the fewest floating-point operations a training step
 * or an evaluation needs (docs/method.md §4–§5 done without waste), and the
 * machine's measured sgemm peak they are divided by.
 */
import type { Kernels } from '../src/kernels/types';

/** Weights that exist in one MRL linear D→D (the block lower triangle): Σ_k |C(k)|·m_k. */
export function mrlWeights(dims: number[]): number {
  let n = 0;
  let prev = 0;
  for (const m of dims) {
    n += (m - prev) * m;
    prev = m;
  }
  return n;
}

/** Real D→D MRL maps per block: LRU in (re, im), out (re, im); FFN gate, w1, w2. */
export const MAPS_PER_BLOCK = 7;

/**
 * Minimum FLOPs of one training step with the mathematics of docs/method.md §4–§5 done
 * without waste: real positions only (T rows, A of them with a target), the
 * nested scores (one pass over D serves every size), block lower-triangular MRL
 * maps, the projection over all N+1 items forward and backward (no gradient for
 * the frozen features). Element-wise work (exp, layer norms, the scan, AdamW) is
 * left out, so this is a lower bound. With `sampled` (docs/method.md §5.8), the
 * projection covers the `rows` items the batch reads and each target is scored
 * against itself and the negatives.
 */
export function trainStepFlops(
  c: { dims: number[]; featureDim: number; numBlocks: number },
  n1: number,
  t: number,
  a: number,
  sampled?: { rows: number; negatives: number },
): { total: number; projection: number; scoring: number; blocks: number } {
  const d = c.dims[c.dims.length - 1];
  const projection = c.featureDim > 0 ? 2 * 2 * (sampled ? sampled.rows : n1) * c.featureDim * d : 0;
  const scoring = 3 * 2 * a * (sampled ? sampled.negatives + 1 : n1) * d;
  const blocks = c.numBlocks * MAPS_PER_BLOCK * 3 * 2 * t * mrlWeights(c.dims);
  return { total: projection + scoring + blocks, projection, scoring, blocks };
}

/** Maps of a block that come after its recurrence (LRU out re/im; FFN gate, w1, w2): the last block runs them on each user's last row only. */
export const MAPS_AFTER_RECURRENCE = 5;

/**
 * Minimum FLOPs of a full-ranking evaluation: projection once; every block over
 * T rows except the last block's maps after the recurrence, which run on the
 * B users' last rows only; B users × N+1 items × D.
 */
export function evalFlops(c: { dims: number[]; featureDim: number; numBlocks: number }, n1: number, t: number, users: number): number {
  const d = c.dims[c.dims.length - 1];
  const maps = 2 * mrlWeights(c.dims) * ((c.numBlocks * MAPS_PER_BLOCK - MAPS_AFTER_RECURRENCE) * t + MAPS_AFTER_RECURRENCE * users);
  return 2 * n1 * c.featureDim * d + maps + 2 * users * n1 * d;
}

/** GFLOP/s of a large square sgemm with these kernels: the machine's measured peak. */
export function measurePeak(kern: Kernels, n = 2048, seconds = 1.5): number {
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  const c = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) {
    a[i] = ((i * 7) % 13) / 13 - 0.5;
    b[i] = ((i * 5) % 11) / 11 - 0.5;
  }
  kern.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
  let best = Infinity;
  const until = performance.now() + seconds * 1000;
  for (let i = 0; i < 3 || performance.now() < until; i++) {
    const t0 = performance.now();
    kern.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * n * n * n) / (best / 1000) / 1e9;
}

/** {@link measurePeak} with `threads` kernel threads (the kernels' thread count is restored after). */
export function measurePeakWithThreads(kern: Kernels, threads: number): number {
  const before = kern.threads();
  kern.setThreads(threads);
  try {
    return measurePeak(kern);
  } finally {
    kern.setThreads(before);
  }
}
