/**
 * The exported model folder (`fmrlrec export`): one self-contained folder per
 * size m, readable without the run, the dataset or the feature cache.
 *
 *   <out>/                      one size
 *     manifest.json             {@link SizeManifest}: size, parameters, bytes, metrics
 *     config.json               {@link ExportedConfig}: the size-m model's configuration
 *     model.safetensors         the size-m model's parameters, one tensor per name
 *                               (the names and [out, in] shapes of src/model; an MRL
 *                               matrix is m×m with its zero blocks above the block diagonal)
 *     item_table.safetensors    "item_table": E[:, 0:m], (N+1)×m float32 (row 0 = padding),
 *                               precomputed because item embeddings are fixed after training
 *     items.json                {@link ItemEntry}[]: item id ↔ ASIN ↔ title, ids 1..N
 *     item_recipe.json          {@link ItemRecipe}: how an item's vector is built from its
 *                               metadata, for items added after training (`fmrlrec items add`)
 *     count_prior.safetensors   the count prior's pairs, when config.json has a countPrior
 *
 *   <out>/                      every size (`--size all`)
 *     index.json                {@link ExportIndex}: the sizes and their folders
 *     size-8/ size-16/ ...      one folder of the layout above per size
 *
 * This file only describes the format (types, names); it imports nothing from
 * Node so that the browser engine can share it.
 */
import type { ModelConfig } from '../model/config';
import type { CountRule } from '../model/count-prior';

/** Format name and version written into every manifest and index. */
export const MODEL_FORMAT = 'fmrlrec-model';
/** Format name of index.json (an every-size export). */
export const MODEL_INDEX_FORMAT = 'fmrlrec-model-index';
/** Version of the folder layout; readers refuse other versions. */
export const MODEL_FORMAT_VERSION = 1;

/** The size's manifest ({@link SizeManifest}). */
export const MANIFEST_FILE = 'manifest.json';
/** The size's model configuration ({@link ExportedConfig}). */
export const CONFIG_FILE = 'config.json';
/** The size-m model's parameters. */
export const WEIGHTS_FILE = 'model.safetensors';
/** The precomputed item table E[:, 0:m]. */
export const ITEM_TABLE_FILE = 'item_table.safetensors';
/** Item id ↔ ASIN ↔ title ({@link ItemEntry}[]). */
export const ITEMS_FILE = 'items.json';
/**
 * The count prior's pairs (src/model/count-prior.ts), when config.json has a
 * countPrior: I32 tensors "first" and "second" and a tensor "weight" (F32 when
 * every weight is a whole number below 2^24, exact there; else F64), one entry
 * per counted pair, ordered by (first, second).
 */
export const COUNT_PRIOR_FILE = 'count_prior.safetensors';
/** The sizes of an every-size export and their folders ({@link ExportIndex}). */
export const INDEX_FILE = 'index.json';
/** How the vectors of new items are built ({@link ItemRecipe}). */
export const ITEM_RECIPE_FILE = 'item_recipe.json';

/** Name of the one tensor in item_table.safetensors. */
export const ITEM_TABLE_TENSOR = 'item_table';

/** Folder of size m inside an every-size export. */
export function sizeFolderName(m: number): string {
  return `size-${m}`;
}

/** config.json: what is needed to rebuild and run the size-m model. */
export interface ExportedConfig {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_FORMAT_VERSION;
  /** Dataset the model was trained on (e.g. "beauty"). */
  dataset: string;
  /** Item features the model was trained with (e.g. "text:use+id"). */
  features: string;
  /** The size-m model: dims is the ladder up to and including m. */
  model: ModelConfig;
  /** Input window L: scoring reads the last maxLen items of a history (docs/method.md §2). */
  maxLen: number;
  /**
   * The count prior (docs/method.md §5.11): its rule, reach and β for every
   * size this model serves; the pairs are in COUNT_PRIOR_FILE. Absent: none.
   */
  countPrior?: ExportedCountPrior;
}

/** config.json's description of a count prior. */
export interface ExportedCountPrior {
  rule: CountRule;
  window: number;
  context: number;
  /** β by size ("8", "16", ...). */
  beta: Record<string, number>;
}

/** One entry of items.json. */
export interface ItemEntry {
  /** Item id 1..N (0 is padding and is not listed). */
  id: number;
  /** External id (an Amazon ASIN for the Amazon datasets); "" when unknown. */
  asin: string;
  /** Item title; "" when unknown. */
  title: string;
}

/**
 * item_recipe.json: what builds a new item's vector the way training built
 * every item's (docs/method.md §4.2) without an item-ID vector:
 * E_new = P·f + p + Σ_j S_j A_j, with P, p and A (`projection.*`,
 * `item_attributes.weight`) read from model.safetensors, f the item's text
 * encoded with the model's own encoder, and S its attribute row over the
 * vocabulary below (src/features/attributes.ts).
 */
export interface ItemRecipe {
  /** Text encoder name as `fmrlrec train --text-encoder` takes it ("use", "hf:<id or folder>"); null: no text part. */
  textEncoder: string | null;
  /** Version of the item text template (src/features/template.ts) the features were encoded from. */
  templateVersion: number;
  /** Width F of the frozen features (projection.weight is m×F); 0 without features. */
  featureDim: number;
  /** Image encoder of the features' image part, or null (items with an image part cannot be added). */
  imageEncoder: string | null;
  /** Attribute kinds and the columns of item_attributes.weight in order; null when the model has no attribute table. */
  attributes: { brandAndCategory: boolean; titleWords: boolean; vocabulary: string[] } | null;
}

/** Ranking metrics of one split at this size, as in the run's metrics.json. */
export type SizeMetrics = Record<string, number>;

/** manifest.json of one exported size. */
export interface SizeManifest {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_FORMAT_VERSION;
  dataset: string;
  /** The size m (the width of this model). */
  size: number;
  /** The ladder of this model (sizes up to m it can also serve exactly). */
  dims: number[];
  /** Parameters that exist in the size-m model (MRL matrices: block lower triangle only). */
  parameters: number;
  /** Bytes of each file of the folder, and their total. */
  bytes: Record<string, number> & { total: number };
  /** Validation (and test, when known) metrics of this size; null when the run has none. */
  metrics: { valid: SizeMetrics; test: SizeMetrics | null } | null;
  /** Where the model came from. */
  source: { run: string; bestEpoch: number | null };
  /** ISO time of export. */
  created: string;
  /**
   * Items added after training (`fmrlrec items add`): the last addedItems
   * entries of items.json, with no item-ID vector; absent when none.
   */
  addedItems?: number;
}

/** index.json of an every-size export. */
export interface ExportIndex {
  format: typeof MODEL_INDEX_FORMAT;
  version: typeof MODEL_FORMAT_VERSION;
  dataset: string;
  /** One entry per size, ascending. */
  sizes: { size: number; folder: string; parameters: number; bytes: number; validRecall10: number | null; validNdcg10: number | null }[];
}
