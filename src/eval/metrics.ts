/**
 * Ranking metrics (docs/method.md §2) from the rank of each user's target (1 = best):
 * Recall@k (hit), NDCG@k = 1/log2(rank+1), MRR@k = 1/rank; 0 when rank > k.
 */

/** The cut-offs k at which every metric (Recall@k, NDCG@k, MRR@k) is computed. */
export const CUTOFFS = [5, 10, 20, 50] as const;

/** {"Recall@5": x, "NDCG@5": x, "MRR@5": x, ... at 10, 20, 50}. */
export type Metrics = Record<string, number>;

/**
 * Average metrics per size. ranks[u*K + k] is user u's rank at size k.
 * Returns one Metrics object per size, in dims order.
 */
export function metricsFromRanks(ranks: Int32Array, numUsers: number, numSizes: number): Metrics[] {
  const out: Metrics[] = [];
  for (let k = 0; k < numSizes; k++) {
    const sums = new Float64Array(CUTOFFS.length * 3);
    for (let u = 0; u < numUsers; u++) {
      const rank = ranks[u * numSizes + k];
      for (let c = 0; c < CUTOFFS.length; c++) {
        if (rank <= CUTOFFS[c]) {
          sums[c * 3] += 1;
          sums[c * 3 + 1] += 1 / Math.log2(rank + 1);
          sums[c * 3 + 2] += 1 / rank;
        }
      }
    }
    const m: Metrics = {};
    CUTOFFS.forEach((cut, c) => {
      m[`Recall@${cut}`] = numUsers > 0 ? sums[c * 3] / numUsers : 0;
      m[`NDCG@${cut}`] = numUsers > 0 ? sums[c * 3 + 1] / numUsers : 0;
      m[`MRR@${cut}`] = numUsers > 0 ? sums[c * 3 + 2] / numUsers : 0;
    });
    out.push(m);
  }
  return out;
}
