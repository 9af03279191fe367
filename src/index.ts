/**
 * fmrlrec — fMRLRec (Matryoshka multimodal sequential recommendation) for
 * Node.js: train one model, slice out and deploy any size.
 *
 * The library surface, by layer (each folder has its own index or entry file):
 * data, features, kernels, model, training, evaluation, run folders.
 */
export * from './data';
export * from './features';
export { getKernels } from './kernels';
export type { Kernels } from './kernels/types';
export { type ModelConfig, doublingLadder, chunkBounds, modelWidth } from './model/config';
export { FmrlRec, type BatchLoss } from './model/fmrlrec';
export { sliceModel, parameterCount } from './model/slice';
export { ParamStore, type ParamSpec } from './model/params';
export { AdamW, clipGradNorm, type AdamWConfig } from './train/adamw';
export { warmupCosine } from './train/schedule';
export { trainModel, REFERENCE_TRAIN_CONFIG, type TrainConfig, type TrainOptions, type TrainResult } from './train/trainer';
export { saveParams, loadParams, type TrainState } from './train/checkpoint';
export { evaluate, rankTargets, type EvalOptions, type MetricsBySize } from './eval/evaluate';
export { metricsFromRanks, CUTOFFS, type Metrics } from './eval/metrics';
export { metricsTable, type MetricsReport } from './eval/report';
export { prepareRun, loadDataset, type PreparedRun } from './run/prepare';
export { trainRun, evaluateRun } from './run/execute';
export { type RunConfig, type DatasetSource, type FeatureConfig, loadRunConfig } from './run/run-config';
export { DEFAULT_MODEL, DEFAULT_TRAIN } from './run/defaults';
export { UserError, InputFileError } from './util/errors';
export { Rng } from './util/rng';
export { exportSize, exportAllSizes, type ExportSource } from './deploy/export';
export { importTorchRun, exportTorchRun } from './deploy/torch-run';
export { loadTrainedRun, type TrainedRun } from './deploy/trained-run';
export { InferenceEngine, typescriptGemm, type EngineModel, type UserStream, type RankOptions } from './serve/engine';
export { loadModelFolder, type LoadedModel } from './serve/model-folder';
export { RecommendServer, DEFAULT_SERVER_OPTIONS, type ServerOptions } from './serve/http-server';
