/**
 * Counting baselines, ranked under the same protocol as the model (docs/method.md
 * §2: full ranking, history kept, pessimistic ties), to tell how much of a
 * dataset's score a model earns beyond what counting gives:
 *
 * - popularity: items ranked by how often they occur in the histories;
 * - transitions: the items that followed the user's last item in anyone's
 *   history, most often first; popularity orders the rest and breaks ties.
 *
 * The counts come only from what the evaluation may see: the training
 * sequences for 'valid', and the training sequences followed by the validation
 * item for 'test'.
 */
import { evalHistory, evalTarget, type EvalTarget } from '../data/split';
import type { Split } from '../data/types';
import { type Metrics, metricsFromRanks } from './metrics';

/** The counting baselines {@link evaluateBaselines} ranks with. */
export const BASELINES = ['popularity', 'transitions'] as const;
export type Baseline = (typeof BASELINES)[number];

/** How often each item 1..N occurs in the histories of `which` (index 0, padding, stays 0). */
export function itemCounts(split: Split, numItems: number, which: EvalTarget): Float64Array {
  const counts = new Float64Array(numItems + 1);
  for (let u = 0; u < split.train.length; u++) for (const item of evalHistory(split, u, which)) counts[item]++;
  return counts;
}

/** For every item a, how often each item b followed a directly in the histories of `which`. */
export function transitionCounts(split: Split, which: EvalTarget): Map<number, Map<number, number>> {
  const next = new Map<number, Map<number, number>>();
  for (let u = 0; u < split.train.length; u++) {
    const history = evalHistory(split, u, which);
    for (let t = 0; t + 1 < history.length; t++) {
      let row = next.get(history[t]);
      if (!row) next.set(history[t], (row = new Map()));
      row.set(history[t + 1], (row.get(history[t + 1]) ?? 0) + 1);
    }
  }
  return next;
}

/**
 * The rank of `target` among items 1..N by `scores` (1 = best): one plus the
 * number of other items whose score is not below the target's, so ties count
 * against it, as in the model's evaluation. One pass over every item: the
 * plain definition, which {@link baselineRanks} answers without that pass.
 */
export function pessimisticRank(scores: Float64Array, target: number): number {
  const s = scores[target];
  let rank = 1;
  for (let i = 1; i < scores.length; i++) if (i !== target && scores[i] >= s) rank++;
  return rank;
}

/** How many of items 1..N have a count at least c, by binary search over the sorted counts. */
function countAtLeast(sortedCounts: Float64Array, c: number): number {
  let lo = 0;
  let hi = sortedCounts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sortedCounts[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return sortedCounts.length - lo;
}

/** The followers of an item that no history continues past. */
const NO_FOLLOWERS: ReadonlyMap<number, number> = new Map();

/**
 * Every user's pessimistic rank of the target under each baseline (users ×
 * BASELINES, row-major), and how many targets followed the user's last item
 * somewhere in the histories. The transition score of an item is its
 * transition count times a weight above every popularity count, plus its
 * popularity, so popularity only orders items with equal transition counts.
 * The ranks are those of {@link pessimisticRank} over these scores, found in
 * O(followers + log N) per user instead of a pass over the catalogue.
 */
export function baselineRanks(split: Split, numItems: number, which: EvalTarget): { ranks: Int32Array; seen: number } {
  const counts = itemCounts(split, numItems, which);
  const next = transitionCounts(split, which);
  const sorted = counts.slice(1).sort();
  const weight = (sorted.length > 0 ? sorted[sorted.length - 1] : 0) + 1;
  const numUsers = split.train.length;
  const ranks = new Int32Array(numUsers * BASELINES.length);
  let seen = 0;
  for (let u = 0; u < numUsers; u++) {
    const target = evalTarget(split, u, which);
    const ownCount = counts[target];
    // The items counted as at least as popular include the target itself: that is the rank's 1.
    ranks[u * BASELINES.length] = countAtLeast(sorted, ownCount);
    const history = evalHistory(split, u, which);
    const followers = next.get(history[history.length - 1]) ?? NO_FOLLOWERS;
    const followed = followers.get(target);
    let rank: number;
    if (followed !== undefined) {
      // Only other followers can score as high: every other item scores below the weight.
      seen++;
      const score = ownCount + followed * weight;
      rank = 1;
      for (const [item, n] of followers) if (item !== target && counts[item] + n * weight >= score) rank++;
    } else {
      // Every follower scores above the target; of the rest, those at least as popular.
      let popularFollowers = 0;
      for (const item of followers.keys()) if (counts[item] >= ownCount) popularFollowers++;
      rank = followers.size + countAtLeast(sorted, ownCount) - popularFollowers;
    }
    ranks[u * BASELINES.length + 1] = rank;
  }
  return { ranks, seen };
}

/** What {@link evaluateBaselines} finds for the validation or the test targets. */
export interface BaselineReport {
  /** Metrics of each baseline, averaged over users as the model's metrics are. */
  metrics: Record<Baseline, Metrics>;
  /** The share of users whose target followed their last item somewhere in the histories. */
  targetsSeenAfterLastItem: number;
}

/** Rank every user's validation or test target by each baseline. */
export function evaluateBaselines(split: Split, numItems: number, which: EvalTarget): BaselineReport {
  const numUsers = split.train.length;
  const { ranks, seen } = baselineRanks(split, numItems, which);
  const metrics = metricsFromRanks(ranks, numUsers, BASELINES.length);
  return { metrics: { popularity: metrics[0], transitions: metrics[1] }, targetsSeenAfterLastItem: numUsers > 0 ? seen / numUsers : 0 };
}
