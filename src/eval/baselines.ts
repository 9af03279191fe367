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
 * against it, as in the model's evaluation.
 */
export function pessimisticRank(scores: Float64Array, target: number): number {
  const s = scores[target];
  let rank = 1;
  for (let i = 1; i < scores.length; i++) if (i !== target && scores[i] >= s) rank++;
  return rank;
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
  const counts = itemCounts(split, numItems, which);
  const next = transitionCounts(split, which);
  // Every transition count outweighs any popularity, so popularity only orders items with equal counts.
  let weight = 1;
  for (const c of counts) weight = Math.max(weight, c + 1);
  const numUsers = split.train.length;
  const ranks = new Int32Array(numUsers * BASELINES.length);
  const scores = new Float64Array(numItems + 1);
  let seen = 0;
  for (let u = 0; u < numUsers; u++) {
    const target = evalTarget(split, u, which);
    ranks[u * BASELINES.length] = pessimisticRank(counts, target);
    const history = evalHistory(split, u, which);
    const followers = next.get(history[history.length - 1]);
    scores.set(counts);
    if (followers) for (const [item, n] of followers) scores[item] += n * weight;
    if (followers?.has(target)) seen++;
    ranks[u * BASELINES.length + 1] = pessimisticRank(scores, target);
  }
  const metrics = metricsFromRanks(ranks, numUsers, BASELINES.length);
  return { metrics: { popularity: metrics[0], transitions: metrics[1] }, targetsSeenAfterLastItem: numUsers > 0 ? seen / numUsers : 0 };
}
