/**
 * Counting baselines, ranked under the same protocol as the model (docs/method.md
 * §2: full ranking, history kept, pessimistic ties), to tell how much of a
 * dataset's score a model earns beyond what counting gives:
 *
 * - popularity: items ranked by how often they occur in the histories;
 * - transitions: the items that followed the user's last item in anyone's
 *   history, most often first;
 * - followers: the items that followed any of the user's last three items
 *   within three steps in anyone's history, counted with weights that halve
 *   with each step of distance and each item further back in the user's history;
 * - neighbours: as followers, counting the items that came before as well as after.
 *
 * In the last three, popularity orders the items the counts leave tied.
 * The counts come only from what the evaluation may see: the training
 * sequences for 'valid', and the training sequences followed by the validation
 * item for 'test'.
 */
import { evalHistory, evalTarget, type EvalTarget } from '../data/split';
import type { Split } from '../data/types';
import { countRule, DEFAULT_REACH, PairCounts, type NeighbourReach, type NeighbourRule } from '../model/count-prior';
import { type Metrics, metricsFromRanks } from './metrics';

const NEIGHBOUR_BASELINES = ['transitions', 'followers', 'neighbours'] as const;
/** The counting baselines {@link evaluateBaselines} ranks with. */
export const BASELINES = ['popularity', ...NEIGHBOUR_BASELINES] as const;
export type Baseline = (typeof BASELINES)[number];

/** The rule of each baseline but popularity (followers and neighbours at `reach`). Every weight is a whole number, so the scores are exact. */
export function neighbourRules(reach: NeighbourReach = DEFAULT_REACH): Record<(typeof NEIGHBOUR_BASELINES)[number], NeighbourRule> {
  return {
    transitions: { window: 1, context: 1, bothWays: false },
    followers: countRule('followers', reach),
    neighbours: countRule('neighbours', reach),
  };
}

/** How often each item 1..N occurs in the histories of `which` (index 0, padding, stays 0). */
export function itemCounts(split: Split, numItems: number, which: EvalTarget): Float64Array {
  const counts = new Float64Array(numItems + 1);
  for (let u = 0; u < split.train.length; u++) for (const item of evalHistory(split, u, which)) counts[item]++;
  return counts;
}

/** The pair counts of `rule` over the histories of `which`: what a ranking of its targets may count. */
export function pairCounts(split: Split, which: EvalTarget, rule: NeighbourRule): PairCounts {
  return PairCounts.fromHistories(
    Array.from(split.train, (_, u) => evalHistory(split, u, which)),
    rule,
  );
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

/**
 * The pessimistic rank of `target` when an item scores its count score times
 * `weight` (above every popularity count) plus its popularity, so popularity
 * only orders items with equal count scores: {@link pessimisticRank} over
 * those scores, in O(scored items + log N).
 */
function neighbourRank(scores: Map<number, number>, counts: Float64Array, sorted: Float64Array, weight: number, target: number): number {
  const ownCount = counts[target];
  const own = scores.get(target);
  if (own !== undefined) {
    // Only other scored items can score as high: every other item scores below the weight.
    const score = ownCount + own * weight;
    let rank = 1;
    for (const [item, n] of scores) if (item !== target && counts[item] + n * weight >= score) rank++;
    return rank;
  }
  // Every scored item ranks above the target; of the rest, those at least as popular.
  let popularScored = 0;
  for (const item of scores.keys()) if (counts[item] >= ownCount) popularScored++;
  return scores.size + countAtLeast(sorted, ownCount) - popularScored;
}

/**
 * Every user's pessimistic rank of the target under each baseline (users ×
 * BASELINES, row-major), and how many targets followed the user's last item
 * somewhere in the histories. An item's score under a neighbour rule is its
 * count score times a weight above every popularity count, plus its
 * popularity. The ranks are those of {@link pessimisticRank} over these
 * scores, found without a pass over the catalogue.
 */
export function baselineRanks(split: Split, numItems: number, which: EvalTarget, reach: NeighbourReach = DEFAULT_REACH): { ranks: Int32Array; seen: number } {
  const rules = neighbourRules(reach);
  const counts = itemCounts(split, numItems, which);
  const sorted = counts.slice(1).sort();
  const weight = (sorted.length > 0 ? sorted[sorted.length - 1] : 0) + 1;
  const near = NEIGHBOUR_BASELINES.map((name) => pairCounts(split, which, rules[name]));
  const numUsers = split.train.length;
  const ranks = new Int32Array(numUsers * BASELINES.length);
  let seen = 0;
  for (let u = 0; u < numUsers; u++) {
    const target = evalTarget(split, u, which);
    const history = evalHistory(split, u, which);
    // The items counted as at least as popular include the target itself: that is the rank's 1.
    ranks[u * BASELINES.length] = countAtLeast(sorted, counts[target]);
    NEIGHBOUR_BASELINES.forEach((name, r) => {
      const scores = near[r].scores(history);
      if (name === 'transitions' && scores.has(target)) seen++;
      ranks[u * BASELINES.length + BASELINES.indexOf(name)] = neighbourRank(scores, counts, sorted, weight, target);
    });
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

/** Rank every user's validation or test target by each baseline; `reach` sets how far followers and neighbours look. */
export function evaluateBaselines(split: Split, numItems: number, which: EvalTarget, reach: NeighbourReach = DEFAULT_REACH): BaselineReport {
  const numUsers = split.train.length;
  const { ranks, seen } = baselineRanks(split, numItems, which, reach);
  const metrics = metricsFromRanks(ranks, numUsers, BASELINES.length);
  return {
    metrics: Object.fromEntries(BASELINES.map((name, b) => [name, metrics[b]])) as Record<Baseline, Metrics>,
    targetsSeenAfterLastItem: numUsers > 0 ? seen / numUsers : 0,
  };
}
