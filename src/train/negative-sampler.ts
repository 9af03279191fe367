/**
 * The sampling distribution Q of sampled softmax's negatives
 * (docs/method.md §5.8): the frequency of each item among the training
 * targets, plus one so that every item can be drawn, raised to a power α,
 *
 *   Q(i) = (c_i + 1)^α / Σ_{j=1..N} (c_j + 1)^α,   i = 1..N,
 *
 * with c_i the number of training positions whose target is i (the last L
 * items of every training sequence, as the batches hold them): α = 1 follows
 * the training frequency, α = 0 is uniform. The padding item is never drawn.
 */
import type { NegativeDraw } from '../model/sampled-softmax';
import type { Rng } from '../util/rng';

/** Draws sampled softmax's negatives from Q (above) and gives their log Q for the logit correction. */
export class NegativeSampler {
  /** log Q(i) for i in 0..N; entry 0 (the padding item, never drawn) is −Infinity. */
  readonly logQ: Float32Array;
  /** cumulative[i − 1] = Q(1) + … + Q(i), in float64. */
  private readonly cumulative: Float64Array;

  /**
   * @param counts c_i for the items i = 0..N (entry 0 is ignored)
   * @param power  α (default 1)
   */
  constructor(counts: ArrayLike<number>, power = 1) {
    const n = counts.length - 1;
    if (n < 1) throw new RangeError('NegativeSampler: needs at least one item');
    if (!(power >= 0 && Number.isFinite(power))) throw new RangeError(`NegativeSampler: the power must be a finite number >= 0 (got ${power})`);
    let total = 0;
    for (let i = 1; i <= n; i++) total += (counts[i] + 1) ** power;
    this.logQ = new Float32Array(n + 1);
    this.logQ[0] = -Infinity;
    this.cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 1; i <= n; i++) {
      const q = (counts[i] + 1) ** power / total;
      this.logQ[i] = Math.log(q);
      sum += q;
      this.cumulative[i - 1] = sum;
    }
  }

  /** Q from the targets of the training batches (the last `maxLen` items of every training sequence), with power α. */
  static fromTraining(train: readonly Int32Array[], numItems: number, maxLen: number, power = 1): NegativeSampler {
    const counts = new Float64Array(numItems + 1);
    for (const seq of train) for (let p = Math.max(0, seq.length - maxLen); p < seq.length; p++) counts[seq[p]]++;
    return new NegativeSampler(counts, power);
  }

  /** k negatives drawn from Q with replacement (inverse of the cumulative distribution, by bisection). */
  draw(k: number, rng: Rng): NegativeDraw {
    const items = new Int32Array(k);
    const cumulative = this.cumulative;
    const last = cumulative.length - 1;
    const total = cumulative[last];
    for (let j = 0; j < k; j++) {
      const u = rng.uniform() * total;
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      items[j] = lo + 1;
    }
    return { items, logQ: this.logQ };
  }
}
