/**
 * Build the engine and the catalogue from the contents of an exported size
 * folder (src/deploy/format.ts), however they were read: from disk in Node
 * (./model-folder.ts) or with fetch() in a browser. Browser-safe.
 */
import {
  CONFIG_FILE,
  ExportedConfig,
  ITEM_TABLE_FILE,
  ITEM_TABLE_TENSOR,
  ItemEntry,
  ITEMS_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  WEIGHTS_FILE,
} from '../deploy/format';
import { UserError } from '../util/errors';
import { Catalogue } from './catalogue';
import { EngineKernels, InferenceEngine, TYPESCRIPT_ENGINE_KERNELS } from './engine';
import { decodeFloat32Safetensors } from '../util/safetensors';

/** The files of one exported size, read but not decoded. */
export interface ModelFiles {
  /** Parsed config.json. */
  config: unknown;
  /** Parsed items.json. */
  items: unknown;
  /** Bytes of model.safetensors. */
  weights: Uint8Array;
  /** Bytes of item_table.safetensors. */
  itemTable: Uint8Array;
}

/** An exported model ready to answer. */
export interface LoadedEngine {
  engine: InferenceEngine;
  catalogue: Catalogue;
  config: ExportedConfig;
}

/**
 * Decode and check the files; `where` (a folder or URL) prefixes error
 * messages; `kernels` do the engine's batch products and ranking.
 */
export function engineFromFiles(files: ModelFiles, where: string, kernels: EngineKernels = TYPESCRIPT_ENGINE_KERNELS): LoadedEngine {
  const config = files.config as ExportedConfig;
  if (typeof config !== 'object' || config === null || config.format !== MODEL_FORMAT || !config.model) {
    throw new UserError(`${where}/${CONFIG_FILE}: not an fmrlrec model configuration`);
  }
  if (config.version !== MODEL_FORMAT_VERSION) {
    throw new UserError(`${where}/${CONFIG_FILE}: format version ${config.version}, this fmrlrec reads version ${MODEL_FORMAT_VERSION}`);
  }
  if (!Array.isArray(files.items)) throw new UserError(`${where}/${ITEMS_FILE}: expected a JSON array of items`);
  const weights = decodeFloat32Safetensors(files.weights, `${where}/${WEIGHTS_FILE}`);
  const table = decodeFloat32Safetensors(files.itemTable, `${where}/${ITEM_TABLE_FILE}`)[ITEM_TABLE_TENSOR];
  if (!table) throw new UserError(`${where}/${ITEM_TABLE_FILE}: no tensor "${ITEM_TABLE_TENSOR}"`);
  const engine = new InferenceEngine({ config, weights, itemTable: table }, kernels);
  const catalogue = new Catalogue(files.items as ItemEntry[], config.model.numItems);
  return { engine, catalogue, config };
}
