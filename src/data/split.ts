/**
 * The leave-one-out protocol (docs/method.md §2): per user, the last item is the test
 * target, the second last the validation target, the rest the training sequence.
 */
import type { Dataset, Split } from './types';
import { UserError } from '../util/errors';

/** Which held-out item an evaluation is about. */
export type EvalTarget = 'valid' | 'test';

/**
 * Split every user's sequence by leave-one-out. The training sequences are views
 * (subarrays) of the dataset's sequences.
 * @throws UserError naming the first user with fewer than 3 items
 */
export function leaveOneOut(ds: Dataset): Split {
  const numUsers = ds.sequences.length;
  const train: Int32Array[] = new Array(numUsers);
  const validTarget = new Int32Array(numUsers);
  const testTarget = new Int32Array(numUsers);
  for (let u = 0; u < numUsers; u++) {
    const seq = ds.sequences[u];
    const n = seq.length;
    if (n < MIN_USER_ITEMS) {
      throw new UserError(
        `dataset ${ds.name}: user ${ds.userIds[u]} (index ${u}) has ${n} item${n === 1 ? '' : 's'}; ` +
          `leave-one-out needs at least ${MIN_USER_ITEMS} (training, validation and test); dropShortUsers removes such users`,
      );
    }
    train[u] = seq.subarray(0, n - 2);
    validTarget[u] = seq[n - 2];
    testTarget[u] = seq[n - 1];
  }
  return { train, validTarget, testTarget };
}

/** The fewest items a user needs for leave-one-out: one to train on, one to validate, one to test. */
export const MIN_USER_ITEMS = 3;

/**
 * The dataset without the users who have fewer than {@link MIN_USER_ITEMS} items
 * (a k-core filter can leave some), and how many were dropped. Returns the same
 * dataset object when nobody is dropped.
 */
export function dropShortUsers(ds: Dataset): { dataset: Dataset; dropped: number } {
  const keep: number[] = [];
  for (let u = 0; u < ds.sequences.length; u++) if (ds.sequences[u].length >= MIN_USER_ITEMS) keep.push(u);
  const dropped = ds.sequences.length - keep.length;
  if (dropped === 0) return { dataset: ds, dropped };
  return {
    dataset: { ...ds, sequences: keep.map((u) => ds.sequences[u]), userIds: keep.map((u) => ds.userIds[u]) },
    dropped,
  };
}

/**
 * The full (untruncated) history a user's evaluation starts from: for 'valid' the
 * training sequence; for 'test' the training sequence followed by the
 * validation item.
 */
export function evalHistory(split: Split, userIndex: number, which: EvalTarget): Int32Array {
  const train = split.train[userIndex];
  if (which === 'valid') return train;
  const history = new Int32Array(train.length + 1);
  history.set(train);
  history[train.length] = split.validTarget[userIndex];
  return history;
}

/** The held-out item of a user for 'valid' or 'test'. */
export function evalTarget(split: Split, userIndex: number, which: EvalTarget): number {
  return which === 'valid' ? split.validTarget[userIndex] : split.testTarget[userIndex];
}

/** A user's whole sequence: training items, then the validation and test items. */
export function fullHistory(split: Split, userIndex: number): Int32Array {
  const train = split.train[userIndex];
  const history = new Int32Array(train.length + 2);
  history.set(train);
  history[train.length] = split.validTarget[userIndex];
  history[train.length + 1] = split.testTarget[userIndex];
  return history;
}
