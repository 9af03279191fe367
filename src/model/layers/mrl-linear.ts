/**
 * MRL linear layer (docs/method.md §4), square D→D: for each chunk k of the ladder,
 *   y[:, C(k)] = x[:, 0:m_k] · W[C(k), 0:m_k]ᵀ + b[C(k)].
 * W is stored as a dense D×D row-major matrix [out, in] whose blocks above the
 * block diagonal are zero and stay zero (they are never read or written), so
 * y[:, 0:m] depends only on x[:, 0:m] for every m in the ladder.
 *
 * Shapes: x, y, dx, dy are T×D; W, dW are D×D; b, db are D; bounds = [0, m_1, ..., D].
 */
import type { Kernels } from '../../kernels/types';

/** The kernels an MRL linear forward calls: sgemm (as A·Bᵀ only) and the bias add. */
export type LinearKernels = Pick<Kernels, 'sgemm' | 'addRowVector'>;

/**
 * y = alpha · (x Wᵀ restricted to the block lower triangle) + bias + beta · y,
 * at the width m = bounds[K] of x and y. W is read with row stride ldw ≥ m
 * (default m): the top-left m×m block of a wider stored matrix is the size-m
 * layer (docs/method.md §6), so one stored width serves every size of its ladder.
 */
export function mrlLinearForward(
  kern: LinearKernels,
  x: Float32Array,
  t: number,
  bounds: Int32Array,
  w: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  alpha = 1,
  beta = 0,
  ldw = bounds[bounds.length - 1],
): void {
  const m = bounds[bounds.length - 1];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const c0 = bounds[k];
    const c1 = bounds[k + 1];
    kern.sgemm(false, true, t, c1 - c0, c1, alpha, x, m, w.subarray(c0 * ldw), ldw, beta, y.subarray(c0), m);
  }
  if (bias) kern.addRowVector(y, t, m, bias);
}

/**
 * Backward of y = alpha · MRL(x) (+ bias): ADDS alpha · dyᵀx into dW (block lower
 * part only) and Σ_t dy into dBias (when given); writes dx = alpha · dy·W, or adds
 * it into dx when accumulateDx.
 */
export function mrlLinearBackward(
  kern: Kernels,
  dy: Float32Array,
  x: Float32Array,
  t: number,
  bounds: Int32Array,
  w: Float32Array,
  dw: Float32Array,
  dBias: Float32Array | null,
  dx: Float32Array | null,
  accumulateDx: boolean,
  alpha = 1,
): void {
  const d = bounds[bounds.length - 1];
  const chunks = bounds.length - 1;
  for (let k = 0; k < chunks; k++) {
    const c0 = bounds[k];
    const c1 = bounds[k + 1];
    kern.sgemm(true, false, c1 - c0, c1, t, alpha, dy.subarray(c0), d, x, d, 1, dw.subarray(c0 * d), d);
  }
  if (dBias) kern.addColumnSums(dy, t, d, dBias);
  if (dx) {
    // The last chunk covers every input column, so it initialises dx when not accumulating.
    for (let k = chunks - 1; k >= 0; k--) {
      const c0 = bounds[k];
      const c1 = bounds[k + 1];
      const beta = k === chunks - 1 && !accumulateDx ? 0 : 1;
      kern.sgemm(false, false, t, c1, c1 - c0, alpha, dy.subarray(c0), d, w.subarray(c0 * d), d, beta, dx, d);
    }
  }
}

/**
 * PyTorch nn.Linear default initialisation per chunk (docs/method.md §5): W[C(k), 0:m_k]
 * and b[C(k)] uniform in ±1/sqrt(m_k). Entries above the block diagonal stay 0.
 */
export function mrlLinearInit(w: Float32Array, bias: Float32Array | null, bounds: Int32Array, uniform: () => number): void {
  const d = bounds[bounds.length - 1];
  w.fill(0);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const c0 = bounds[k];
    const c1 = bounds[k + 1];
    const limit = 1 / Math.sqrt(c1);
    for (let i = c0; i < c1; i++) {
      for (let j = 0; j < c1; j++) w[i * d + j] = (2 * uniform() - 1) * limit;
      if (bias) bias[i] = (2 * uniform() - 1) * limit;
    }
  }
}

/** Number of weights in the block lower triangle (the parameters that exist). */
export function mrlLinearWeightCount(bounds: Int32Array): number {
  let n = 0;
  for (let k = 0; k + 1 < bounds.length; k++) n += (bounds[k + 1] - bounds[k]) * bounds[k + 1];
  return n;
}
