/** `fmrlrec train`: train one model, evaluate every size, write the run folder. */
import * as path from 'node:path';
import { doublingLadder } from '../model/config';
import { defaultFeatures, DEFAULT_MODEL, DEFAULT_NEGATIVES, DEFAULT_TRAIN } from '../run/defaults';
import { trainRun } from '../run/execute';
import type { FeatureConfig, RunConfig } from '../run/run-config';
import { futureTargetCount, historyNegativesWeight, TRAIN_LOSSES, type TrainConfig, type TrainLoss } from '../train/trainer';
import { MAX_FUTURE_TARGETS } from '../model/future-targets';
import { UserError } from '../util/errors';
import { intListFlag, numberFlag, OptionSpec, parseCommandArgs, requireString } from './args';
import { CliContext, printReport } from './context';
import { textModelName } from './features';
import { COUNT_PRIOR_FLAGS_HELP, COUNT_PRIOR_OPTIONS, parseCountPriorFlags } from './fit-counts';

/** `fmrlrec train --help`. */
export const TRAIN_HELP = `Usage: fmrlrec train --data <dir> --out <run> [options]

Trains one fMRLRec model on a dataset in the P5 layout (sequential_data.txt,
datamaps.json, optional item_meta.json), keeps the best epoch by validation
NDCG@10 of the largest size, fits the count prior on validation (--counts),
then evaluates every size on the test split and writes <run>/metrics.json
and <run>/metrics.md.

Data and features:
  --data <dir>            dataset folder (P5 layout)                    (required)
  --out <dir>             run folder to create                          (required)
  --name <name>           dataset name in reports (default: folder name)
  --features <f>          joined by +: text (encoded item text), attr (learned
                          brand and category vectors), words (learned title-word
                          vectors), id (learned item-ID embedding)
                                                  (default text+attr+words+id)
  --text-encoder <m>      sentence encoder for item text: use (built in), or a
                          Hugging Face hub id / local folder (see "fmrlrec features")
                                                                 (default use)
  --image-model <m>       also image features from this encoder (hub id / folder):
                          item features become [text ; image] (docs/method.md §3)
  --images <dir>          item images named <asin>.jpg|.png|.webp (with --image-model;
                          else the metadata's URLs when FMRLREC_HF_DOWNLOAD=1)
  --cache-dir <dir>       feature cache (default $FMRLREC_CACHE_DIR or ~/.cache/fmrlrec)
Model:
  --width <D>             model width; sizes 8, 16, ..., D        (default ${DEFAULT_MODEL.dims[DEFAULT_MODEL.dims.length - 1]})
  --dims <list>           explicit ladder, e.g. 8,16,32,64 (overrides --width)
  --blocks <n>            LRU blocks                                  (default ${DEFAULT_MODEL.numBlocks})
  --dropout <p>           dropout at every site                     (default ${DEFAULT_MODEL.dropout})
  --r-min <r>, --r-max <r>
                          the LRU's eigenvalues start with moduli in [r-min, r-max]:
                          near 0 the recurrence forgets at once, near 1 it
                          remembers long histories          (default ${DEFAULT_MODEL.rMin}, ${DEFAULT_MODEL.rMax})
  --size-weights <list>   weight of each size's loss, one per size of the ladder,
                          e.g. 4,2,1,1,1,1                          (default 1 each: the mean)
Training:
  --epochs <n>            planned epochs (schedule length, limit)   (default ${DEFAULT_TRAIN.epochs})
  --batch-size <n>        users per batch                           (default ${DEFAULT_TRAIN.batchSize})
  --lr <x>                peak learning rate                        (default ${DEFAULT_TRAIN.lr})
  --weight-decay <x>      AdamW decoupled decay                     (default ${DEFAULT_TRAIN.weightDecay})
  --embedding-lr-scale <x>
                          learning rate of the learned embedding tables (item
                          IDs, attribute and title-word vectors) as a multiple
                          of --lr                                   (default ${DEFAULT_TRAIN.embeddingLrScale ?? 1})
  --history-negatives <w> weight of a second softmax per target over the target
                          and the items its sequence has read (full softmax
                          only; docs/method.md §5.9)                  (default 0: off)
  --future-targets <J>    each target spreads over the next J items of its
                          sequence, weights halving (full softmax only;
                          docs/method.md §5.10)                       (default 1: off)
  --adam-eps <x>          AdamW's epsilon, added to the root of the second
                          moment                                    (default ${DEFAULT_TRAIN.adamEps})
  --warmup <steps>        linear warm-up steps                      (default ${DEFAULT_TRAIN.warmupSteps})
  --patience <n>          early stop after n epochs without gain    (default ${DEFAULT_TRAIN.patience})
  --max-len <L>           input window                              (default ${DEFAULT_TRAIN.maxLen})
  --loss <l>              softmax (over every item) or sampled (over K negatives
                          per batch, log-Q corrected: a scoring cost that does
                          not grow with the catalogue; docs/method.md §5.8)
                                                            (default softmax)
  --negatives <K>         negatives per batch with --loss sampled   (default ${DEFAULT_NEGATIVES})
  --sampling-power <a>    negatives drawn ∝ (times an item is a training
                          target + 1)^a: 1 by frequency, 0 uniform  (default 1)
  --seed <n>              random seed                               (default ${DEFAULT_TRAIN.seed})
  --time-limit <minutes>  stop after the epoch that passes this much training time
  --resume                continue the run in --out after an interruption
Count prior:
${COUNT_PRIOR_FLAGS_HELP}
Machine:
  --threads <n>           kernel threads (default: all cores)
  --no-progress           no progress bars
`;

const OPTIONS: OptionSpec = {
  data: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  features: { type: 'string' },
  'text-encoder': { type: 'string' },
  'cache-dir': { type: 'string' },
  'image-model': { type: 'string' },
  images: { type: 'string' },
  width: { type: 'string' },
  dims: { type: 'string' },
  blocks: { type: 'string' },
  dropout: { type: 'string' },
  'r-min': { type: 'string' },
  'r-max': { type: 'string' },
  'size-weights': { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  'embedding-lr-scale': { type: 'string' },
  'history-negatives': { type: 'string' },
  'future-targets': { type: 'string' },
  'adam-eps': { type: 'string' },
  warmup: { type: 'string' },
  patience: { type: 'string' },
  'max-len': { type: 'string' },
  seed: { type: 'string' },
  loss: { type: 'string' },
  negatives: { type: 'string' },
  'sampling-power': { type: 'string' },
  'time-limit': { type: 'string' },
  resume: { type: 'boolean' },
  ...COUNT_PRIOR_OPTIONS,
  threads: { type: 'string' },
  'no-progress': { type: 'boolean' },
};

/** The parts --features may combine with "+". */
const FEATURE_PARTS = ['text', 'attr', 'words', 'id'] as const;

/**
 * Parse --features, "+"-joined parts among text, attr, words and id (e.g. text+id,
 * text+attr+id, id), plus an optional image encoder and image folder.
 * @param cacheDir the feature cache (default: the library's, ~/.cache/fmrlrec)
 */
export function parseFeatures(
  value: string | undefined,
  textEncoder: string | undefined,
  cacheDir: string | undefined,
  image: { model?: string; folder?: string } = {},
): FeatureConfig {
  const base = defaultFeatures();
  const parts = value === undefined ? null : value.split('+');
  if (parts && (parts.some((p) => !(FEATURE_PARTS as readonly string[]).includes(p)) || new Set(parts).size !== parts.length)) {
    throw new UserError(`--features takes ${FEATURE_PARTS.join(', ')} joined by "+", each at most once, e.g. text+attr+id (got "${value}")`);
  }
  const choice =
    parts === null
      ? { text: base.text !== null, attributes: base.attributes === true, titleWords: base.titleWords === true, itemIds: base.itemIds }
      : { text: parts.includes('text'), attributes: parts.includes('attr'), titleWords: parts.includes('words'), itemIds: parts.includes('id') };
  if (image.folder !== undefined && image.model === undefined) throw new UserError('--images needs --image-model (the encoder for the images)');
  const encoder = textEncoder ?? base.text;
  const features: FeatureConfig = {
    text: choice.text && encoder ? textModelName(encoder) : null,
    itemIds: choice.itemIds,
    cacheDir: cacheDir ?? base.cacheDir,
  };
  if (choice.attributes) features.attributes = true;
  if (choice.titleWords) features.titleWords = true;
  if (image.model !== undefined) {
    features.image = image.model;
    features.images = image.folder === undefined ? null : path.resolve(image.folder);
  }
  return features;
}

/**
 * The loss settings of --loss, --negatives and --sampling-power: nothing for
 * full softmax (the run.json of a softmax run reads as before the option
 * existed), else the loss, K and α.
 * @throws UserError for an unknown loss, or --negatives or --sampling-power without --loss sampled
 */
export function parseLoss(values: Record<string, unknown>): Pick<TrainConfig, 'loss' | 'negatives' | 'samplingPower'> {
  const loss = (values.loss as string | undefined) ?? 'softmax';
  if (!(TRAIN_LOSSES as readonly string[]).includes(loss)) throw new UserError(`--loss takes ${TRAIN_LOSSES.join(' or ')} (got "${loss}")`);
  if (loss === 'softmax') {
    for (const flag of ['negatives', 'sampling-power']) {
      if (values[flag] !== undefined) throw new UserError(`--${flag} applies to --loss sampled only`);
    }
    return {};
  }
  return {
    loss: loss as TrainLoss,
    negatives: numberFlag(values, 'negatives', DEFAULT_NEGATIVES, { min: 1, integer: true }),
    samplingPower: numberFlag(values, 'sampling-power', 1, { min: 0 }),
  };
}

/**
 * --embedding-lr-scale: the multiple, left out of run.json when it is 1 (so
 * the run.json reads as before the option existed).
 */
function embeddingLrScaleFlag(values: Record<string, unknown>): Pick<TrainConfig, 'embeddingLrScale'> {
  const fallback = DEFAULT_TRAIN.embeddingLrScale ?? 1;
  const scale = numberFlag(values, 'embedding-lr-scale', fallback, { min: 0 });
  return { embeddingLrScale: scale === 1 ? undefined : scale };
}

/** --history-negatives: the weight, left out of run.json when 0 (off). */
function historyNegativesFlag(values: Record<string, unknown>): Pick<TrainConfig, 'historyNegatives'> {
  const weight = numberFlag(values, 'history-negatives', 0, { min: 0 });
  return { historyNegatives: weight === 0 ? undefined : weight };
}

/** --future-targets: J, left out of run.json when 1 (off). */
function futureTargetsFlag(values: Record<string, unknown>): Pick<TrainConfig, 'futureTargets'> {
  const future = numberFlag(values, 'future-targets', 1, { min: 1, max: MAX_FUTURE_TARGETS, integer: true });
  return { futureTargets: future === 1 ? undefined : future };
}

/**
 * --r-min and --r-max, the range of the LRU eigenvalues' moduli at initialisation.
 * @throws UserError unless 0 ≤ r-min < r-max < 1
 */
function lruRadiusFlags(values: Record<string, unknown>): Pick<RunConfig['model'], 'rMin' | 'rMax'> {
  const rMin = numberFlag(values, 'r-min', DEFAULT_MODEL.rMin, { min: 0, max: 0.999 });
  const rMax = numberFlag(values, 'r-max', DEFAULT_MODEL.rMax, { min: 0, max: 0.999 });
  if (rMin >= rMax) throw new UserError(`--r-min must be below --r-max (got ${rMin} and ${rMax})`);
  return { rMin, rMax };
}

/** Run `fmrlrec train`. */
export async function trainCommand(argv: string[], ctx: CliContext): Promise<number> {
  const v = parseCommandArgs('train', argv, OPTIONS);
  if (v.help) {
    ctx.out(TRAIN_HELP);
    return 0;
  }
  const out = requireString(v, 'out', 'train');
  const resume = Boolean(v.resume);
  const dataDir = resume && v.data === undefined ? '' : requireString(v, 'data', 'train');
  const width = numberFlag(v, 'width', DEFAULT_MODEL.dims[DEFAULT_MODEL.dims.length - 1], { min: 8, integer: true });
  const dims = intListFlag(v, 'dims') ?? doublingLadder(width);
  const sizeWeights = sizeWeightsFlag(v, dims);
  const config: RunConfig = {
    version: 1,
    dataset: { kind: 'p5', path: path.resolve(dataDir), name: (v.name as string | undefined) ?? path.basename(path.resolve(dataDir)) },
    features: parseFeatures(
      v.features as string | undefined,
      v['text-encoder'] as string | undefined,
      (v['cache-dir'] as string | undefined) ?? ctx.env.cacheDir,
      { model: v['image-model'] as string | undefined, folder: v.images as string | undefined },
    ),
    model: {
      ...DEFAULT_MODEL,
      dims,
      numBlocks: numberFlag(v, 'blocks', DEFAULT_MODEL.numBlocks, { min: 1, integer: true }),
      dropout: numberFlag(v, 'dropout', DEFAULT_MODEL.dropout, { min: 0, max: 0.95 }),
      ...lruRadiusFlags(v),
      ...(sizeWeights ? { sizeWeights } : {}),
    },
    train: {
      ...DEFAULT_TRAIN,
      epochs: numberFlag(v, 'epochs', DEFAULT_TRAIN.epochs, { min: 1, integer: true }),
      batchSize: numberFlag(v, 'batch-size', DEFAULT_TRAIN.batchSize, { min: 1, integer: true }),
      lr: numberFlag(v, 'lr', DEFAULT_TRAIN.lr, { min: 0 }),
      weightDecay: numberFlag(v, 'weight-decay', DEFAULT_TRAIN.weightDecay, { min: 0 }),
      ...embeddingLrScaleFlag(v),
      ...historyNegativesFlag(v),
      ...futureTargetsFlag(v),
      adamEps: numberFlag(v, 'adam-eps', DEFAULT_TRAIN.adamEps, { min: 0 }),
      warmupSteps: numberFlag(v, 'warmup', DEFAULT_TRAIN.warmupSteps, { min: 0, integer: true }),
      patience: numberFlag(v, 'patience', DEFAULT_TRAIN.patience, { min: 1, integer: true }),
      maxLen: numberFlag(v, 'max-len', DEFAULT_TRAIN.maxLen, { min: 1, integer: true }),
      seed: numberFlag(v, 'seed', DEFAULT_TRAIN.seed, { min: 0, integer: true }),
      ...parseLoss(v),
    },
    countPrior: parseCountPriorFlags(v),
  };
  const timeLimit = v['time-limit'] === undefined ? undefined : numberFlag(v, 'time-limit', 0, { min: 0 }) * 60;
  // Before the features are encoded: either option with --loss sampled is a mistake.
  historyNegativesWeight(config.train);
  futureTargetCount(config.train);
  ctx.configureKernels(v.threads as string | undefined);
  const report = await trainRun(config, out, { ...ctx.jobOptions(!v['no-progress']), resume, timeLimitSeconds: timeLimit, command: ctx.command });
  printReport(ctx, report, out);
  return 0;
}

/** --size-weights: one non-negative number per size of the ladder, not all 0. */
function sizeWeightsFlag(values: Record<string, unknown>, dims: readonly number[]): number[] | undefined {
  const v = values['size-weights'];
  if (v === undefined) return undefined;
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  const weights = parts.map(Number);
  if (parts.some((p) => p === '') || weights.some((w) => !Number.isFinite(w) || w < 0) || !weights.some((w) => w > 0)) {
    throw new UserError(`--size-weights must be a comma-separated list of numbers >= 0, not all 0 (got "${String(v)}")`);
  }
  if (weights.length !== dims.length) {
    throw new UserError(`--size-weights has ${weights.length} weights; the ladder ${dims.join(',')} has ${dims.length} sizes: give one per size`);
  }
  return weights;
}
