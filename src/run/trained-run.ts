/**
 * A run folder's best model, loaded: the run's recipe, its dataset and
 * features, the parameters of best.safetensors, and the metrics the run
 * reported. The one loader of a finished run, for evaluation (./execute.ts),
 * export and the PyTorch interchange (src/deploy). Two kinds of run folder:
 * - trained by `trainRun`: features come from the feature cache;
 * - imported from the reference code: its frozen feature tables travel in the
 *   folder (src/deploy/reference-features.ts).
 * prepareRun handles both.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FeatureParts } from '../deploy/reference-features';
import type { Dataset, Split } from '../data/types';
import { evaluate, MetricsBySize } from '../eval/evaluate';
import { readMetricsReport } from '../eval/report';
import type { FmrlRec } from '../model/fmrlrec';
import { loadParams } from '../train/checkpoint';
import { BEST_FILE, evalOptions } from '../train/trainer';
import { UserError } from '../util/errors';
import { prepareRun, type PrepareOptions } from './prepare';
import { featureLabel, loadRunConfig, type FeatureConfig, type RunConfig } from './run-config';

/** A run's best model with what describes it. */
export interface TrainedRun {
  runDir: string;
  config: RunConfig;
  dataset: Dataset;
  split: Split;
  /** The full model with the best parameters. */
  model: FmrlRec;
  /** Frozen features split as the reference holds them (text part, image part), or null. */
  featureParts: FeatureParts | null;
  /** The features the model uses (the recipe's, less what the data cannot feed). */
  usedFeatures: FeatureConfig;
  /** Label of the features, e.g. "text:use+id". */
  features: string;
  /** Epoch of best.safetensors when recorded. */
  bestEpoch: number | null;
  /** Validation metrics per size (from metrics.json, else computed) and test metrics when reported; null when not asked for. */
  metrics: { valid: MetricsBySize; test: MetricsBySize | null } | null;
}

/** Options of {@link loadTrainedRun}. */
export interface LoadTrainedRunOptions extends Omit<PrepareOptions, 'runDir'> {
  /**
   * Attach metrics (default true): validation and test from metrics.json, or
   * validation computed when the run has none (an imported run).
   */
  metrics?: boolean;
}

/**
 * Load a run's best model (see the file comment for the two kinds of run).
 * @throws UserError when runDir is not a run folder or has no finished epoch
 */
export async function loadTrainedRun(runDir: string, options: LoadTrainedRunOptions): Promise<TrainedRun> {
  const config = loadRunConfig(runDir);
  const bestFile = path.join(runDir, BEST_FILE);
  if (!fs.existsSync(bestFile)) throw new UserError(`${runDir} has no ${BEST_FILE} yet (training has not finished an epoch)`);
  const { dataset, split, model, featureParts, usedFeatures } = await prepareRun(config, { ...options, runDir });
  const metadata = loadParams(bestFile, model);
  const saved = readMetricsReport(runDir);
  const metrics =
    options.metrics === false
      ? null
      : saved
        ? { valid: saved.valid, test: saved.test }
        : { valid: evaluate(model, split, 'valid', evalOptions(config.train, { progress: options.progress })), test: null };
  const epoch = Number(metadata.epoch ?? saved?.best_epoch);
  return {
    runDir,
    config,
    dataset,
    split,
    model,
    featureParts,
    usedFeatures,
    features: featureLabel(usedFeatures),
    bestEpoch: Number.isFinite(epoch) && epoch > 0 ? epoch : null,
    metrics,
  };
}
