/**
 * The benchmarks' data: Beauty (P5 layout) or a synthetic catalogue of
 * fixed-length sequences, random frozen item features, and the reference's
 * left-padded batch layout handed to the PyTorch mirror.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { readP5Dataset } from '../src/data/p5';
import { leaveOneOut } from '../src/data/split';
import type { PackedBatch, Split } from '../src/data/types';
import { UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';
import type { BenchConfig } from './configs';
import { BenchArgs, flagString } from './options';
import { ROOT } from './paths';

/** The Beauty folder: --data, else $FMRLREC_DATA_DIR/beauty, else ../shared/data/beauty. */
export function beautyDir(args?: BenchArgs): string {
  const fromFlag = args ? flagString(args, 'data', '') : '';
  if (fromFlag) return fromFlag;
  const base = process.env.FMRLREC_DATA_DIR || path.resolve(ROOT, '..', 'shared', 'data');
  return path.join(base, 'beauty');
}

/** A benchmark's data: the split and its size. */
export interface BenchData {
  numItems: number;
  split: Split;
  users: number;
  /** Human label of the data. */
  label: string;
}

/** Beauty (P5 layout) or a synthetic catalogue of fixed-length sequences. */
export function loadBenchData(config: BenchConfig, dataDir: string): BenchData {
  if (config.data.kind === 'beauty') {
    if (!fs.existsSync(path.join(dataDir, 'sequential_data.txt'))) {
      throw new UserError(`no Beauty data at ${dataDir} (set FMRLREC_DATA_DIR or pass --data <folder>)`);
    }
    const ds = readP5Dataset(dataDir, 'beauty');
    return { numItems: ds.numItems, split: leaveOneOut(ds), users: ds.sequences.length, label: `Beauty (${ds.sequences.length} users, ${ds.numItems} items)` };
  }
  const { users, items, length } = config.data;
  // Every user has a training sequence of exactly `length` items (+ validation and test):
  // the worst case for a window of `length`, T = batch × length rows per step.
  const rng = new Rng(7);
  const train: Int32Array[] = [];
  const validTarget = new Int32Array(users);
  const testTarget = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    const seq = new Int32Array(length);
    for (let i = 0; i < length; i++) seq[i] = 1 + rng.int(items);
    train.push(seq);
    validTarget[u] = 1 + rng.int(items);
    testTarget[u] = 1 + rng.int(items);
  }
  return { numItems: items, split: { train, validTarget, testTarget }, users, label: `synthetic (${users} users × ${length} items, catalogue ${items})` };
}

/**
 * Random item features: (N+1)×F, row 0 zeros, each row the concatenation of
 * unit-norm blocks (paper: 1024-d text and 1024-d image vectors, both
 * L2-normalised as docs/method.md §3 says).
 */
export function randomFeatures(n1: number, blocks: number[], seed: number): Float32Array {
  const f = blocks.reduce((a, b) => a + b, 0);
  const out = new Float32Array(n1 * f);
  const rng = new Rng(seed);
  for (let r = 1; r < n1; r++) {
    let o = r * f;
    for (const w of blocks) {
      let ss = 0;
      for (let j = 0; j < w; j++) {
        // Uniform(−1, 1) is cheaper than a normal and just as good for timing and for the check.
        const v = 2 * rng.uniform() - 1;
        out[o + j] = v;
        ss += v * v;
      }
      const s = 1 / Math.sqrt(ss);
      for (let j = 0; j < w; j++) out[o + j] *= s;
      o += w;
    }
  }
  return out;
}

/** The reference's batch layout: left-padded [B, L] tokens and labels (docs/method.md §5; dataloader/lru.py). */
export function paddedBatch(batch: PackedBatch, maxLen: number, tokens: Int32Array, labels: Int32Array, base: number): void {
  for (let b = 0; b < batch.size; b++) {
    const r0 = batch.offsets[b];
    const len = batch.offsets[b + 1] - r0;
    const o = base + b * maxLen + (maxLen - len);
    for (let i = 0; i < len; i++) {
      tokens[o + i] = batch.inputs[r0 + i];
      labels[o + i] = batch.targets[r0 + i];
    }
  }
}
