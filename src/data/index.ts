/**
 * Datasets: reading (P5 layout, interaction logs), synthetic generation, the
 * leave-one-out split and packed batches.
 */
export type { Dataset, ItemInfo, PackedBatch, Split } from './types';
export { readP5Dataset, writeP5Dataset, P5_FILES } from './p5';
export { readInteractions, readItemsJsonl, buildDataset, INTERACTION_FIELDS, type Interaction, type BuildDatasetOptions } from './generic';
export { kCoreMask } from './kcore';
export {
  readAmazonDataset,
  readAmazonReviews,
  readAmazonMeta,
  amazonFileNames,
  missingRawFilesMessage,
  AMAZON_2014_BASE_URL,
  type AmazonDatasetOptions,
  type AmazonDatasetResult,
  type MalformedLine,
  type MalformedPolicy,
} from './amazon';
export { downloadAmazonRawFiles, missingAmazonRawFiles, type AmazonDownloadOptions } from './amazon-download';
export { ingestAmazon, INGEST_REPORT_FILE, type AmazonIngestOptions, type AmazonIngestResult } from './amazon-ingest';
export { parsePythonLiteral } from './python-literal';
export { leaveOneOut, dropShortUsers, MIN_USER_ITEMS, evalHistory, evalTarget, type EvalTarget } from './split';
export { trainingBatches, evalBatches, historyItems, DEFAULT_MAX_LEN, type TrainingBatchOptions, type EvalBatchOptions, type PackedHistories } from './batches';
export { generateSyntheticDataset, type SyntheticOptions } from './synthetic';
export { datasetStats, type DatasetStats } from './stats';
export { decodeHtmlEntities } from './html-entities';
