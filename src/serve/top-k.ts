/**
 * Top-k selection over a score vector in one pass, keeping a sorted list of at
 * most k entries (most items fail the comparison with the current k-th best).
 * Order: higher score first; equal scores: lower id first. Browser-safe.
 */

/** An item and its score. */
export interface RankedItem {
  id: number;
  score: number;
}

/**
 * The best k of `scores`. With `ids`, scores[c] belongs to item ids[c];
 * without, scores[i] belongs to item i and index 0 (padding) is skipped.
 * Items in `exclude` and NaN scores are never returned.
 */
export function topK(scores: Float32Array, k: number, exclude: ReadonlySet<number> | null, ids: ArrayLike<number> | null): RankedItem[] {
  if (k < 1) return [];
  const bestIds = new Int32Array(k);
  const bestScores = new Float64Array(k);
  let count = 0;
  const first = ids ? 0 : 1;
  const n = ids ? ids.length : scores.length;
  for (let c = first; c < n; c++) {
    const score = scores[c];
    const id = ids ? ids[c] : c;
    if (count === k) {
      const worst = bestScores[k - 1];
      if (score < worst || (score === worst && id > bestIds[k - 1])) continue;
    }
    if (score !== score || (exclude !== null && exclude.has(id))) continue; // NaN, excluded
    let pos = count < k ? count++ : k - 1;
    while (pos > 0 && (bestScores[pos - 1] < score || (bestScores[pos - 1] === score && bestIds[pos - 1] > id))) {
      bestScores[pos] = bestScores[pos - 1];
      bestIds[pos] = bestIds[pos - 1];
      pos--;
    }
    bestScores[pos] = score;
    bestIds[pos] = id;
  }
  const out: RankedItem[] = [];
  for (let i = 0; i < count; i++) out.push({ id: bestIds[i], score: bestScores[i] });
  return out;
}
