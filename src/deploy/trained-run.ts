/**
 * A run folder's best model, loaded for deployment: the run's recipe, its
 * dataset and features, the parameters of best.safetensors, and the metrics
 * the run reported. Two kinds of run folder:
 * - trained by `fmrlrec train`: features come from the feature cache (prepareRun);
 * - imported by `fmrlrec import-torch`: the reference's frozen feature tables
 *   travel in the folder ({@link REFERENCE_FEATURES_FILE}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { leaveOneOut } from '../data/split';
import type { Dataset, Split } from '../data/types';
import { evaluate, MetricsBySize } from '../eval/evaluate';
import { readMetricsReport } from '../eval/report';
import type { Kernels } from '../kernels/types';
import { FmrlRec } from '../model/fmrlrec';
import { loadDataset, prepareRun } from '../run/prepare';
import { featureLabel, loadRunConfig, RunConfig } from '../run/run-config';
import { loadParams } from '../train/checkpoint';
import { BEST_FILE } from '../train/trainer';
import { UserError } from '../util/errors';
import { readSafetensors } from '../util/safetensors';

/**
 * An imported run's frozen item features, as the reference holds them:
 * "token_lang" ((N+1)×F_text) and "token_img" ((N+1)×F_image, may be 0 wide);
 * the model's feature vector is their concatenation (SPEC §3).
 */
export const REFERENCE_FEATURES_FILE = 'reference_features.safetensors';
export const TOKEN_LANG = 'token_lang';
export const TOKEN_IMG = 'token_img';

/** Text encoder name recorded in an imported run's run.json. */
export const REFERENCE_FEATURES_NAME = 'reference';

export interface TrainedRun {
  runDir: string;
  config: RunConfig;
  dataset: Dataset;
  split: Split;
  /** The full model with the best parameters. */
  model: FmrlRec;
  /** Frozen features split as the reference holds them (text part, image part; a trained run has no image part). */
  featureParts: { lang: Float32Array; langDim: number; img: Float32Array; imgDim: number } | null;
  /** Label of the features, e.g. "text:use+id". */
  features: string;
  /** Epoch of best.safetensors when recorded. */
  bestEpoch: number | null;
  /** Validation metrics per size (from metrics.json, else computed) and test metrics when reported; null when not asked for. */
  metrics: { valid: MetricsBySize; test: MetricsBySize | null } | null;
}

/** Concatenate the columns of (rows×a) and (rows×b). */
export function concatColumns(left: Float32Array, a: number, right: Float32Array, b: number, rows: number): Float32Array {
  const out = new Float32Array(rows * (a + b));
  for (let r = 0; r < rows; r++) {
    out.set(left.subarray(r * a, r * a + a), r * (a + b));
    out.set(right.subarray(r * b, r * b + b), r * (a + b) + a);
  }
  return out;
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
  const referenceFile = path.join(runDir, REFERENCE_FEATURES_FILE);
  let dataset: Dataset;
  let split: Split;
  let model: FmrlRec;
  let featureParts: TrainedRun['featureParts'] = null;
  if (fs.existsSync(referenceFile)) {
    dataset = loadDataset(config.dataset);
    split = leaveOneOut(dataset);
    const { tensors } = readSafetensors(referenceFile);
    const lang = tensors[TOKEN_LANG];
    const img = tensors[TOKEN_IMG];
    const rows = dataset.numItems + 1;
    if (!lang || !img || lang.shape[0] !== rows || img.shape[0] !== rows) {
      throw new UserError(`${referenceFile}: expected ${TOKEN_LANG} and ${TOKEN_IMG} with ${rows} rows each`);
    }
    const langDim = lang.shape[1];
    const imgDim = img.shape[1];
    featureParts = { lang: lang.data as Float32Array, langDim, img: img.data as Float32Array, imgDim };
    const features = concatColumns(featureParts.lang, langDim, featureParts.img, imgDim, rows);
    model = new FmrlRec({ ...config.model, numItems: dataset.numItems, featureDim: langDim + imgDim, itemIdEmbedding: false }, features, kern);
  } else {
    const prepared = await prepareRun(config, kern, progress);
    ({ dataset, split, model } = prepared);
    if (prepared.features) featureParts = { lang: prepared.features, langDim: prepared.featureDim, img: new Float32Array(0), imgDim: 0 };
  }
  const metadata = loadParams(bestFile, model);
  const saved = readMetricsReport(runDir);
  const metrics = !withMetrics ? null : saved
    ? { valid: saved.valid, test: saved.test }
    : { valid: evaluate(model, split, 'valid', { batchSize: config.train.evalBatchSize, maxLen: config.train.maxLen, excludeHistory: false, progress }), test: null };
  const epoch = Number(metadata.epoch ?? saved?.best_epoch);
  return {
    runDir, config, dataset, split, model, featureParts, features: featureLabel(config.features),
    bestEpoch: Number.isFinite(epoch) && epoch > 0 ? epoch : null, metrics,
  };
}
