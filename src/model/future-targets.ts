/**
 * Future targets (option; docs/method.md §5.10): the target of a row becomes
 * a distribution over the next J items of its sequence, q_j ∝ 2^−j for
 * j = 0 .. J−1, normalised over the items the sequence still has after the
 * row. The loss at size k is the cross-entropy against q,
 *
 *   −Σ_j q_j log p_k(t_j) = CE_k(t_0) + Σ_{j≥1} q_j (z_k(t_0) − z_k(t_j)),
 *
 * (Σ q_j = 1), so the full softmax of the next item t_0 (the fused kernel)
 * plus a sparse correction over the later items gives it: its gradient with
 * respect to the logits is Σ_{j≥1} q_j (onehot(t_0) − onehot(t_j)). Counting
 * the items up to three steps after each of the user's last items ranks the
 * next item better than the next step alone on the four Amazon datasets
 * (docs/results.md, "Counting baselines").
 */
import type { PackedBatch } from '../data/types';

/** The largest number of future targets: q_j = 2^−j leaves later items a weight under 0.1 %. */
export const MAX_FUTURE_TARGETS = 10;

/**
 * Add the correction of future targets to a batch's loss: returns
 * Σ over target rows and sizes of w_k · Σ_{j≥1} q_j (z_k(t_0) − z_k(t_j)), and
 * ADDS scale times its gradient into dOut (T×D) and dE ((N+1)×D). Rows whose
 * sequence ends after them add nothing (their q is the next item alone).
 *
 * @param out     hidden state per row (T×D)
 * @param e       the item table E ((N+1)×D; row i is item i)
 * @param d       model width D
 * @param batch   the packed training batch (row r's target is the item after its input)
 * @param future  J, the items each target spreads over (≥ 1; 1 adds nothing)
 * @param dims    the sizes m_k
 * @param weights weight of each size's loss, or null for 1 each
 * @param scale   factor of the gradient (the loss's 1/(targets·sizes))
 */
export function futureTargets(
  out: Float32Array,
  e: Float32Array,
  d: number,
  batch: PackedBatch,
  future: number,
  dims: Int32Array,
  weights: Float32Array | null,
  scale: number,
  dOut: Float32Array,
  dE: Float32Array,
): number {
  let total = 0;
  const q = Float64Array.from({ length: future }, (_, j) => 2 ** -j);
  // Size k's logits use columns 0..m_k: the columns of chunk k feed sizes k..K−1, so their weight is the sum of those sizes' weights.
  const columnWeights = new Float64Array(dims.length);
  for (let k = dims.length - 1, sum = 0; k >= 0; k--) columnWeights[k] = sum += weights ? weights[k] : 1;
  for (let b = 0; b < batch.size; b++) {
    const end = batch.offsets[b + 1];
    for (let r = batch.offsets[b]; r < end; r++) {
      const first = batch.targets[r];
      if (first <= 0) continue;
      // q over the next item and the ones after it that the sequence has.
      let count = 1;
      while (count < future && r + count < end && batch.targets[r + count] > 0) count++;
      if (count === 1) continue;
      let norm = 0;
      for (let j = 0; j < count; j++) norm += q[j];
      const h = r * d;
      const a = first * d;
      for (let j = 1; j < count; j++) {
        const c = batch.targets[r + j] * d;
        const qj = q[j] / norm;
        for (let k = 0, lo = 0; k < dims.length; lo = dims[k], k++) {
          const sizeWeight = columnWeights[k];
          const g = scale * qj * sizeWeight;
          let difference = 0;
          for (let col = lo; col < dims[k]; col++) {
            difference += out[h + col] * (e[a + col] - e[c + col]);
            dOut[h + col] += g * (e[a + col] - e[c + col]);
            dE[a + col] += g * out[h + col];
            dE[c + col] -= g * out[h + col];
          }
          // z_k(t_0) − z_k(t_j) summed over the sizes that use these columns.
          total += qj * sizeWeight * difference;
        }
      }
    }
  }
  return total;
}
