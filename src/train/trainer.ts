/**
 * The training loop (docs/method.md §5): loss over every size, AdamW, warm-up + cosine,
 * gradient clipping, dropout, validation NDCG@10 of the largest size after each
 * epoch, early stopping, best checkpoint kept, resumable after a kill.
 *
 * Determinism: epoch e shuffles users and draws dropout masks (and the sampled
 * loss's negatives) from seeds derived from (seed, e), so a resumed run continues exactly as an uninterrupted one
 * (for a fixed kernel thread count).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainingBatches } from '../data/batches';
import type { Split } from '../data/types';
import { evaluate, type EvalOptions, type MetricsBySize } from '../eval/evaluate';
import type { FmrlRec } from '../model/fmrlrec';
import { EMBEDDING_TABLES } from '../model/layers/item-table';
import { MAX_FUTURE_TARGETS } from '../model/future-targets';
import { UserError } from '../util/errors';
import { formatDuration, ProgressBar } from '../util/progress';
import { deriveSeed, Rng } from '../util/rng';
import { AdamW, clipGradNorm, type DecayRange } from './adamw';
import { EpochRecord, loadParams, loadTrainingCheckpoint, saveParams, saveTrainingCheckpoint, TrainState } from './checkpoint';
import { NegativeSampler } from './negative-sampler';
import { warmupCosine } from './schedule';

/** The training settings of a run (the recipe's "train" part). */
export interface TrainConfig {
  /** Planned epochs: the length of the cosine schedule and the epoch limit. */
  epochs: number;
  /** Users per batch. */
  batchSize: number;
  /** Peak learning rate (after warm-up, before the cosine decay). */
  lr: number;
  /** AdamW's decoupled weight decay. */
  weightDecay: number;
  /** AdamW's first-moment decay. */
  beta1: number;
  /** AdamW's second-moment decay. */
  beta2: number;
  /** AdamW's epsilon. */
  adamEps: number;
  /** Steps of linear warm-up. */
  warmupSteps: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  /** Stop after this many epochs without a better validation NDCG@10. */
  patience: number;
  /** Input window L. */
  maxLen: number;
  /** Users per evaluation batch. */
  evalBatchSize: number;
  /** Seed of initialisation, shuffling, dropout and negatives. */
  seed: number;
  /**
   * The training loss (docs/method.md §5.2, §5.8); absent means 'softmax'
   * (run folders made before the option existed).
   */
  loss?: TrainLoss;
  /** K, the negatives each batch draws; required by loss 'sampled', unused by 'softmax'. */
  negatives?: number;
  /**
   * α of the negatives' distribution Q ∝ (training-target count + 1)^α under
   * loss 'sampled': 1 (absent) follows the training frequency, 0 is uniform.
   */
  samplingPower?: number;
  /**
   * The learning rate of the learned embedding tables (item IDs, brand/category
   * and title-word vectors) as a multiple of `lr`; absent means 1.
   */
  embeddingLrScale?: number;
  /**
   * Weight of the history-negatives term (docs/method.md §5.9: the target
   * against the items its sequence has read, full softmax only); absent means 0, off.
   */
  historyNegatives?: number;
  /**
   * J: each target spreads over the next J items of its sequence, weights
   * halving (docs/method.md §5.10, full softmax only); absent means 1, off.
   */
  futureTargets?: number;
}

/**
 * 'softmax': cross-entropy over every item of the catalogue; 'sampled':
 * sampled softmax over K negatives shared by the batch, with the log-Q
 * correction, whose step cost does not grow with the catalogue.
 */
export type TrainLoss = 'softmax' | 'sampled';

/** The losses {@link TrainConfig.loss} takes. */
export const TRAIN_LOSSES: readonly TrainLoss[] = ['softmax', 'sampled'];

/** The authors' reference training settings (docs/method.md §5). */
export const REFERENCE_TRAIN_CONFIG: TrainConfig = {
  epochs: 500,
  batchSize: 32,
  lr: 1e-4,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  adamEps: 1e-9,
  warmupSteps: 100,
  clipNorm: 5,
  patience: 10,
  maxLen: 50,
  evalBatchSize: 512,
  seed: 42,
};

/** One finished epoch, as {@link TrainOptions.onEpoch} reports it. */
export interface EpochReport extends EpochRecord {
  /** Validation metrics of every size. */
  valid: MetricsBySize;
  /** Whether this epoch is the best so far (its parameters are kept). */
  best: boolean;
}

/** How {@link trainModel} runs; every field is optional. */
export interface TrainOptions {
  /**
   * Run folder for checkpoint.safetensors, best.safetensors and
   * train-log.jsonl. Without one, training stays in memory: nothing is
   * written and the best epoch's parameters are kept as a copy.
   */
  runDir?: string;
  /** Continue from runDir/checkpoint.safetensors when it exists (needs runDir; default false). */
  resume?: boolean;
  /** Draw progress bars on stderr (default false). */
  progress?: boolean;
  /** Stop (after the current epoch) once this much training time has passed. */
  timeLimitSeconds?: number;
  /** Where one-line epoch summaries go (default: nowhere). */
  log?: (line: string) => void;
  /** Called after each epoch's validation. */
  onEpoch?: (epoch: EpochReport) => void;
}

/** The training checkpoint in a run folder (parameters, optimizer moments, trainer state). */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** The parameters of the best epoch in a run folder. */
export const BEST_FILE = 'best.safetensors';
/** One JSON line per epoch in a run folder. */
export const TRAIN_LOG_FILE = 'train-log.jsonl';

/** The evaluation settings a training configuration implies (batch size and window), with overrides. */
export function evalOptions(config: TrainConfig, options: { progress?: boolean; excludeHistory?: boolean } = {}): EvalOptions {
  return { batchSize: config.evalBatchSize, maxLen: config.maxLen, excludeHistory: options.excludeHistory ?? false, progress: options.progress ?? false };
}

/** What {@link trainModel} ends with. */
export interface TrainResult {
  state: TrainState;
  /** Validation metrics of the best epoch. */
  bestValid: MetricsBySize | null;
}

/**
 * The negative sampler of a configuration's loss: null for full softmax.
 * @throws UserError when the loss is unknown, or loss 'sampled' has no whole number of negatives ≥ 1 or a sampling power < 0
 */
export function negativeSampler(config: TrainConfig, split: Split, numItems: number): { sampler: NegativeSampler; negatives: number } | null {
  const loss = config.loss ?? 'softmax';
  if (!TRAIN_LOSSES.includes(loss)) throw new UserError(`unknown training loss "${String(loss)}" (one of ${TRAIN_LOSSES.join(', ')})`);
  if (loss === 'softmax') return null;
  const negatives = config.negatives;
  if (negatives === undefined || !Number.isInteger(negatives) || negatives < 1) {
    throw new UserError(`the sampled loss needs a whole number of negatives ≥ 1 (got ${String(negatives)})`);
  }
  const power = config.samplingPower ?? 1;
  if (!(typeof power === 'number' && Number.isFinite(power) && power >= 0)) {
    throw new UserError(`the sampled loss's sampling power must be a number ≥ 0 (got ${String(power)})`);
  }
  return { sampler: NegativeSampler.fromTraining(split.train, numItems, config.maxLen, power), negatives };
}

/**
 * The weight of the history-negatives term (0 when off).
 * @throws UserError when it is not a number ≥ 0, or is on with the sampled loss
 */
export function historyNegativesWeight(config: TrainConfig): number {
  const weight = config.historyNegatives ?? 0;
  if (!(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0)) {
    throw new UserError(`the history-negatives weight must be a number ≥ 0 (got ${String(weight)})`);
  }
  if (weight > 0 && (config.loss ?? 'softmax') !== 'softmax') throw new UserError('history negatives work with the full softmax only (--loss softmax)');
  return weight;
}

/**
 * J of future targets (1 when off).
 * @throws UserError when it is not a whole number in 1..MAX_FUTURE_TARGETS, or is above 1 with the sampled loss
 */
export function futureTargetCount(config: TrainConfig): number {
  const future = config.futureTargets ?? 1;
  if (!(Number.isInteger(future) && future >= 1 && future <= MAX_FUTURE_TARGETS)) {
    throw new UserError(`future targets must be a whole number from 1 to ${MAX_FUTURE_TARGETS} (got ${String(future)})`);
  }
  if (future > 1 && (config.loss ?? 'softmax') !== 'softmax') throw new UserError('future targets work with the full softmax only (--loss softmax)');
  return future;
}

/** The optimiser's ranges: every parameter, the embedding tables at `embeddingLrScale` times the rate. */
function optimizerRanges(model: FmrlRec, config: TrainConfig): DecayRange[] {
  const scale = config.embeddingLrScale ?? 1;
  return model.params.specs.map((spec) => (EMBEDDING_TABLES.includes(spec.name) && scale !== 1 ? { ...spec, lrScale: scale } : spec));
}

/**
 * Train until early stop, the epoch limit or the time limit. Leaves the best
 * parameters in the model.
 * @throws UserError when asked to resume without a run folder, the checkpoint does not fit the model, or the loss settings are wrong
 */
export function trainModel(model: FmrlRec, split: Split, config: TrainConfig, options: TrainOptions = {}): TrainResult {
  const { runDir } = options;
  const sampled = negativeSampler(config, split, model.config.numItems);
  const historyWeight = historyNegativesWeight(config);
  const future = futureTargetCount(config);
  const log = options.log ?? (() => {});
  if (options.resume && runDir === undefined) throw new UserError('resuming needs the run folder (runDir) that holds the checkpoint');
  if (runDir !== undefined) fs.mkdirSync(runDir, { recursive: true });
  const checkpointFile = runDir === undefined ? null : path.join(runDir, CHECKPOINT_FILE);
  const bestFile = runDir === undefined ? null : path.join(runDir, BEST_FILE);
  let bestValues: Float32Array | null = null;
  const optimizer = new AdamW(
    model.params.length,
    optimizerRanges(model, config),
    {
      beta1: config.beta1,
      beta2: config.beta2,
      eps: config.adamEps,
      weightDecay: config.weightDecay,
    },
    model.kern,
  );
  let state: TrainState = { epoch: 0, step: 0, bestEpoch: 0, bestScore: -1, badEpochs: 0, trainSeconds: 0, history: [] };
  if (options.resume && checkpointFile !== null && fs.existsSync(checkpointFile)) {
    state = loadTrainingCheckpoint(checkpointFile, model, optimizer);
    log(`resuming after epoch ${state.epoch} (best NDCG@10 ${state.bestScore.toFixed(4)} at epoch ${state.bestEpoch})`);
  }
  const numUsers = split.train.length;
  const stepsPerEpoch = Math.ceil(numUsers / config.batchSize);
  const totalSteps = config.epochs * stepsPerEpoch;
  const largest = String(model.width);
  let bestValid: MetricsBySize | null = null;

  while (state.epoch < config.epochs && state.badEpochs < config.patience) {
    if (options.timeLimitSeconds !== undefined && state.trainSeconds >= options.timeLimitSeconds) {
      log(`time limit of ${formatDuration(options.timeLimitSeconds)} reached`);
      break;
    }
    const epoch = state.epoch + 1;
    const started = Date.now();
    const batches = trainingBatches(split, { batchSize: config.batchSize, maxLen: config.maxLen, rng: new Rng(deriveSeed(config.seed, epoch, 1)) });
    const dropoutRng = new Rng(deriveSeed(config.seed, epoch, 2));
    const negativeRng = new Rng(deriveSeed(config.seed, epoch, 3));
    const positions = batches.reduce((s, b) => s + b.offsets[b.size], 0);
    const bar = options.progress ? new ProgressBar(`epoch ${epoch}`, positions, 'pos') : null;
    let lossSum = 0;
    let targetSum = 0;
    for (const batch of batches) {
      model.params.zeroGrads();
      const result = model.lossAndGradients(batch, dropoutRng, {
        negatives: sampled ? sampled.sampler.draw(sampled.negatives, negativeRng) : null,
        historyWeight,
        futureTargets: future,
      });
      clipGradNorm(model.params.grads, config.clipNorm);
      optimizer.update(model.params.values, model.params.grads, warmupCosine(state.step, config.lr, config.warmupSteps, totalSteps));
      state.step++;
      lossSum += result.loss * result.targets;
      targetSum += result.targets;
      bar?.tick(batch.offsets[batch.size], `loss ${(lossSum / Math.max(1, targetSum)).toFixed(4)}`);
    }
    bar?.finish(`loss ${(lossSum / Math.max(1, targetSum)).toFixed(4)}`);
    const valid = evaluate(model, split, 'valid', evalOptions(config));
    const score = valid[largest]['NDCG@10'];
    const seconds = (Date.now() - started) / 1000;
    state.epoch = epoch;
    state.trainSeconds += seconds;
    const loss = lossSum / Math.max(1, targetSum);
    const record: EpochRecord = { epoch, loss, validNdcg10: score, seconds };
    state.history.push(record);
    const best = score > state.bestScore;
    if (best) {
      state.bestScore = score;
      state.bestEpoch = epoch;
      state.badEpochs = 0;
      bestValid = valid;
      if (bestFile !== null) saveParams(bestFile, model, { epoch: String(epoch), valid: JSON.stringify(valid) });
      else bestValues = model.params.values.slice();
    } else {
      state.badEpochs++;
    }
    if (runDir !== undefined && checkpointFile !== null) {
      saveTrainingCheckpoint(checkpointFile, model, optimizer, state);
      fs.appendFileSync(path.join(runDir, TRAIN_LOG_FILE), JSON.stringify({ epoch, loss, seconds, valid }) + '\n');
    }
    log(
      `epoch ${epoch}: ${sampled ? 'sampled loss' : 'loss'} ${loss.toFixed(4)}, valid NDCG@10 (size ${largest}) ${score.toFixed(4)}, ` +
        `${seconds.toFixed(1)}s, ${(positions / seconds).toFixed(0)} pos/s${best ? ' *best*' : ''}`,
    );
    options.onEpoch?.({ ...record, valid, best });
  }
  if (state.badEpochs >= config.patience) log(`early stop: no improvement for ${config.patience} epochs; best epoch ${state.bestEpoch}`);
  if (bestValues !== null) {
    model.params.values.set(bestValues);
  } else if (state.bestEpoch > 0 && bestFile !== null) {
    const metadata = loadParams(bestFile, model);
    bestValid ??= JSON.parse(metadata.valid) as MetricsBySize;
  }
  return { state, bestValid };
}
