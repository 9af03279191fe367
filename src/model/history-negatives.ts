/**
 * History negatives (option; docs/method.md §5.9): for every row with a
 * target, at every size, one more softmax over the target and the distinct
 * items its sequence has read up to that row (its history), so that the
 * target is pushed above the items the user has already had. The full
 * softmax already counts them among all N items; this term weighs them again,
 * by `weight`. No item of the four Amazon datasets is ever a user's target
 * twice, while the model's own scores put history items near the top
 * (docs/results.md, variant log rows 19 and 30).
 */
import type { PackedBatch } from '../data/types';

/**
 * Add the history-negatives term of a batch: returns Σ over target rows and
 * sizes of w_k · (−log softmax over {target} ∪ history of the target's score)
 * at size k (w_k = sizeWeights[k], or 1), and ADDS scale times its gradient
 * into dOut (T×D) and dE ((N+1)×D). Rows whose history holds no item other
 * than the target add nothing.
 *
 * @param out     hidden state per row (T×D)
 * @param e       the item table E ((N+1)×D; row i is item i)
 * @param d       model width D
 * @param batch   the packed batch (inputs and targets are item ids)
 * @param dims    the sizes m_k
 * @param weights weight of each size's term, or null for 1 each
 * @param scale   factor of the gradient (the loss's 1/(targets·sizes) times the option's weight)
 */
export function historyNegatives(
  out: Float32Array,
  e: Float32Array,
  d: number,
  batch: PackedBatch,
  dims: Int32Array,
  weights: Float32Array | null,
  scale: number,
  dOut: Float32Array,
  dE: Float32Array,
): number {
  let total = 0;
  const candidates: number[] = [];
  const scores: number[] = [];
  for (let b = 0; b < batch.size; b++) {
    const seen = new Set<number>();
    for (let r = batch.offsets[b]; r < batch.offsets[b + 1]; r++) {
      if (batch.inputs[r] > 0) seen.add(batch.inputs[r]);
      const target = batch.targets[r];
      if (target <= 0) continue;
      // The target first, then every other item the sequence has read.
      candidates.length = 0;
      candidates.push(target);
      for (const item of seen) if (item !== target) candidates.push(item);
      if (candidates.length === 1) continue;
      const h = r * d;
      for (let k = 0; k < dims.length; k++) {
        const m = dims[k];
        const w = weights ? weights[k] : 1;
        scores.length = 0;
        let max = -Infinity;
        for (const item of candidates) {
          let s = 0;
          for (let j = 0; j < m; j++) s += out[h + j] * e[item * d + j];
          scores.push(s);
          max = Math.max(max, s);
        }
        total -= w * scores[0];
        let sum = 0;
        for (let c = 0; c < scores.length; c++) sum += scores[c] = Math.exp(scores[c] - max);
        total += w * (max + Math.log(sum));
        // d/ds_c = softmax_c − [c is the target]; s_c = out[r, 0:m] · E[c, 0:m]; scores now hold exp(s_c − max).
        for (let c = 0; c < candidates.length; c++) {
          const g = scale * w * (scores[c] / sum - (c === 0 ? 1 : 0));
          const row = candidates[c] * d;
          for (let j = 0; j < m; j++) {
            dOut[h + j] += g * e[row + j];
            dE[row + j] += g * out[h + j];
          }
        }
      }
    }
  }
  return total;
}
