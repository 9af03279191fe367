/**
 * fmrlrec — fMRLRec (Matryoshka multimodal sequential recommendation) for
 * Node.js: train one model, slice out and deploy any size.
 *
 * The library surface, by layer: data, features, kernels, model, training,
 * evaluation, run folders, export and the PyTorch interchange, serving.
 * Settings are options; the environment is read in one place only, the kernel
 * loader (src/kernels/index.ts: FMRLREC_KERNELS picks the native build that
 * getKernels() loads once per process, FMRLREC_ADDON the addon's file;
 * loadNativeKernels picks one explicitly). README.md, "Use it as a library", shows train → slice →
 * recommend in a few lines.
 */
export * from './data';
export * from './features';
export { getKernels, loadNativeKernels, availableNativeVariants, referenceKernels, NATIVE_VARIANTS, type NativeVariant } from './kernels';
export type { Kernels } from './kernels/types';
export { type ModelConfig, doublingLadder, chunkBounds, modelWidth } from './model/config';
export { FmrlRec, type BatchLoss } from './model/fmrlrec';
export { sliceModel, parameterCount } from './model/slice';
export {
  PairCounts,
  PackedPairCounts,
  PairCountSource,
  type PairArrays,
  countRule,
  countBonuses,
  COUNT_RULES,
  DEFAULT_REACH,
  type CountPrior,
  type CountRule,
  type NeighbourRule,
  type NeighbourReach,
} from './model/count-prior';
export { ParamStore, type ParamSpec } from './model/params';
export { AdamW, clipGradNorm, type AdamWConfig } from './train/adamw';
export { warmupCosine } from './train/schedule';
export {
  trainModel,
  evalOptions,
  REFERENCE_TRAIN_CONFIG,
  CHECKPOINT_FILE,
  BEST_FILE,
  TRAIN_LOG_FILE,
  type TrainConfig,
  type TrainOptions,
  type TrainResult,
  type EpochReport,
} from './train/trainer';
export { saveParams, loadParams, paramTensors, type TrainState, type EpochRecord } from './train/checkpoint';
export { evaluate, rankTargets, type EvalOptions, type MetricsBySize } from './eval/evaluate';
export { metricsFromRanks, CUTOFFS, type Metrics } from './eval/metrics';
export { evaluateBaselines, BASELINES, type Baseline, type BaselineReport } from './eval/baselines';
export { fitCountPrior, evaluateWithCountPrior, BETA_GRID, type CountPriorFit, type CountPriorSettings } from './eval/count-prior-fit';
export { metricsTable, readMetricsReport, type MetricsReport } from './eval/report';
export { prepareRun, loadDataset, loadSplitDataset, type PrepareOptions, type PreparedRun } from './run/prepare';
export {
  trainRun,
  evaluateRun,
  fitRunCountPrior,
  type FitRunCountPriorOptions,
  type JobOptions,
  type TrainRunOptions,
  type EvaluateRunOptions,
  type EvaluateRunResult,
} from './run/execute';
export { loadTrainedRun, readCountPrior, RUN_COUNT_PRIOR_FILE, type LoadTrainedRunOptions, type TrainedRun } from './run/trained-run';
export {
  type RunConfig,
  type DatasetSource,
  type FeatureConfig,
  type ModelSettings,
  type CountPriorRecipe,
  loadRunConfig,
  saveRunConfig,
  featureLabel,
  RUN_CONFIG_FILE,
} from './run/run-config';
export { DEFAULT_MODEL, DEFAULT_TRAIN, DEFAULT_WIDTH, DEFAULT_CACHE_DIR, DEFAULT_COUNT_PRIOR, defaultFeatures } from './run/defaults';
export { UserError, InputFileError, type UserErrorCode } from './util/errors';
export { Rng } from './util/rng';
export { encodeSafetensors, decodeSafetensors, type Tensor, type Float32Tensor } from './util/safetensors';
export { readSafetensors, writeSafetensors } from './util/safetensors-file';
export {
  exportSize,
  exportAllSizes,
  exportSourceOf,
  servingModel,
  deployedCountPrior,
  type ExportSource,
  type ExportOptions,
  type ServingSource,
} from './deploy/export';
export type { ExportedConfig, ExportedCountPrior, ItemEntry, ItemRecipe, SizeManifest, ExportIndex } from './deploy/format';
export { addItemsToModelFolder, type AddedToFolder } from './deploy/add-items';
export {
  ItemVectorBuilder,
  loadItemVectorBuilder,
  parseItemToAdd,
  itemRecipeOf,
  type ItemToAdd,
  type NewItemVectors,
  type RecipeEncoderOptions,
} from './deploy/new-items';
export { importTorchRun, exportTorchRun, type ImportTorchOptions, type ImportSummary } from './deploy/torch-run';
export { InferenceEngine, typescriptGemm, type EngineModel, type EngineKernels, type UserStream, type RankOptions } from './serve/engine';
export { Catalogue, type ItemRef } from './serve/catalogue';
export { funnelRank, type FunnelOptions } from './serve/funnel';
export { type RankedItem } from './serve/top-k';
export {
  recommend,
  recommendBatch,
  parseRecommendRequest,
  RequestError,
  type RecommendRequest,
  type RecommendResponse,
  type RecommendedItem,
} from './serve/recommender';
export { engineFromFiles, type ModelFiles, type LoadedEngine } from './serve/model-files';
export { loadModelFolder, type LoadedModel } from './serve/model-folder';
export { RecommendServer, DEFAULT_SERVER_OPTIONS, type ServerOptions } from './serve/http-server';
