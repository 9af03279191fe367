/**
 * Shared fixtures of the deployment and serving tests: a tiny fMRLRec model
 * with every parameter random (imaginary parts included), on a small synthetic
 * dataset, and the full model's size-m scores to compare exported models with.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticDataset } from '../src/data/synthetic';
import type { Dataset, PackedBatch } from '../src/data/types';
import type { ExportSource } from '../src/deploy/export';
import { referenceKernels } from '../src/kernels/reference';
import { chunkBounds } from '../src/model/config';
import { countRule, DEFAULT_REACH, PairCounts } from '../src/model/count-prior';
import { FmrlRec } from '../src/model/fmrlrec';
import { ITEM_ID_EMBEDDING, PROJECTION_WEIGHT } from '../src/model/layers/item-table';
import { mrlLinearInit } from '../src/model/layers/mrl-linear';
import { Rng } from '../src/util/rng';

export interface TinyOptions {
  dims?: number[];
  numBlocks?: number;
  itemIds?: boolean;
  featureDim?: number;
  seed?: number;
}

export interface Tiny {
  dataset: Dataset;
  model: FmrlRec;
  features: Float32Array;
}

/** A tiny model whose every parameter is random (MRL matrices block lower triangular). */
export function tinyModel(options: TinyOptions = {}): Tiny {
  const { dims = [4, 8, 16], numBlocks = 2, itemIds = false, featureDim = 6, seed = 7 } = options;
  const dataset = generateSyntheticDataset({ numUsers: 60, numItems: 40, seed, minLen: 3, maxLen: 12 });
  const rng = new Rng(seed);
  const rows = dataset.numItems + 1;
  const features = new Float32Array(rows * featureDim);
  for (let i = featureDim; i < features.length; i++) features[i] = 2 * rng.uniform() - 1;
  const model = new FmrlRec(
    {
      dims,
      numItems: dataset.numItems,
      featureDim,
      itemIdEmbedding: itemIds,
      numBlocks,
      dropout: 0.2,
      layerNormEps: 1e-5,
      rMin: 0,
      rMax: 0.1,
    },
    features,
    referenceKernels,
  );
  model.init(seed);
  const bounds = chunkBounds(dims);
  const d = dims[dims.length - 1];
  const uniform = () => rng.uniform();
  for (const spec of model.params.specs) {
    const v = model.params.value(spec.name);
    const square = spec.shape.length === 2 && spec.shape[0] === d && spec.shape[1] === d && spec.name !== PROJECTION_WEIGHT && spec.name !== ITEM_ID_EMBEDDING;
    if (square) mrlLinearInit(v, null, bounds, uniform);
    else for (let i = 0; i < v.length; i++) v[i] = 0.6 * (2 * rng.uniform() - 1);
  }
  if (itemIds) model.params.value(ITEM_ID_EMBEDDING).fill(0, 0, d);
  return { dataset, model, features };
}

/** An export source for a tiny model (metrics made up, as a run would report them). */
export function tinySource(tiny: Tiny, maxLen = 50): ExportSource {
  const metric = (m: number) => ({ 'Recall@10': m / 1000, 'NDCG@10': m / 2000 });
  const bySize = Object.fromEntries(tiny.model.config.dims.map((m) => [String(m), metric(m)]));
  return {
    model: tiny.model,
    dataset: tiny.dataset,
    features: 'text:test',
    maxLen,
    metrics: { valid: bySize, test: bySize },
    run: 'in-process',
    bestEpoch: 3,
  };
}

/** {@link tinySource} with a followers count prior over the dataset's sequences, β 1, 2, 4, ... by size. */
export function tinySourceWithPrior(tiny: Tiny, maxLen = 50): ExportSource {
  const counts = PairCounts.fromHistories(tiny.dataset.sequences, countRule('followers'));
  const beta = Object.fromEntries(tiny.model.config.dims.map((m, s) => [String(m), 2 ** s]));
  return { ...tinySource(tiny, maxLen), countPrior: { rule: 'followers', reach: DEFAULT_REACH, beta, counts } };
}

/** The full model's size-m scores of all N+1 items after `history` (its last maxLen items). */
export function fullModelScores(model: FmrlRec, history: number[], m: number, maxLen = 50): Float32Array {
  const inputs = Int32Array.from(history.length > 0 ? history.slice(-maxLen) : [0]);
  const batch: PackedBatch = {
    size: 1,
    offsets: Int32Array.from([0, inputs.length]),
    inputs,
    targets: new Int32Array(inputs.length),
    users: new Int32Array(1),
  };
  const e = model.itemTable();
  const h = model.lastHiddenStates(batch, e);
  const d = model.width;
  const scores = new Float32Array(model.numRows);
  scores[0] = -Infinity;
  for (let i = 1; i < model.numRows; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += h[j] * e[i * d + j];
    scores[i] = s;
  }
  return scores;
}

/** Largest |a[i] − b[i]| over finite entries (both −∞ counts as equal). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fmrlrec-${prefix}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
