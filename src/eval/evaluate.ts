/**
 * Full-ranking evaluation of every size in one pass (docs/method.md §2): each user's
 * validation or test target is ranked against all N items with pessimistic
 * ties; padding is never ranked; history items stay rankable unless
 * excludeHistory is set.
 */
import { evalBatches, historyItems } from '../data/batches';
import type { Split } from '../data/types';
import type { FmrlRec } from '../model/fmrlrec';
import { ProgressBar } from '../util/progress';
import { Metrics, metricsFromRanks } from './metrics';

/** How the full-ranking evaluation batches and ranks. */
export interface EvalOptions {
  /** Users per batch. */
  batchSize: number;
  /** Input window L (the last L history items). */
  maxLen: number;
  /** Remove each user's history items from the ranking (not the paper's protocol). */
  excludeHistory: boolean;
  /** Draw a progress bar on stderr. */
  progress: boolean;
}

/** Metrics per size, keyed by the size as a string ("8", "16", ...). */
export type MetricsBySize = Record<string, Metrics>;

/** Ranks of every user's target at every size: ranks[u*K + k]. */
export function rankTargets(model: FmrlRec, split: Split, which: 'valid' | 'test', options: EvalOptions): Int32Array {
  const { dims } = model.config;
  const k = dims.length;
  const dimsArray = Int32Array.from(dims);
  const numUsers = split.train.length;
  const ranks = new Int32Array(numUsers * k);
  const itemTable = model.itemTable();
  const targetsOf = which === 'valid' ? split.validTarget : split.testTarget;
  const batches = evalBatches(split, which, { batchSize: options.batchSize, maxLen: options.maxLen });
  const bar = options.progress ? new ProgressBar(`evaluating ${which}`, numUsers, 'users') : null;
  for (const batch of batches) {
    const hidden = model.lastHiddenStates(batch, itemTable);
    const targets = new Int32Array(batch.size);
    for (let b = 0; b < batch.size; b++) targets[b] = targetsOf[batch.users[b]];
    const exclude = options.excludeHistory ? historyItems(split, batch.users, which) : null;
    const batchRanks = new Int32Array(batch.size * k);
    model.kern.rankTargets(
      hidden,
      itemTable,
      batch.size,
      model.numRows,
      model.width,
      targets,
      dimsArray,
      exclude?.offsets ?? null,
      exclude?.items ?? null,
      batchRanks,
    );
    for (let b = 0; b < batch.size; b++) ranks.set(batchRanks.subarray(b * k, b * k + k), batch.users[b] * k);
    bar?.tick(batch.size);
  }
  bar?.finish();
  return ranks;
}

/** Evaluate every size on the validation or test targets. */
export function evaluate(model: FmrlRec, split: Split, which: 'valid' | 'test', options: EvalOptions): MetricsBySize {
  const { dims } = model.config;
  const ranks = rankTargets(model, split, which, options);
  const perSize = metricsFromRanks(ranks, split.train.length, dims.length);
  const out: MetricsBySize = {};
  dims.forEach((m, k) => {
    out[String(m)] = perSize[k];
  });
  return out;
}
