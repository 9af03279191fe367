/** The benchmarked training configurations: the paper's, D = 256, the project's default, and a small one. */
import { doublingLadder } from '../src/model/config';
import { DEFAULT_MODEL, DEFAULT_TRAIN, DEFAULT_WIDTH } from '../src/run/defaults';

/** One benchmarked training configuration. */
export interface BenchConfig {
  name: string;
  /** What it is, for the tables. */
  title: string;
  dims: number[];
  batch: number;
  maxLen: number;
  /** Width of the frozen item features (random unit-norm rows). */
  featureDim: number;
  /** Unit-norm blocks the feature row is made of (paper: [1024 text ; 1024 image]). */
  featureBlocks: number[];
  itemIds: boolean;
  dropout: number;
  numBlocks: number;
  /** Where the data comes from: Beauty, or a synthetic catalogue. */
  data: { kind: 'beauty' } | { kind: 'synthetic'; users: number; items: number; length: number };
}

/** The paper's configuration: D = 1024, batch 32, 2048-d features (1024 text + 1024 image). */
export const PAPER: BenchConfig = {
  name: 'paper',
  title: 'paper: D=1024 (8..1024), batch 32, 2048-d features',
  dims: doublingLadder(1024),
  batch: 32,
  maxLen: 50,
  featureDim: 2048,
  featureBlocks: [1024, 1024],
  itemIds: false,
  dropout: 0.6,
  numBlocks: 1,
  data: { kind: 'beauty' },
};

/** The paper's features at D = 256. */
export const D256: BenchConfig = {
  ...PAPER,
  name: 'd256',
  title: 'D=256 (8..256), batch 32, 2048-d features',
  dims: doublingLadder(256),
};

/**
 * The project's default model and batch (src/run/defaults.ts): D = 256, batch 128,
 * 512-d text features (the built-in encoder's width) + item IDs. The default
 * features' brand, category and title-word vectors are left out: the PyTorch
 * mirror this is compared with has none.
 */
export const DEFAULT: BenchConfig = {
  ...PAPER,
  name: 'default',
  title: `default: D=${DEFAULT_WIDTH}, batch ${DEFAULT_TRAIN.batchSize}, 512-d text + item IDs`,
  dims: DEFAULT_MODEL.dims,
  batch: DEFAULT_TRAIN.batchSize,
  featureDim: 512,
  featureBlocks: [512],
  itemIds: true,
  dropout: DEFAULT_MODEL.dropout,
  numBlocks: DEFAULT_MODEL.numBlocks,
};

/** A small configuration for quick runs of the identical-mathematics check while developing. */
export const SMALL: BenchConfig = {
  ...PAPER,
  name: 'small',
  title: 'small: D=64 (8..64), batch 16, 256-d features',
  dims: doublingLadder(64),
  batch: 16,
  featureDim: 256,
  featureBlocks: [128, 128],
};

/** The configurations by name (--configs). */
export const TRAIN_CONFIGS: Record<string, BenchConfig> = { paper: PAPER, d256: D256, default: DEFAULT, small: SMALL };
