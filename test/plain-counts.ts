/**
 * The count score of every item for one user under a neighbour rule of
 * src/model/count-prior.ts, written out from the definition, for tests to check
 * the fast code against: for each of the user's last `context` items a
 * (weight 2^(context−1−j)), every pair (a, b) at most `window` steps apart in
 * any history, b after a (or either way), weight 2^(window−k).
 */
import { evalHistory, type EvalTarget } from '../src/data/split';
import type { Split } from '../src/data/types';
import type { NeighbourRule } from '../src/model/count-prior';

export function plainNeighbourScores(split: Split, which: EvalTarget, rule: NeighbourRule, own: Int32Array, numItems: number): Float64Array {
  const scores = new Float64Array(numItems + 1);
  for (let j = 0; j < rule.context && j < own.length; j++) {
    const a = own[own.length - 1 - j];
    for (let u = 0; u < split.train.length; u++) {
      const h = evalHistory(split, u, which);
      for (let t = 0; t < h.length; t++) {
        for (let k = 1; k <= rule.window && t + k < h.length; k++) {
          const w = 2 ** (rule.context - 1 - j) * 2 ** (rule.window - k);
          if (h[t] === a) scores[h[t + k]] += w;
          if (rule.bothWays && h[t + k] === a) scores[h[t]] += w;
        }
      }
    }
  }
  return scores;
}
