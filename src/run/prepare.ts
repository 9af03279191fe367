/**
 * Turn a run recipe into ready inputs: the dataset, its leave-one-out split, the
 * frozen item features (from the cache when possible) and an untrained model.
 */
import { readP5Dataset } from '../data/p5';
import { leaveOneOut } from '../data/split';
import { generateSyntheticDataset } from '../data/synthetic';
import type { Dataset, Split } from '../data/types';
import { loadItemFeatures } from '../features/cache';
import { textEncoderSource } from '../features/encoders';
import type { Kernels } from '../kernels/types';
import { FmrlRec } from '../model/fmrlrec';
import type { DatasetSource, RunConfig } from './run-config';

export interface PreparedRun {
  dataset: Dataset;
  split: Split;
  /** (N+1)×featureDim text features (row 0 zeros), or null. */
  features: Float32Array | null;
  featureDim: number;
  model: FmrlRec;
}

export function loadDataset(source: DatasetSource): Dataset {
  if (source.kind === 'p5') return readP5Dataset(source.path, source.name);
  return { ...generateSyntheticDataset({ numUsers: source.users, numItems: source.items, seed: source.seed }), name: source.name };
}

/** Load data and features and build the (untrained) model of a run. */
export async function prepareRun(config: RunConfig, kern: Kernels, progress: boolean): Promise<PreparedRun> {
  const dataset = loadDataset(config.dataset);
  const split = leaveOneOut(dataset);
  let features: Float32Array | null = null;
  let featureDim = 0;
  if (config.features.text) {
    const loaded = await loadItemFeatures({
      dataset, cacheDir: config.features.cacheDir, encoder: textEncoderSource(config.features.text), progress,
    });
    features = loaded.matrix;
    featureDim = loaded.dim;
  }
  const model = new FmrlRec({
    ...config.model, numItems: dataset.numItems, featureDim, itemIdEmbedding: config.features.itemIds,
  }, features, kern);
  model.init(config.train.seed);
  return { dataset, split, features, featureDim, model };
}
