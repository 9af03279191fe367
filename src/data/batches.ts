/**
 * Packed batches for training and evaluation (docs/method.md §5): each sequence occupies
 * only its real positions, back to back, described by row offsets.
 */
import type { PackedBatch, Split } from './types';
import type { Rng } from '../util/rng';
import { UserError } from '../util/errors';
import { type EvalTarget, evalTarget } from './split';

/** Default number of most recent positions kept per sequence (L in docs/method.md §2). */
export const DEFAULT_MAX_LEN = 50;

/** Options of {@link trainingBatches}. */
export interface TrainingBatchOptions {
  /** Users (sequences) per batch. */
  batchSize: number;
  /** Positions kept per sequence, the last ones (default 50). */
  maxLen?: number;
  /** Shuffles the user order. */
  rng: Rng;
}

/** Options of {@link evalBatches}. */
export interface EvalBatchOptions {
  /** Users (sequences) per batch. */
  batchSize: number;
  /** History items kept per sequence, the most recent ones (default 50). */
  maxLen?: number;
}

/**
 * One epoch of training batches. Users are shuffled by `rng` and cut into batches
 * of `batchSize` (the last may be smaller); users with an empty training sequence
 * are skipped. For training sequence s_1..s_n the example is
 * inputs [0, s_1, ..., s_{n-1}] and targets [s_1, ..., s_n] (0 is the padding
 * item: the first target is predicted from an empty history), cut to its last
 * min(n, maxLen) positions.
 *
 * Shapes per batch: B = size <= batchSize sequences; offsets [B+1];
 * inputs, targets [T] with T = offsets[B] = sum_b min(n_b, maxLen); users [B].
 */
export function trainingBatches(split: Split, options: TrainingBatchOptions): PackedBatch[] {
  const { batchSize, rng } = options;
  const maxLen = options.maxLen ?? DEFAULT_MAX_LEN;
  checkSizes(batchSize, maxLen);
  const order = rng.shuffle(nonEmptyUsers(split));
  const batches: PackedBatch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const users = order.slice(start, start + batchSize);
    const lengths = users.map((u) => Math.min(split.train[u].length, maxLen));
    const batch = emptyBatch(users, lengths);
    users.forEach((u, b) => {
      const seq = split.train[u];
      const n = seq.length;
      let row = batch.offsets[b];
      for (let p = n - lengths[b]; p < n; p++, row++) {
        batch.inputs[row] = p === 0 ? 0 : seq[p - 1];
        batch.targets[row] = seq[p];
      }
    });
    batches.push(batch);
  }
  return batches;
}

/**
 * Evaluation batches for the validation or test targets, users in index order,
 * `batchSize` users per batch (the last may be smaller). A user's inputs are the
 * last min(H, maxLen) items of the history (H items: the training sequence for
 * 'valid', plus the validation item for 'test'; no leading padding item). Targets
 * are 0 except on the sequence's last row, which holds the held-out item. A user
 * with an empty history (impossible after leaveOneOut) gets one padding-item row.
 *
 * Shapes per batch: B = size sequences; offsets [B+1]; inputs, targets [T] with
 * T = sum_b max(1, min(H_b, maxLen)); users [B]. The target of sequence b is
 * targets[offsets[b+1] - 1].
 */
export function evalBatches(split: Split, which: EvalTarget, options: EvalBatchOptions): PackedBatch[] {
  const { batchSize } = options;
  const maxLen = options.maxLen ?? DEFAULT_MAX_LEN;
  checkSizes(batchSize, maxLen);
  const numUsers = split.train.length;
  const batches: PackedBatch[] = [];
  for (let start = 0; start < numUsers; start += batchSize) {
    const users = Int32Array.from({ length: Math.min(batchSize, numUsers - start) }, (_, b) => start + b);
    const lengths = users.map((u) => Math.max(1, Math.min(historyLength(split, u, which), maxLen)));
    const batch = emptyBatch(users, lengths);
    users.forEach((u, b) => {
      const train = split.train[u];
      const h = historyLength(split, u, which);
      let row = batch.offsets[b];
      for (let p = h - Math.min(h, maxLen); p < h; p++, row++) {
        batch.inputs[row] = p < train.length ? train[p] : split.validTarget[u];
      }
      batch.targets[batch.offsets[b + 1] - 1] = evalTarget(split, u, which);
    });
    batches.push(batch);
  }
  return batches;
}

/** Items of several users' histories, packed: user k's items are items[offsets[k]..offsets[k+1]). */
export interface PackedHistories {
  /** [K+1] offsets for K users. */
  offsets: Int32Array;
  /** All history items, user after user. */
  items: Int32Array;
}

/**
 * The full (untruncated) evaluation histories of the given users, e.g. a batch's
 * `users`, for evaluation that excludes already seen items. History as in
 * {@link evalBatches}: training sequence, plus the validation item for 'test'.
 *
 * Shapes: users [K] -> offsets [K+1], items [offsets[K]].
 */
export function historyItems(split: Split, users: Int32Array, which: EvalTarget): PackedHistories {
  const offsets = new Int32Array(users.length + 1);
  users.forEach((u, k) => {
    offsets[k + 1] = offsets[k] + historyLength(split, u, which);
  });
  const items = new Int32Array(offsets[users.length]);
  users.forEach((u, k) => {
    items.set(split.train[u], offsets[k]);
    if (which === 'test') items[offsets[k + 1] - 1] = split.validTarget[u];
  });
  return { offsets, items };
}

function historyLength(split: Split, user: number, which: EvalTarget): number {
  return split.train[user].length + (which === 'test' ? 1 : 0);
}

function nonEmptyUsers(split: Split): Int32Array {
  const users: number[] = [];
  split.train.forEach((seq, u) => {
    if (seq.length > 0) users.push(u);
  });
  return Int32Array.from(users);
}

/** A batch with zeroed rows sized for the given sequence lengths. */
function emptyBatch(users: Int32Array, lengths: Int32Array): PackedBatch {
  const offsets = new Int32Array(users.length + 1);
  for (let b = 0; b < users.length; b++) offsets[b + 1] = offsets[b] + lengths[b];
  const rows = offsets[users.length];
  return { size: users.length, offsets, inputs: new Int32Array(rows), targets: new Int32Array(rows), users };
}

function checkSizes(batchSize: number, maxLen: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`batch size must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(maxLen) || maxLen < 1) throw new UserError(`maximum sequence length must be a positive integer, got ${maxLen}`);
}
