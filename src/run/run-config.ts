/**
 * A run folder's recipe (`<run>/run.json`): where the data comes from, which
 * item features, the model and the training settings. `train` writes it,
 * `eval` and `--resume` read it to rebuild exactly the same inputs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelConfig } from '../model/config';
import type { CountRule, NeighbourReach } from '../model/count-prior';
import type { TrainConfig } from '../train/trainer';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';

/** Where a run's dataset comes from. */
export type DatasetSource = { kind: 'p5'; path: string; name: string } | { kind: 'synthetic'; users: number; items: number; seed: number; name: string };

/** Which item features a run uses. */
export interface FeatureConfig {
  /** Text encoder name (e.g. "use"), or null for no text features. */
  text: string | null;
  /**
   * Learn a vector per shared brand and category and add it to the item's
   * vector (features/attributes.ts); absent in run folders made before it existed.
   */
  attributes?: boolean;
  /** Likewise one learned vector per title word shared by several items; absent = false. */
  titleWords?: boolean;
  /** Add a learned item-ID embedding (hybrid; ID only when text is null). */
  itemIds: boolean;
  /** Folder of the feature cache. */
  cacheDir: string;
  /**
   * Image encoder (Hugging Face hub id or model folder), or null/absent for no
   * image features; f_i = [text_i ; image_i] (docs/method.md §3).
   */
  image?: string | null;
  /** Folder of item images named by ASIN (else the metadata's URLs, when downloads are allowed). */
  images?: string | null;
}

/** The model settings a user chooses (numItems and featureDim come from the data). */
export type ModelSettings = Pick<ModelConfig, 'dims' | 'numBlocks' | 'dropout' | 'layerNormEps' | 'rMin' | 'rMax' | 'sizeWeights'>;

/** A run's recipe (run.json): everything needed to rebuild its inputs and model. */
export interface RunConfig {
  /** Format version of run.json. */
  version: 1;
  /** Where the data comes from. */
  dataset: DatasetSource;
  /** Which item features. */
  features: FeatureConfig;
  /** The model settings (the item count and feature width come from the data). */
  model: ModelSettings;
  /** The training settings. */
  train: TrainConfig;
  /**
   * The count prior fitted after training (src/eval/count-prior-fit.ts): the
   * rules the fit may choose from and their reach; null, or absent in run
   * folders made before the prior existed: none.
   */
  countPrior?: CountPriorRecipe | null;
}

/** What a count prior may be fitted from. */
export interface CountPriorRecipe {
  /** The rules the fit chooses from, on validation (non-empty). */
  rules: CountRule[];
  reach: NeighbourReach;
}

/** The recipe's file in a run folder. */
export const RUN_CONFIG_FILE = 'run.json';

/** Short description of the features, e.g. "text:use+attr+id", "text:use", "id". */
export function featureLabel(features: Pick<FeatureConfig, 'text' | 'attributes' | 'titleWords' | 'itemIds' | 'image'>): string {
  const parts: string[] = [];
  if (features.text) parts.push(`text:${features.text}`);
  if (features.attributes) parts.push('attr');
  if (features.titleWords) parts.push('words');
  if (features.image) parts.push(`image:${features.image}`);
  if (features.itemIds) parts.push('id');
  return parts.join('+');
}

/** Write a run's recipe into its folder (atomically). */
export function saveRunConfig(runDir: string, config: RunConfig): void {
  writeJsonAtomic(path.join(runDir, RUN_CONFIG_FILE), config);
}

/**
 * Read a run's recipe.
 * @throws UserError when runDir is not a run folder or run.json is not a recipe
 */
export function loadRunConfig(runDir: string): RunConfig {
  const file = path.join(runDir, RUN_CONFIG_FILE);
  if (!fs.existsSync(file)) throw new UserError(`${runDir} is not a run folder (no ${RUN_CONFIG_FILE}; make one with "fmrlrec train")`);
  let config: RunConfig;
  try {
    config = JSON.parse(fs.readFileSync(file, 'utf8')) as RunConfig;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (config.version !== 1 || !config.dataset || !config.model || !config.train || !config.features) {
    throw new UserError(`${file}: not an fmrlrec run configuration`);
  }
  return config;
}
