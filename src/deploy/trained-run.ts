/**
 * A run folder's best model, loaded for deployment: the run's recipe, its
 * dataset and features, the parameters of best.safetensors, and the metrics
 * the run reported. Two kinds of run folder:
 * - trained by `fmrlrec train`: features come from the feature cache;
 * - imported by `fmrlrec import-torch`: the reference's frozen feature tables
 *   travel in the folder (src/run/reference-features.ts).
 * prepareRun handles both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset, Split } from '../data/types';
import { evaluate, MetricsBySize } from '../eval/evaluate';
import { readMetricsReport } from '../eval/report';
import type { Kernels } from '../kernels/types';
import type { FmrlRec } from '../model/fmrlrec';
import { prepareRun } from '../run/prepare';
import type { FeatureParts } from '../run/reference-features';
import { featureLabel, loadRunConfig, RunConfig } from '../run/run-config';
import { loadParams } from '../train/checkpoint';
import { BEST_FILE } from '../train/trainer';
import { UserError } from '../util/errors';

export interface TrainedRun {
  runDir: string;
  config: RunConfig;
  dataset: Dataset;
  split: Split;
  /** The full model with the best parameters. */
  model: FmrlRec;
  /** Frozen features split as the reference holds them (text part, image part; a trained run has no image part). */
  featureParts: FeatureParts | null;
  /** Label of the features, e.g. "text:use+id". */
  features: string;
  /** Epoch of best.safetensors when recorded. */
  bestEpoch: number | null;
  /** Validation metrics per size (from metrics.json, else computed) and test metrics when reported; null when not asked for. */
  metrics: { valid: MetricsBySize; test: MetricsBySize | null } | null;
}

/**
 * Load a run's best model (see the file comment for the two kinds of run).
 * With `withMetrics`, validation metrics come from metrics.json, or are
 * computed when the run has none (an imported run).
 */
export async function loadTrainedRun(runDir: string, kern: Kernels, progress: boolean, withMetrics = true): Promise<TrainedRun> {
  const config = loadRunConfig(runDir);
  const bestFile = path.join(runDir, BEST_FILE);
  if (!fs.existsSync(bestFile)) throw new UserError(`${runDir} has no ${BEST_FILE} yet (training has not finished an epoch)`);
  const { dataset, split, model, featureParts, usedFeatures } = await prepareRun(config, kern, progress, runDir);
  const metadata = loadParams(bestFile, model);
  const saved = readMetricsReport(runDir);
  const metrics = !withMetrics ? null : saved
    ? { valid: saved.valid, test: saved.test }
    : { valid: evaluate(model, split, 'valid', { batchSize: config.train.evalBatchSize, maxLen: config.train.maxLen, excludeHistory: false, progress }), test: null };
  const epoch = Number(metadata.epoch ?? saved?.best_epoch);
  return {
    runDir, config, dataset, split, model, featureParts, features: featureLabel(usedFeatures),
    bestEpoch: Number.isFinite(epoch) && epoch > 0 ? epoch : null, metrics,
  };
}
