/**
 * Default settings. The training defaults differ from the authors' reference
 * (REFERENCE_TRAIN_CONFIG: lr 1e-4, batch 32, 500 planned epochs) so that a
 * Beauty run finishes within half an hour on two CPU cores; docs/results.md
 * reports what each choice gives.
 */
import { doublingLadder } from '../model/config';
import type { TrainConfig } from '../train/trainer';
import { REFERENCE_TRAIN_CONFIG } from '../train/trainer';
import { DEFAULT_REACH } from '../model/count-prior';
import type { CountPriorRecipe, FeatureConfig, ModelSettings } from './run-config';
import * as os from 'node:os';
import * as path from 'node:path';

/** Default model width D (sizes 8, 16, ..., D). */
export const DEFAULT_WIDTH = 256;

/** Default model settings: width D = 256, one block, dropout 0.5. */
export const DEFAULT_MODEL: ModelSettings = {
  dims: doublingLadder(DEFAULT_WIDTH),
  numBlocks: 1,
  dropout: 0.5,
  layerNormEps: 1e-5,
  rMin: 0,
  rMax: 0.1,
};

/**
 * Chosen by Beauty's validation NDCG@10 of the largest size (docs/results.md,
 * "Variants"): lr 2e-3 over 1e-3, 20 epochs over 14 (25 minutes on 2 cores).
 */
export const DEFAULT_TRAIN: TrainConfig = {
  ...REFERENCE_TRAIN_CONFIG,
  epochs: 20,
  batchSize: 128,
  lr: 2e-3,
};

/**
 * K, the negatives per batch of the sampled loss (`fmrlrec train --loss
 * sampled` without --negatives). Full softmax stays the default loss.
 */
export const DEFAULT_NEGATIVES = 512;

/**
 * The library's feature cache folder, ~/.cache/fmrlrec. (The CLI lets
 * FMRLREC_CACHE_DIR or XDG_CACHE_HOME move it: src/cli/environment.ts.)
 */
export const DEFAULT_CACHE_DIR = path.join(os.homedir(), '.cache', 'fmrlrec');

/**
 * Text, brand/category and title-word vectors, and item IDs: the features with
 * the best validation NDCG@10 on Beauty (docs/results.md, "Variants").
 * @param cacheDir the feature cache folder
 */
export function defaultFeatures(cacheDir: string = DEFAULT_CACHE_DIR): FeatureConfig {
  return { text: 'use', attributes: true, titleWords: true, itemIds: true, cacheDir };
}

/**
 * The count prior fitted after training: followers or neighbours, whichever
 * validation prefers, at the default reach (docs/results.md, "The count prior").
 */
export const DEFAULT_COUNT_PRIOR: CountPriorRecipe = { rules: ['followers', 'neighbours'], reach: DEFAULT_REACH };
