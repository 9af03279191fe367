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
import { COUNT_RULES } from '../model/count-prior';
import type { CountPriorSettings } from '../eval/count-prior-fit';
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
  /** The count prior fitted after training (its counts are rebuilt from the data), or null. */
  countPrior: CountPriorSettings | null;
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
    countPrior: readCountPrior(runDir),
    metrics,
  };
}

/** The file of a run folder that holds its fitted count prior (src/eval/count-prior-fit.ts: CountPriorFit). */
export const RUN_COUNT_PRIOR_FILE = 'count-prior.json';

/**
 * A run's fitted count prior, or null when it has none.
 * @throws UserError when the file is not a count prior
 */
export function readCountPrior(runDir: string): CountPriorSettings | null {
  const file = path.join(runDir, RUN_COUNT_PRIOR_FILE);
  if (!fs.existsSync(file)) return null;
  let prior: CountPriorSettings;
  try {
    prior = JSON.parse(fs.readFileSync(file, 'utf8')) as CountPriorSettings;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!(COUNT_RULES as readonly string[]).includes(prior.rule) || !prior.reach || typeof prior.beta !== 'object' || prior.beta === null) {
    throw new UserError(`${file}: not a count prior`);
  }
  return { rule: prior.rule, reach: prior.reach, beta: prior.beta };
}
