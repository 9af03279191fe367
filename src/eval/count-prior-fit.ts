/**
 * Fitting the count prior of a trained model (src/model/count-prior.ts) and
 * ranking with it. The score of item i at size m is z_i + β_m · log(1 + c_i).
 * The fit ranks the validation targets under every allowed rule at every β of
 * {@link BETA_GRID}, keeps the rule with the best validation NDCG@10 at the
 * largest size (the earlier rule on a tie), then β per size at its best
 * validation NDCG@10 (the smaller β on a tie); the test targets are ranked
 * once, at the chosen rule and β. Full ranking and pessimistic ties, as
 * docs/method.md §2; the counts come only from what each evaluation may see:
 * the training sequences for validation, those followed by the validation
 * item for test.
 */
import { evalBatches } from '../data/batches';
import { evalHistory, type EvalTarget } from '../data/split';
import type { Split } from '../data/types';
import { countRule, type CountRule, type NeighbourReach } from '../model/count-prior';
import { pairCounts } from './baselines';
import type { FmrlRec } from '../model/fmrlrec';
import { ProgressBar } from '../util/progress';
import type { EvalOptions, MetricsBySize } from './evaluate';
import { metricsFromRanks } from './metrics';

/** The β tried per size on validation, ascending; 0 is the network alone. */
export const BETA_GRID: readonly number[] = [0, 0.25, 0.5, 1, 2, 4, 8, 16, 32];

/** A count prior's settings without its counts (which are rebuilt from the data): what a run folder records. */
export interface CountPriorSettings {
  rule: CountRule;
  reach: NeighbourReach;
  /** β per size (keyed like MetricsBySize). */
  beta: Record<string, number>;
}

/** β per size as people read it: "8: 32, 16: 8, …". */
export function betaText(beta: Record<string, number>): string {
  return Object.entries(beta)
    .map(([m, b]) => `${m}: ${b}`)
    .join(', ');
}

/** What {@link fitCountPrior} chose and measured. */
export interface CountPriorFit extends CountPriorSettings {
  /** Validation NDCG@10 of every rule tried, per size, at every β of BETA_GRID (grid order): how the rule and β were chosen. */
  validNdcgByBeta: Partial<Record<CountRule, Record<string, number[]>>>;
  /** Validation metrics per size at the chosen rule and β. */
  valid: MetricsBySize;
}

type RankOptions = Pick<EvalOptions, 'batchSize' | 'maxLen' | 'progress'>;

/**
 * Every user's pessimistic rank of the target under every rule r, at every
 * size s and every β of grid[s] (each ascending, ≥ 0, all of one length G):
 * ranks[((u·R + r)·K + s)·G + g]. The score of item i is z_i + β · log(1 + c_i),
 * z the model's score at size s, c the user's count scores under rule r;
 * padding is never ranked, history items stay.
 */
export function priorRanks(
  model: FmrlRec,
  split: Split,
  which: EvalTarget,
  rules: readonly CountRule[],
  reach: NeighbourReach,
  grid: readonly (readonly number[])[],
  options: RankOptions,
): Int32Array {
  const { kern, width: d, numRows: n1 } = model;
  const dims = model.config.dims;
  const k = dims.length;
  const g = grid[0].length;
  if (grid.length !== k || grid.some((row) => row.length !== g)) throw new RangeError(`the β grid must have ${k} rows of one length`);
  const numRules = rules.length;
  const counts = rules.map((rule) => pairCounts(split, which, countRule(rule, reach)));
  const targetsOf = which === 'valid' ? split.validTarget : split.testTarget;
  const itemTable = model.itemTable();
  const ranks = new Int32Array(split.train.length * numRules * k * g);
  const bar = options.progress ? new ProgressBar(`count prior, ${which}`, split.train.length, 'users') : null;
  const threshold = new Float64Array(g);
  const atLeast = new Int32Array(g + 1);
  for (const batch of evalBatches(split, which, { batchSize: options.batchSize, maxLen: options.maxLen })) {
    const hidden = model.lastHiddenStates(batch, itemTable);
    const b = batch.size;
    const scores = new Float32Array(b * n1);
    // bonuses[row][r]: the items with a count under rule r and their log(1 + c).
    const bonuses = Array.from(batch.users, (u) => {
      const history = evalHistory(split, u, which);
      return counts.map((c) => Array.from(c.scores(history), ([item, n]) => [item, Math.log1p(n)] as const));
    });
    for (let s = 0; s < k; s++) {
      kern.sgemm(false, true, b, n1, dims[s], 1, hidden, d, itemTable, d, 0, scores, n1);
      const betas = grid[s];
      for (let row = 0; row < b; row++) {
        const user = batch.users[row];
        const target = targetsOf[user];
        const z = scores.subarray(row * n1, (row + 1) * n1);
        for (let r = 0; r < numRules; r++) {
          const bonus = bonuses[row][r];
          let own = 0;
          for (const [item, f] of bonus) if (item === target) own = f;
          for (let q = 0; q < g; q++) threshold[q] = z[target] + betas[q] * own;
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
          const out = ((user * numRules + r) * k + s) * g;
          let beats = 0;
          for (let q = g - 1; q >= 0; q--) {
            beats += atLeast[q];
            ranks[out + q] = 1 + beats;
          }
          // The items with a count: their bonus moves them up by β_q · f.
          for (const [item, f] of bonus) {
            if (item === target) continue;
            for (let q = 0; q < g; q++) ranks[out + q] += Number(z[item] + betas[q] * f >= threshold[q]) - Number(z[item] >= threshold[q]);
          }
        }
      }
    }
    bar?.tick(b);
  }
  bar?.finish();
  return ranks;
}

/**
 * Fit a count prior to a trained model on the validation targets (see the file
 * comment): the rule among `rules`, then β per size from BETA_GRID.
 */
export function fitCountPrior(model: FmrlRec, split: Split, rules: readonly CountRule[], reach: NeighbourReach, options: RankOptions): CountPriorFit {
  if (rules.length === 0) throw new RangeError('fitting a count prior needs at least one rule');
  const dims = model.config.dims;
  const k = dims.length;
  const g = BETA_GRID.length;
  const ranks = priorRanks(
    model,
    split,
    'valid',
    rules,
    reach,
    dims.map(() => BETA_GRID),
    options,
  );
  const metrics = metricsFromRanks(ranks, split.train.length, rules.length * k * g);
  const at = (r: number, s: number, q: number) => metrics[(r * k + s) * g + q];
  const validNdcgByBeta: CountPriorFit['validNdcgByBeta'] = {};
  const bestBeta = (r: number, s: number): number => {
    let best = 0;
    for (let q = 1; q < g; q++) if (at(r, s, q)['NDCG@10'] > at(r, s, best)['NDCG@10']) best = q;
    return best;
  };
  rules.forEach((rule, r) => {
    validNdcgByBeta[rule] = Object.fromEntries(dims.map((m, s) => [String(m), BETA_GRID.map((_, q) => at(r, s, q)['NDCG@10'])]));
  });
  const largest = k - 1;
  let chosen = 0;
  for (let r = 1; r < rules.length; r++) {
    if (at(r, largest, bestBeta(r, largest))['NDCG@10'] > at(chosen, largest, bestBeta(chosen, largest))['NDCG@10']) chosen = r;
  }
  const fit: CountPriorFit = { rule: rules[chosen], reach, beta: {}, validNdcgByBeta, valid: {} };
  dims.forEach((m, s) => {
    const q = bestBeta(chosen, s);
    fit.beta[String(m)] = BETA_GRID[q];
    fit.valid[String(m)] = at(chosen, s, q);
  });
  return fit;
}

/** Metrics per size of the validation or test targets ranked with a fitted prior. */
export function evaluateWithCountPrior(model: FmrlRec, split: Split, which: EvalTarget, prior: CountPriorSettings, options: RankOptions): MetricsBySize {
  const dims = model.config.dims;
  const grid = dims.map((m) => {
    const beta = prior.beta[String(m)];
    if (beta === undefined) throw new RangeError(`the count prior has no β for size ${m}`);
    return [beta];
  });
  const ranks = priorRanks(model, split, which, [prior.rule], prior.reach, grid, options);
  const metrics = metricsFromRanks(ranks, split.train.length, dims.length);
  return Object.fromEntries(dims.map((m, s) => [String(m), metrics[s]]));
}
