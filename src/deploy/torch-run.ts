/**
 * Run folders ↔ reference state_dicts in safetensors files (see
 * ./torch-state-dict.ts for the names and shapes, docs/interop.md for the
 * Python side).
 * - import: a reference state_dict + its dataset → a run folder (run.json,
 *   best.safetensors, and the reference's frozen feature tables in
 *   reference_features.safetensors) that `export`, `recommend` and
 *   `export-torch` accept;
 * - export: a run's best model → a reference state_dict.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kernels } from '../kernels/types';
import { FmrlRec } from '../model/fmrlrec';
import { DEFAULT_CACHE_DIR, DEFAULT_MODEL } from '../run/defaults';
import { loadDataset } from '../run/prepare';
import { loadRunConfig, RunConfig, saveRunConfig } from '../run/run-config';
import { saveParams } from '../train/checkpoint';
import { BEST_FILE, REFERENCE_TRAIN_CONFIG } from '../train/trainer';
import { UserError } from '../util/errors';
import { readSafetensors, writeSafetensors } from '../util/safetensors-file';
import { applyTorchModel, fromTorchStateDict, itemIdEmbeddingError, toTorchStateDict } from './torch-state-dict';
import { loadTrainedRun, type LoadTrainedRunOptions } from '../run/trained-run';
import { concatColumns, REFERENCE_FEATURES_FILE, REFERENCE_FEATURES_NAME, TOKEN_IMG, TOKEN_LANG } from './reference-features';

/** What an import made. */
export interface ImportSummary {
  dims: number[];
  numBlocks: number;
  numItems: number;
  langDim: number;
  imgDim: number;
}

/** Options of {@link importTorchRun}. */
export interface ImportTorchOptions {
  /** Kernels of the model built to check the import. */
  kern: Kernels;
  /** Feature cache recorded in the run's recipe (default ~/.cache/fmrlrec; the imported features travel in the run folder). */
  cacheDir?: string;
}

/**
 * Build a run folder from a reference state_dict saved as safetensors and the
 * P5 dataset folder it was trained on.
 * @throws UserError (code "folder-not-empty") when outDir holds files; UserError when the tensors or the data do not fit
 */
export function importTorchRun(weightsFile: string, dataDir: string, outDir: string, options: ImportTorchOptions): ImportSummary {
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) throw new UserError(`${outDir} is not empty`, 'folder-not-empty');
  const { tensors } = readSafetensors(weightsFile);
  const imported = fromTorchStateDict(tensors, weightsFile);
  const source = { kind: 'p5' as const, path: path.resolve(dataDir), name: path.basename(path.resolve(dataDir)) };
  const dataset = loadDataset(source);
  const rows = dataset.numItems + 1;
  const { features } = imported;
  if (imported.numRows !== rows) {
    throw new UserError(`${weightsFile}: the feature tables have ${imported.numRows} rows, but ${dataDir} has ${dataset.numItems} items (+1 padding row)`);
  }
  const config: RunConfig = {
    version: 1,
    dataset: source,
    features: { text: REFERENCE_FEATURES_NAME, itemIds: false, cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR },
    model: { ...DEFAULT_MODEL, dims: imported.dims, numBlocks: imported.numBlocks },
    train: REFERENCE_TRAIN_CONFIG,
  };
  const model = new FmrlRec(
    {
      ...config.model,
      numItems: dataset.numItems,
      featureDim: features.langDim + features.imgDim,
      itemIdEmbedding: false,
    },
    concatColumns(features.lang, features.langDim, features.img, features.imgDim, rows),
    options.kern,
  );
  applyTorchModel(model, imported);
  fs.mkdirSync(outDir, { recursive: true });
  writeSafetensors(path.join(outDir, REFERENCE_FEATURES_FILE), {
    [TOKEN_LANG]: { data: features.lang, shape: [rows, features.langDim] },
    [TOKEN_IMG]: { data: features.img, shape: [rows, features.imgDim] },
  });
  saveParams(path.join(outDir, BEST_FILE), model, { source: 'import-torch', weights: path.resolve(weightsFile) });
  saveRunConfig(outDir, config);
  return { dims: imported.dims, numBlocks: imported.numBlocks, numItems: dataset.numItems, langDim: features.langDim, imgDim: features.imgDim };
}

/**
 * Write a run's best model as a reference state_dict; returns the number of tensors.
 * @throws UserError (code "no-reference-features") for a model with learned item-ID or attribute vectors
 */
export async function exportTorchRun(runDir: string, outFile: string, options: Omit<LoadTrainedRunOptions, 'metrics'>): Promise<number> {
  const { features } = loadRunConfig(runDir);
  if (features.itemIds || features.attributes || features.titleWords) throw itemIdEmbeddingError(runDir);
  const run = await loadTrainedRun(runDir, { ...options, metrics: false });
  const stateDict = toTorchStateDict(run.model, run.featureParts, runDir);
  writeSafetensors(outFile, stateDict, { format: 'pt', source: 'fmrlrec export-torch' });
  return Object.keys(stateDict).length;
}
