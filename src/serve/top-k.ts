/**
 * Top-k selection over a score vector in one pass with a min-heap of the k best
 * so far (most items fail the comparison with the heap's root, the current
 * k-th best; the others cost log k), then the k sorted. Order: higher score
 * first; equal scores: lower id first. Browser-safe.
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
export function topK(scores: Float32Array | Float64Array, k: number, exclude: ReadonlySet<number> | null, ids: ArrayLike<number> | null): RankedItem[] {
  if (k < 1) return [];
  // Heap order: the root is the worst kept entry (lowest score; among equal scores the highest id).
  const heapScores = new Float64Array(k);
  const heapIds = new Int32Array(k);
  let count = 0;
  const first = ids ? 0 : 1;
  const n = ids ? ids.length : scores.length;
  for (let c = first; c < n; c++) {
    const score = scores[c];
    const id = ids ? ids[c] : c;
    if (count === k && (score < heapScores[0] || (score === heapScores[0] && id > heapIds[0]))) continue;
    if (score !== score || (exclude !== null && exclude.has(id))) continue; // NaN, excluded
    if (count < k) siftUp(heapScores, heapIds, count++, score, id);
    else siftDown(heapScores, heapIds, k, score, id);
  }
  const out = new Array<RankedItem>(count);
  for (let size = count; size > 0; size--) {
    out[size - 1] = { id: heapIds[0], score: heapScores[0] };
    siftDown(heapScores, heapIds, size - 1, heapScores[size - 1], heapIds[size - 1]);
  }
  return out;
}

/** True when (s1, id1) ranks below (s2, id2). */
function below(s1: number, id1: number, s2: number, id2: number): boolean {
  return s1 < s2 || (s1 === s2 && id1 > id2);
}

/** Put (score, id) at slot i of a heap of i entries and restore the order upwards. */
function siftUp(scores: Float64Array, ids: Int32Array, i: number, score: number, id: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!below(score, id, scores[parent], ids[parent])) break;
    scores[i] = scores[parent];
    ids[i] = ids[parent];
    i = parent;
  }
  scores[i] = score;
  ids[i] = id;
}

/** Replace the root of a heap of `size` entries by (score, id) and restore the order downwards. */
function siftDown(scores: Float64Array, ids: Int32Array, size: number, score: number, id: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    const c = r < size && below(scores[r], ids[r], scores[l], ids[l]) ? r : l;
    if (!below(scores[c], ids[c], score, id)) break;
    scores[i] = scores[c];
    ids[i] = ids[c];
    i = c;
  }
  scores[i] = score;
  ids[i] = id;
}
