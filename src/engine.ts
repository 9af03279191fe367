/**
 * `fmrlrec/engine`: the browser-safe part of fmrlrec — the inference engine of
 * an exported model, and what it takes to build one from the folder's files
 * however they were read (fetch() in a page, disk in Node). It imports no
 * Node module and no native code, so any bundler packs it for browsers
 * (web/ is the demo). The main entry `fmrlrec` adds, for Node, reading a
 * model folder from disk (loadModelFolder), native kernels and the HTTP service.
 *
 * @example
 *   import { engineFromFiles, CONFIG_FILE } from 'fmrlrec/engine';
 *   const { engine, catalogue } = engineFromFiles({ config, items, weights, itemTable }, url);
 *   const user = engine.userVector(history, 64);
 *   engine.rank(user, 64, { k: 10, exclude: history, history }); // history: the count prior's bonuses
 */
export {
  InferenceEngine,
  typescriptGemm,
  TYPESCRIPT_ENGINE_KERNELS,
  type EngineKernels,
  type EngineModel,
  type Gemm,
  type RankOptions,
  type TopItems,
  type UserStream,
} from './serve/engine';
export { engineFromFiles, type LoadedEngine, type ModelFiles } from './serve/model-files';
export { Catalogue, type ItemRef, type Resolved } from './serve/catalogue';
export { funnelRank, type FunnelOptions } from './serve/funnel';
export { topK, type RankedItem } from './serve/top-k';
export {
  COUNT_RULES,
  PairCounts,
  PackedPairCounts,
  PairCountSource,
  type PairArrays,
  countBonuses,
  type CountPrior,
  type CountRule,
  type NeighbourRule,
  type NeighbourReach,
} from './model/count-prior';
export {
  CONFIG_FILE,
  COUNT_PRIOR_FILE,
  INDEX_FILE,
  ITEM_TABLE_FILE,
  ITEMS_FILE,
  MANIFEST_FILE,
  WEIGHTS_FILE,
  type ExportedConfig,
  type ExportedCountPrior,
  type ExportIndex,
  type ItemEntry,
  type SizeManifest,
} from './deploy/format';
export { UserError } from './util/errors';
