/**
 * Count blend (an evaluation of a hybrid, not the paper's method): each item's
 * score at size m becomes the model's score plus β_m · log(1 + c), c the
 * item's count score under a counting baseline's rule for the user
 * (./baselines.ts: followers or neighbours). β_m is chosen per size on the
 * validation targets from a fixed grid, and the test targets are ranked once
 * at the chosen β. Full ranking and pessimistic ties, as docs/method.md §2;
 * the counts come only from what each evaluation may see, as the baselines'.
 */
import { evalBatches } from '../data/batches';
import { evalHistory, type EvalTarget } from '../data/split';
import type { Split } from '../data/types';
import type { FmrlRec } from '../model/fmrlrec';
import { ProgressBar } from '../util/progress';
import { DEFAULT_REACH, neighbourRules, neighbourScores, pairCounts, type NeighbourReach } from './baselines';
import type { EvalOptions, MetricsBySize } from './evaluate';
import { type Metrics, metricsFromRanks } from './metrics';

/** The counting rules a blend can add. */
export const BLEND_RULES = ['followers', 'neighbours'] as const;
export type BlendRule = (typeof BLEND_RULES)[number];

/** The β tried per size on validation, ascending; 0 is the model alone. */
export const BLEND_GRID: readonly number[] = [0, 0.25, 0.5, 1, 2, 4, 8, 16, 32];

/** What {@link evaluateCountBlend} chose and measured. */
export interface CountBlendReport {
  rule: BlendRule;
  reach: NeighbourReach;
  /** The β chosen per size (keyed like MetricsBySize). */
  beta: Record<string, number>;
  /** Validation NDCG@10 per size at every β of the grid, grid order: how β was chosen. */
  validNdcgByBeta: Record<string, number[]>;
  /** Metrics per size at the chosen β. */
  valid: MetricsBySize;
  test: MetricsBySize;
}

/**
 * Every user's pessimistic rank of the target at every size and every β of
 * `grid` (ascending, ≥ 0): ranks[(u·K + k)·G + g]. The score of item i is
 * z_i + β_g · log(1 + c_i), z the model's score at size k, c the user's count
 * scores under `rule`; padding is never ranked, history items stay.
 */
export function blendedRanks(
  model: FmrlRec,
  split: Split,
  which: EvalTarget,
  rule: BlendRule,
  reach: NeighbourReach,
  grid: readonly number[],
  options: Pick<EvalOptions, 'batchSize' | 'maxLen' | 'progress'>,
): Int32Array {
  const { kern, width: d, numRows: n1 } = model;
  const dims = model.config.dims;
  const k = dims.length;
  const g = grid.length;
  const rules = neighbourRules(reach);
  const near = pairCounts(split, which, rules[rule]);
  const targetsOf = which === 'valid' ? split.validTarget : split.testTarget;
  const itemTable = model.itemTable();
  const ranks = new Int32Array(split.train.length * k * g);
  const bar = options.progress ? new ProgressBar(`count blend, ${which}`, split.train.length, 'users') : null;
  const threshold = new Float64Array(g);
  const atLeast = new Int32Array(g + 1);
  for (const batch of evalBatches(split, which, { batchSize: options.batchSize, maxLen: options.maxLen })) {
    const hidden = model.lastHiddenStates(batch, itemTable);
    const b = batch.size;
    const scores = new Float32Array(b * n1);
    const bonuses = Array.from(batch.users, (u) => {
      const counts = neighbourScores(evalHistory(split, u, which), near, rules[rule]);
      return Array.from(counts, ([item, c]) => [item, Math.log1p(c)] as const);
    });
    for (let s = 0; s < k; s++) {
      kern.sgemm(false, true, b, n1, dims[s], 1, hidden, d, itemTable, d, 0, scores, n1);
      for (let row = 0; row < b; row++) {
        const user = batch.users[row];
        const target = targetsOf[user];
        const z = scores.subarray(row * n1, (row + 1) * n1);
        const bonus = bonuses[row];
        let own = 0;
        for (const [item, f] of bonus) if (item === target) own = f;
        for (let q = 0; q < g; q++) threshold[q] = z[target] + grid[q] * own;
        // Without bonuses: item i beats β_q when z_i ≥ threshold_q; thresholds ascend with q.
        atLeast.fill(0);
        for (let i = 1; i < n1; i++) {
          if (i === target) continue;
          const v = z[i];
          if (v < threshold[0]) continue;
          let q = 1;
          while (q < g && v >= threshold[q]) q++;
          atLeast[q - 1]++;
        }
        const out = (user * k + s) * g;
        let beats = 0;
        for (let q = g - 1; q >= 0; q--) {
          beats += atLeast[q];
          ranks[out + q] = 1 + beats;
        }
        // The items with a count: their bonus moves them up by β_q · f.
        for (const [item, f] of bonus) {
          if (item === target) continue;
          for (let q = 0; q < g; q++) ranks[out + q] += Number(z[item] + grid[q] * f >= threshold[q]) - Number(z[item] >= threshold[q]);
        }
      }
    }
    bar?.tick(b);
  }
  bar?.finish();
  return ranks;
}

/**
 * Choose β per size on the validation targets (the best NDCG@10 of the grid,
 * the smaller β on a tie) and rank the test targets at that β.
 */
export function evaluateCountBlend(
  model: FmrlRec,
  split: Split,
  rule: BlendRule,
  options: Pick<EvalOptions, 'batchSize' | 'maxLen' | 'progress'>,
  reach: NeighbourReach = DEFAULT_REACH,
): CountBlendReport {
  const dims = model.config.dims;
  const k = dims.length;
  const g = BLEND_GRID.length;
  const numUsers = split.train.length;
  const perBeta = (ranks: Int32Array): Metrics[] => metricsFromRanks(ranks, numUsers, k * g);
  const validMetrics = perBeta(blendedRanks(model, split, 'valid', rule, reach, BLEND_GRID, options));
  const testMetrics = perBeta(blendedRanks(model, split, 'test', rule, reach, BLEND_GRID, options));
  const report: CountBlendReport = { rule, reach, beta: {}, validNdcgByBeta: {}, valid: {}, test: {} };
  dims.forEach((m, s) => {
    const ndcg = BLEND_GRID.map((_, q) => validMetrics[s * g + q]['NDCG@10']);
    let best = 0;
    for (let q = 1; q < g; q++) if (ndcg[q] > ndcg[best]) best = q;
    const size = String(m);
    report.beta[size] = BLEND_GRID[best];
    report.validNdcgByBeta[size] = ndcg;
    report.valid[size] = validMetrics[s * g + best];
    report.test[size] = testMetrics[s * g + best];
  });
  return report;
}
