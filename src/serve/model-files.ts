/**
 * Build the engine and the catalogue from the contents of an exported size
 * folder (src/deploy/format.ts), however they were read: from disk in Node
 * (./model-folder.ts) or with fetch() in a browser. Browser-safe.
 */
import {
  CONFIG_FILE,
  COUNT_PRIOR_FILE,
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
import { decodeFloat32Safetensors, decodeSafetensors } from '../util/safetensors';
import { COUNT_RULES, type CountPrior, countRule, PackedPairCounts } from '../model/count-prior';

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
  /** Bytes of count_prior.safetensors (needed when config.json has a countPrior). */
  countPrior?: Uint8Array | null;
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
  const countPrior = config.countPrior ? decodeCountPrior(config, files.countPrior, where) : null;
  const engine = new InferenceEngine({ config, weights, itemTable: table, countPrior }, kernels);
  const catalogue = new Catalogue(files.items as ItemEntry[], config.model.numItems);
  return { engine, catalogue, config };
}

/** The count prior of config.json with its pairs decoded from count_prior.safetensors. */
function decodeCountPrior(config: ExportedConfig, bytes: Uint8Array | null | undefined, where: string): CountPrior {
  const settings = config.countPrior!;
  const source = `${where}/${COUNT_PRIOR_FILE}`;
  if (!bytes) throw new UserError(`${source}: file not found (config.json has a count prior)`);
  if (!(COUNT_RULES as readonly string[]).includes(settings.rule)) throw new UserError(`${where}/${CONFIG_FILE}: unknown count prior rule "${settings.rule}"`);
  const reach = { window: settings.window, context: settings.context };
  let rule;
  try {
    rule = countRule(settings.rule, reach);
  } catch (err) {
    throw new UserError(`${where}/${CONFIG_FILE}: count prior ${(err as Error).message}`);
  }
  const { tensors } = decodeSafetensors(bytes, source);
  const { first, second, weight } = tensors;
  if (
    !(first?.data instanceof Int32Array) ||
    !(second?.data instanceof Int32Array) ||
    !weight ||
    weight.data.length !== first.data.length ||
    second.data.length !== first.data.length
  ) {
    throw new UserError(`${source}: expected I32 tensors "first", "second" and a tensor "weight" of one length`);
  }
  if (!(weight.data instanceof Float32Array || weight.data instanceof Float64Array)) throw new UserError(`${source}: the tensor "weight" must be F32 or F64`);
  let counts;
  try {
    counts = PackedPairCounts.fromArrays(rule, first.data, second.data, weight.data);
  } catch (err) {
    throw new UserError(`${source}: ${(err as Error).message} (expected pairs ordered by first, then second item)`);
  }
  return { rule: settings.rule, reach, beta: settings.beta, counts };
}
