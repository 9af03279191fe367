/**
 * The training loop (docs/method.md §5): loss over every size, AdamW, warm-up + cosine,
 * gradient clipping, dropout, validation NDCG@10 of the largest size after each
 * epoch, early stopping, best checkpoint kept, resumable after a kill.
 *
 * Determinism: epoch e shuffles users and draws dropout masks from seeds derived
 * from (seed, e), so a resumed run continues exactly as an uninterrupted one
 * (for a fixed kernel thread count).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { trainingBatches } from '../data/batches';
import type { Split } from '../data/types';
import { evaluate, MetricsBySize } from '../eval/evaluate';
import type { FmrlRec } from '../model/fmrlrec';
import { formatDuration, ProgressBar } from '../util/progress';
import { deriveSeed, Rng } from '../util/rng';
import { AdamW, clipGradNorm } from './adamw';
import { loadParams, loadTrainingCheckpoint, saveParams, saveTrainingCheckpoint, TrainState } from './checkpoint';
import { warmupCosine } from './schedule';

export interface TrainConfig {
  /** Planned epochs: the length of the cosine schedule and the epoch limit. */
  epochs: number;
  /** Users per batch. */
  batchSize: number;
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  adamEps: number;
  warmupSteps: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  /** Stop after this many epochs without a better validation NDCG@10. */
  patience: number;
  /** Input window L. */
  maxLen: number;
  /** Users per evaluation batch. */
  evalBatchSize: number;
  seed: number;
}

/** The authors' reference training settings (docs/method.md §5). */
export const REFERENCE_TRAIN_CONFIG: TrainConfig = {
  epochs: 500, batchSize: 32, lr: 1e-4, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, adamEps: 1e-9,
  warmupSteps: 100, clipNorm: 5, patience: 10, maxLen: 50, evalBatchSize: 512, seed: 42,
};

export interface TrainOptions {
  /** Run folder: checkpoint.safetensors, best.safetensors, train-log.jsonl. */
  runDir: string;
  /** Continue from runDir/checkpoint.safetensors when it exists. */
  resume: boolean;
  /** Draw progress bars. */
  progress: boolean;
  /** Stop (after the current epoch) once this much training time has passed. */
  timeLimitSeconds?: number;
  /** Where one-line epoch summaries go. */
  log: (line: string) => void;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const BEST_FILE = 'best.safetensors';
export const TRAIN_LOG_FILE = 'train-log.jsonl';

export interface TrainResult {
  state: TrainState;
  /** Validation metrics of the best epoch. */
  bestValid: MetricsBySize | null;
}

/** Train until early stop, the epoch limit or the time limit. Leaves the best parameters in the model. */
export function trainModel(model: FmrlRec, split: Split, config: TrainConfig, options: TrainOptions): TrainResult {
  const { runDir } = options;
  fs.mkdirSync(runDir, { recursive: true });
  const checkpointFile = path.join(runDir, CHECKPOINT_FILE);
  const bestFile = path.join(runDir, BEST_FILE);
  const optimizer = new AdamW(model.params.length, model.params.specs, {
    beta1: config.beta1, beta2: config.beta2, eps: config.adamEps, weightDecay: config.weightDecay,
  }, model.kern);
  let state: TrainState = { epoch: 0, step: 0, bestEpoch: 0, bestScore: -1, badEpochs: 0, trainSeconds: 0, history: [] };
  if (options.resume && fs.existsSync(checkpointFile)) {
    state = loadTrainingCheckpoint(checkpointFile, model, optimizer);
    options.log(`resuming after epoch ${state.epoch} (best NDCG@10 ${state.bestScore.toFixed(4)} at epoch ${state.bestEpoch})`);
  }
  const numUsers = split.train.length;
  const stepsPerEpoch = Math.ceil(numUsers / config.batchSize);
  const totalSteps = config.epochs * stepsPerEpoch;
  const largest = String(model.width);
  const evalOptions = { batchSize: config.evalBatchSize, maxLen: config.maxLen, excludeHistory: false, progress: false };
  let bestValid: MetricsBySize | null = null;

  while (state.epoch < config.epochs && state.badEpochs < config.patience) {
    if (options.timeLimitSeconds !== undefined && state.trainSeconds >= options.timeLimitSeconds) {
      options.log(`time limit of ${formatDuration(options.timeLimitSeconds)} reached`);
      break;
    }
    const epoch = state.epoch + 1;
    const started = Date.now();
    const batches = trainingBatches(split, { batchSize: config.batchSize, maxLen: config.maxLen, rng: new Rng(deriveSeed(config.seed, epoch, 1)) });
    const dropoutRng = new Rng(deriveSeed(config.seed, epoch, 2));
    const positions = batches.reduce((s, b) => s + b.offsets[b.size], 0);
    const bar = options.progress ? new ProgressBar(`epoch ${epoch}`, positions, 'pos') : null;
    let lossSum = 0;
    let targetSum = 0;
    for (const batch of batches) {
      model.params.zeroGrads();
      const result = model.lossAndGradients(batch, dropoutRng);
      clipGradNorm(model.params.grads, config.clipNorm);
      optimizer.update(model.params.values, model.params.grads, warmupCosine(state.step, config.lr, config.warmupSteps, totalSteps));
      state.step++;
      lossSum += result.loss * result.targets;
      targetSum += result.targets;
      bar?.tick(batch.offsets[batch.size], `loss ${(lossSum / Math.max(1, targetSum)).toFixed(4)}`);
    }
    bar?.finish(`loss ${(lossSum / Math.max(1, targetSum)).toFixed(4)}`);
    const valid = evaluate(model, split, 'valid', evalOptions);
    const score = valid[largest]['NDCG@10'];
    const seconds = (Date.now() - started) / 1000;
    state.epoch = epoch;
    state.trainSeconds += seconds;
    const loss = lossSum / Math.max(1, targetSum);
    state.history.push({ epoch, loss, validNdcg10: score, seconds });
    let mark = '';
    if (score > state.bestScore) {
      state.bestScore = score;
      state.bestEpoch = epoch;
      state.badEpochs = 0;
      bestValid = valid;
      saveParams(bestFile, model, { epoch: String(epoch), valid: JSON.stringify(valid) });
      mark = ' *best*';
    } else {
      state.badEpochs++;
    }
    saveTrainingCheckpoint(checkpointFile, model, optimizer, state);
    fs.appendFileSync(path.join(runDir, TRAIN_LOG_FILE), JSON.stringify({ epoch, loss, seconds, valid }) + '\n');
    options.log(`epoch ${epoch}: loss ${loss.toFixed(4)}, valid NDCG@10 (size ${largest}) ${score.toFixed(4)}, ` +
      `${seconds.toFixed(1)}s, ${(positions / seconds).toFixed(0)} pos/s${mark}`);
  }
  if (state.badEpochs >= config.patience) options.log(`early stop: no improvement for ${config.patience} epochs; best epoch ${state.bestEpoch}`);
  if (state.bestEpoch > 0) {
    const metadata = loadParams(bestFile, model);
    bestValid ??= JSON.parse(metadata.valid) as MetricsBySize;
  }
  return { state, bestValid };
}
