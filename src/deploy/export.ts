/**
 * Exported models (layout in ./format.ts): slice the trained model to size m,
 * precompute its item table E[:, 0:m], and write weights, config, items, the
 * recipe of new items' vectors (./new-items.ts) and a manifest with the size's
 * parameters, bytes and metrics; or hand the same model to the engine in
 * memory ({@link servingModel}).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset } from '../data/types';
import type { MetricsBySize } from '../eval/evaluate';
import { type CountPrior, countRule, PairCounts } from '../model/count-prior';
import type { FmrlRec } from '../model/fmrlrec';
import { fullHistory } from '../data/split';
import type { Split } from '../data/types';
import type { CountPriorSettings } from '../eval/count-prior-fit';
import { parameterCount, sliceModel } from '../model/slice';
import type { TrainedRun } from '../run/trained-run';
import { DEFAULT_MAX_LEN } from '../data/batches';
import { Catalogue } from '../serve/catalogue';
import { EngineKernels, InferenceEngine, TYPESCRIPT_ENGINE_KERNELS } from '../serve/engine';
import type { LoadedEngine } from '../serve/model-files';
import { paramTensors, saveParams } from '../train/checkpoint';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import type { Float32Tensor } from '../util/safetensors';
import { writeSafetensors } from '../util/safetensors-file';
import {
  CONFIG_FILE,
  COUNT_PRIOR_FILE,
  ExportedConfig,
  ExportIndex,
  INDEX_FILE,
  ITEM_RECIPE_FILE,
  ITEM_TABLE_FILE,
  ITEM_TABLE_TENSOR,
  ItemEntry,
  ItemRecipe,
  ITEMS_FILE,
  MANIFEST_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  MODEL_INDEX_FORMAT,
  SizeManifest,
  sizeFolderName,
  WEIGHTS_FILE,
} from './format';
import { itemRecipeOf } from './new-items';

/** What an export is made from: a trained model and what describes it. */
export interface ExportSource {
  /** The full trained model. */
  model: FmrlRec;
  /** The dataset (name, item ids, item titles). */
  dataset: Pick<Dataset, 'name' | 'numItems' | 'itemIds' | 'items'>;
  /** Feature label, e.g. "text:use+id". */
  features: string;
  /** Input window L used in training and evaluation. */
  maxLen: number;
  /** Metrics per size (valid, and test when known), or null. */
  metrics: { valid: MetricsBySize; test: MetricsBySize | null } | null;
  /** Run folder, recorded in the manifest. */
  run: string;
  /** Best epoch, recorded in the manifest (null when unknown). */
  bestEpoch: number | null;
  /** How new items' vectors are built (item_recipe.json); absent or null: the folder cannot take new items. */
  itemRecipe?: ItemRecipe | null;
  /** The count prior, its counts over every history in full; absent or null: none. */
  countPrior?: CountPrior | null;
}

/** A fitted prior's settings with its counts taken over every user's whole sequence (training, validation and test items): what a deployed model counts from. */
export function deployedCountPrior(settings: CountPriorSettings, split: Split): CountPrior {
  const rule = countRule(settings.rule, settings.reach);
  const counts = PairCounts.fromHistories(
    Array.from(split.train, (_, u) => fullHistory(split, u)),
    rule,
  );
  return { rule: settings.rule, reach: settings.reach, beta: settings.beta, counts };
}

/** What a loaded run folder exports as (its model, dataset, features, window, metrics, best epoch and new items' recipe). */
export function exportSourceOf(run: TrainedRun): ExportSource {
  return {
    model: run.model,
    dataset: run.dataset,
    features: run.features,
    maxLen: run.config.train.maxLen,
    metrics: run.metrics,
    run: run.runDir,
    bestEpoch: run.bestEpoch,
    itemRecipe: itemRecipeOf(run),
    countPrior: run.countPrior ? deployedCountPrior(run.countPrior, run.split) : null,
  };
}

/** items.json entries for ids 1..N. */
export function catalogueEntries(dataset: ExportSource['dataset']): ItemEntry[] {
  const entries: ItemEntry[] = [];
  for (let id = 1; id <= dataset.numItems; id++) {
    entries.push({ id, asin: dataset.itemIds[id] ?? '', title: dataset.items[id]?.title ?? '' });
  }
  return entries;
}

/** Columns 0:m of a rows×d matrix. */
function leadingColumns(matrix: Float32Array, rows: number, d: number, m: number): Float32Array {
  const out = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) out.set(matrix.subarray(r * d, r * d + m), r * m);
  return out;
}

/**
 * Make outDir ready: absent or empty is fine; an earlier export is replaced
 * when forced; any other content is never touched.
 */
function prepareOutDir(outDir: string, force: boolean): void {
  if (fs.existsSync(outDir)) {
    if (!fs.statSync(outDir).isDirectory()) throw new UserError(`${outDir} exists and is not a folder`);
    if (fs.readdirSync(outDir).length > 0) {
      const earlierExport = fs.existsSync(path.join(outDir, MANIFEST_FILE)) || fs.existsSync(path.join(outDir, INDEX_FILE));
      if (!earlierExport) throw new UserError(`${outDir} holds files that are not an fmrlrec export`, 'folder-not-empty');
      if (!force) throw new UserError(`${outDir} already holds an export`, 'export-exists');
      fs.rmSync(outDir, { recursive: true });
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
}

/** The size-m model as an export holds it, in memory (see ./format.ts). */
export interface ExportedModel {
  /** The sliced model. */
  small: FmrlRec;
  /** config.json. */
  config: ExportedConfig;
  /** model.safetensors: the sliced model's parameters by name. */
  weights: Record<string, Float32Tensor>;
  /** item_table.safetensors: E[:, 0:m]. */
  itemTable: Float32Tensor;
  /** items.json. */
  items: ItemEntry[];
  /** The count prior with β for the sizes this model serves (count_prior.safetensors), or null. */
  countPrior: CountPrior | null;
}

/** The prior as the size-m model serves it: β of the sizes up to m. */
function priorUpTo(prior: CountPrior, dims: readonly number[]): CountPrior {
  const beta = Object.fromEntries(dims.map((d) => [String(d), prior.beta[String(d)] ?? 0]));
  return { ...prior, beta };
}

/**
 * The size-m model with its item table and catalogue. `itemTable` is the full
 * model's E ((N+1)×D) when the caller computed it once for all sizes.
 */
function exportedModel(
  source: Pick<ExportSource, 'model' | 'dataset' | 'features' | 'maxLen' | 'countPrior'>,
  m: number,
  itemTable = source.model.itemTable(),
): ExportedModel {
  const { model, dataset } = source;
  const small = sliceModel(model, m);
  const rows = model.numRows;
  const countPrior = source.countPrior ? priorUpTo(source.countPrior, small.config.dims) : null;
  const config: ExportedConfig = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    dataset: dataset.name,
    features: source.features,
    model: small.config,
    maxLen: source.maxLen,
  };
  if (countPrior) {
    const { rule, reach, beta } = countPrior;
    config.countPrior = { rule, window: reach.window, context: reach.context, beta };
  }
  return {
    small,
    config,
    countPrior,
    weights: paramTensors(small),
    items: catalogueEntries(dataset),
    itemTable: { data: leadingColumns(itemTable, rows, model.width, m), shape: [rows, m] },
  };
}

/** What {@link servingModel} needs: a trained model and its dataset; the label and window have defaults. */
export interface ServingSource {
  /** The trained model (full, or already sliced). */
  model: FmrlRec;
  /** The dataset (name, item ids, item titles). */
  dataset: ExportSource['dataset'];
  /** Feature label reported in the engine's config (default ""). */
  features?: string;
  /** Input window L: the last maxLen history items are read (default {@link DEFAULT_MAX_LEN}). */
  maxLen?: number;
  /** The count prior (default none). */
  countPrior?: CountPrior | null;
}

/**
 * The size-m model ready to answer, in memory: the engine and catalogue that
 * the folder written by {@link exportSize} would load (the same weights and
 * item table), for `recommend` without any file.
 * @param m a size of the model's ladder (default its width)
 * @throws UserError (code "size-not-in-ladder") when m is not in the ladder
 */
export function servingModel(source: ServingSource, m = source.model.width, kernels: EngineKernels = TYPESCRIPT_ENGINE_KERNELS): LoadedEngine {
  checkExportSize(source.model.config.dims, m);
  const exported = exportedModel({ features: '', maxLen: DEFAULT_MAX_LEN, ...source }, m);
  return {
    engine: new InferenceEngine(
      { config: exported.config, weights: exported.weights, itemTable: exported.itemTable, countPrior: exported.countPrior },
      kernels,
    ),
    catalogue: new Catalogue(exported.items, source.model.config.numItems),
    config: exported.config,
  };
}

/**
 * The pair weights as the count file stores them: float32 when every weight is
 * a whole number below 2^24, which float32 holds exactly (a quarter smaller
 * file), else float64. The reader accepts either.
 */
function countWeights(weight: Float64Array): Float32Array | Float64Array {
  return weight.every((w) => w < FLOAT32_EXACT) ? Float32Array.from(weight) : weight;
}

/** Whole numbers below this are exact in float32. */
const FLOAT32_EXACT = 2 ** 24;

/** Write the folder of size m; `itemTable` as in {@link exportedModel}. */
function writeSizeFolder(source: ExportSource, itemTable: Float32Array, m: number, outDir: string): SizeManifest {
  const { dataset } = source;
  const { small, config, itemTable: table, items, countPrior } = exportedModel(source, m, itemTable);
  saveParams(path.join(outDir, WEIGHTS_FILE), small, { format: MODEL_FORMAT, size: String(m) });
  writeSafetensors(path.join(outDir, ITEM_TABLE_FILE), { [ITEM_TABLE_TENSOR]: table });
  writeJsonAtomic(path.join(outDir, CONFIG_FILE), config);
  writeJsonAtomic(path.join(outDir, ITEMS_FILE), items);
  if (source.itemRecipe) writeJsonAtomic(path.join(outDir, ITEM_RECIPE_FILE), source.itemRecipe);
  if (countPrior) {
    const pairs = countPrior.counts.toArrays();
    const n = pairs.first.length;
    writeSafetensors(path.join(outDir, COUNT_PRIOR_FILE), {
      first: { data: pairs.first, shape: [n] },
      second: { data: pairs.second, shape: [n] },
      weight: { data: countWeights(pairs.weight), shape: [n] },
    });
  }
  const bytes = folderBytes(outDir);
  const key = String(m);
  const valid = source.metrics?.valid[key];
  const manifest: SizeManifest = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    dataset: dataset.name,
    size: m,
    dims: small.config.dims,
    parameters: parameterCount(small),
    bytes,
    metrics: valid ? { valid, test: source.metrics?.test?.[key] ?? null } : null,
    source: { run: source.run, bestEpoch: source.bestEpoch },
    created: new Date().toISOString(),
  };
  writeJsonAtomic(path.join(outDir, MANIFEST_FILE), manifest);
  return manifest;
}

/** manifest.json's `bytes`: the size of each file of a size folder (manifest.json aside), and their total. */
export function folderBytes(dir: string): SizeManifest['bytes'] {
  const names = [WEIGHTS_FILE, ITEM_TABLE_FILE, CONFIG_FILE, ITEMS_FILE, ITEM_RECIPE_FILE, COUNT_PRIOR_FILE].filter((f) => fs.existsSync(path.join(dir, f)));
  const files = Object.fromEntries(names.map((f) => [f, fs.statSync(path.join(dir, f)).size]));
  return { ...files, total: Object.values(files).reduce((a, b) => a + b, 0) };
}

/** Throws a UserError (code "size-not-in-ladder") unless m is a size of the ladder `dims`. */
export function checkExportSize(dims: readonly number[], m: number): void {
  if (!dims.includes(m)) throw new UserError(`size ${m} is not in the model's ladder (sizes: ${dims.join(', ')})`, 'size-not-in-ladder');
}

/** Options of {@link exportSize} and {@link exportAllSizes}. */
export interface ExportOptions {
  /** Replace an earlier export in the folder (default false: refuse). */
  force?: boolean;
  /** Called after each size folder is written (exportAllSizes). */
  onSize?: (manifest: SizeManifest) => void;
}

/**
 * Export one size m of the model's ladder into outDir (absent or empty, or an
 * earlier export with `force`).
 * @throws UserError when m is not in the ladder or outDir holds something else
 */
export function exportSize(source: ExportSource, m: number, outDir: string, options: ExportOptions = {}): SizeManifest {
  checkExportSize(source.model.config.dims, m);
  prepareOutDir(outDir, options.force ?? false);
  return writeSizeFolder(source, source.model.itemTable(), m, outDir);
}

/** Export every size of the ladder: one folder per size plus index.json. */
export function exportAllSizes(source: ExportSource, outDir: string, options: ExportOptions = {}): ExportIndex {
  prepareOutDir(outDir, options.force ?? false);
  const itemTable = source.model.itemTable();
  const index: ExportIndex = { format: MODEL_INDEX_FORMAT, version: MODEL_FORMAT_VERSION, dataset: source.dataset.name, sizes: [] };
  for (const m of source.model.config.dims) {
    const folder = sizeFolderName(m);
    const manifest = writeSizeFolder(source, itemTable, m, path.join(outDir, folder));
    index.sizes.push({
      size: m,
      folder,
      parameters: manifest.parameters,
      bytes: manifest.bytes.total,
      validRecall10: manifest.metrics?.valid['Recall@10'] ?? null,
      validNdcg10: manifest.metrics?.valid['NDCG@10'] ?? null,
    });
    options.onSize?.(manifest);
  }
  writeJsonAtomic(path.join(outDir, INDEX_FILE), index);
  return index;
}
