/**
 * Turn a run recipe into ready inputs: the dataset, its leave-one-out split, the
 * frozen item features (from the feature cache, or for a run imported from the
 * reference code, from the run folder) and an untrained model.
 */
import { readP5Dataset } from '../data/p5';
import { dropShortUsers, leaveOneOut, MIN_USER_ITEMS } from '../data/split';
import { generateSyntheticDataset } from '../data/synthetic';
import type { Dataset, Split } from '../data/types';
import { attributeFeatures } from '../features/attributes';
import { loadItemFeatures } from '../features/cache';
import { textEncoderSource } from '../features/encoders';
import { huggingFaceImageSource } from '../features/huggingface';
import { itemText } from '../features/template';
import { loadItemImageFeatures } from '../features/image-cache';
import type { Kernels } from '../kernels/types';
import { FmrlRec } from '../model/fmrlrec';
import { UserError } from '../util/errors';
import { concatColumns, FeatureParts, readReferenceFeatures, REFERENCE_FEATURES_NAME } from '../deploy/reference-features';
import type { DatasetSource, FeatureConfig, RunConfig } from './run-config';

/** What {@link prepareRun} needs besides the recipe. */
export interface PrepareOptions {
  /** Kernels the model computes with. */
  kern: Kernels;
  /** Draw progress bars while encoding features (default false). */
  progress?: boolean;
  /** The run folder: needed for a run imported from the reference code (its features travel in it). */
  runDir?: string;
  /** Hugging Face encoders and item images may be downloaded (default false: local files only). */
  allowDownload?: boolean;
  /** Folder of local Hugging Face models (default: the encoders' own default). */
  modelsDir?: string;
}

/** A run's inputs, ready to train or to load a checkpoint into. */
export interface PreparedRun {
  dataset: Dataset;
  split: Split;
  /** (N+1)×featureDim item features (row 0 zeros), or null for an ID-only model. */
  features: Float32Array | null;
  featureDim: number;
  /** The same features split into text and image parts (docs/method.md §6 interchange), or null. */
  featureParts: FeatureParts | null;
  model: FmrlRec;
  /**
   * The features the model really uses: the recipe's, less what the data cannot
   * feed (no text part when every item has the same text).
   */
  usedFeatures: FeatureConfig;
  /** What preparation changed or left out, one line each, for the run's log. */
  notes: string[];
}

/**
 * Whether every item has the same template text (a dataset without item
 * metadata: every item is "Untitled Item"). A text feature would then be one
 * constant vector, which carries no information.
 */
export function hasConstantItemText(dataset: Dataset): boolean {
  if (dataset.numItems <= 1) return false;
  const first = itemText(dataset.items[1]);
  for (let i = 2; i <= dataset.numItems; i++) if (itemText(dataset.items[i]) !== first) return false;
  return true;
}

/** The dataset a recipe names (a P5 folder, or generated synthetic data). */
export function loadDataset(source: DatasetSource): Dataset {
  if (source.kind === 'p5') return readP5Dataset(source.path, source.name);
  return { ...generateSyntheticDataset({ numUsers: source.users, numItems: source.items, seed: source.seed }), name: source.name };
}

/**
 * The dataset a recipe names without the users too short for leave-one-out,
 * its leave-one-out split, and a note (for the log) when users were dropped.
 * @throws UserError when no user is left
 */
export function loadSplitDataset(source: DatasetSource): { dataset: Dataset; split: Split; notes: string[] } {
  const notes: string[] = [];
  const { dataset, dropped } = dropShortUsers(loadDataset(source));
  if (dropped > 0)
    notes.push(`dropped ${dropped} user${dropped === 1 ? '' : 's'} with fewer than ${MIN_USER_ITEMS} items (leave-one-out needs ${MIN_USER_ITEMS})`);
  if (dataset.sequences.length === 0) throw new UserError(`dataset ${dataset.name}: no user has ${MIN_USER_ITEMS} or more items; nothing to train on`);
  return { dataset, split: leaveOneOut(dataset), notes };
}

/**
 * Load data and features and build the (untrained, initialised) model of a run.
 * @throws UserError when the data is unusable or a feature source is missing
 */
export async function prepareRun(config: RunConfig, options: PrepareOptions): Promise<PreparedRun> {
  const { kern, runDir } = options;
  const progress = options.progress ?? false;
  const hf = { allowDownload: options.allowDownload ?? false, modelsDir: options.modelsDir };
  const { dataset, split, notes } = loadSplitDataset(config.dataset);
  // Why each feature asked for is left out; every reason is also a note.
  const unusable: string[] = [];
  const leaveOut = (reason: string): void => {
    unusable.push(reason);
    notes.push(reason);
  };
  const rows = dataset.numItems + 1;
  const usedFeatures: FeatureConfig = { ...config.features };
  if (usedFeatures.text && usedFeatures.text !== REFERENCE_FEATURES_NAME && hasConstantItemText(dataset)) {
    leaveOut(`every item has the same text ("${itemText(dataset.items[1])}"): training without the text part`);
    usedFeatures.text = null;
  }
  let featureParts: FeatureParts | null = null;
  if (usedFeatures.text === REFERENCE_FEATURES_NAME) {
    if (!runDir) throw new UserError('features "reference" belong to a run imported from the reference code; give its run folder (runDir)');
    featureParts = readReferenceFeatures(runDir, rows);
  } else if (usedFeatures.text) {
    const loaded = await loadItemFeatures({
      dataset,
      cacheDir: config.features.cacheDir,
      encoder: textEncoderSource(usedFeatures.text, hf),
      progress,
    });
    featureParts = { lang: loaded.matrix, langDim: loaded.dim, img: new Float32Array(0), imgDim: 0 };
  }
  if (config.features.image && config.features.text !== REFERENCE_FEATURES_NAME) {
    const image = await loadItemImageFeatures({
      dataset,
      cacheDir: config.features.cacheDir,
      encoder: huggingFaceImageSource(config.features.image, hf),
      progress,
      folder: config.features.images ?? undefined,
      download: hf.allowDownload,
    });
    featureParts = { ...(featureParts ?? { lang: new Float32Array(0), langDim: 0 }), img: image.matrix, imgDim: image.dim };
  }
  const featureDim = featureParts ? featureParts.langDim + featureParts.imgDim : 0;
  const features = !featureParts
    ? null
    : featureParts.imgDim === 0
      ? featureParts.lang
      : featureParts.langDim === 0
        ? featureParts.img
        : concatColumns(featureParts.lang, featureParts.langDim, featureParts.img, featureParts.imgDim, rows);
  const kinds = { brandAndCategory: config.features.attributes === true, titleWords: config.features.titleWords === true };
  const found = kinds.brandAndCategory || kinds.titleWords ? attributeFeatures(dataset.items, kinds) : null;
  // A kind asked for that no two items share (Clothing has no metadata, Sports and Toys no titles) is not used, and the log says so.
  if (found) {
    const used = { brandAndCategory: found.vocabulary.some((v) => !v.startsWith('word:')), titleWords: found.vocabulary.some((v) => v.startsWith('word:')) };
    if (kinds.brandAndCategory && !used.brandAndCategory) {
      leaveOut('no brand or category is shared by two items: training without brand/category vectors');
      usedFeatures.attributes = false;
    }
    if (kinds.titleWords && !used.titleWords) {
      leaveOut('no title word is shared by two items: training without title-word vectors');
      usedFeatures.titleWords = false;
    }
  }
  const attributes = found && found.dim > 0 ? found : null;
  if (featureDim === 0 && !config.features.itemIds && !attributes) {
    throw new UserError(
      `dataset ${dataset.name}: none of the features asked for is usable (${unusable.join('; ')}); add the item-ID embedding (id, e.g. --features ${requestedParts(config.features).concat('id').join('+')})`,
    );
  }
  const model = new FmrlRec(
    {
      ...config.model,
      numItems: dataset.numItems,
      featureDim,
      itemIdEmbedding: config.features.itemIds,
      attributeDim: attributes?.dim ?? 0,
    },
    features,
    kern,
    attributes,
  );
  model.init(config.train.seed);
  return { dataset, split, features, featureDim, featureParts, model, usedFeatures, notes };
}

/** The --features parts a feature configuration asks for (text, attr, words, id). */
function requestedParts(features: FeatureConfig): string[] {
  const parts: string[] = [];
  if (features.text) parts.push('text');
  if (features.attributes) parts.push('attr');
  if (features.titleWords) parts.push('words');
  if (features.itemIds) parts.push('id');
  return parts;
}
