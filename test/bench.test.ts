/**
 * The benchmark's own arithmetic: FLOP counts of the floor, the reference's
 * left-padded batch layout handed to the PyTorch mirror, option parsing, the
 * baseline BLAS guard, and
 * the layer instrumentation (it must see the model's layer calls without
 * changing any result).
 */
import assert from 'node:assert/strict';
import test from 'node:test';

import { paddedBatch, randomFeatures } from '../bench/data';
import { evalFlops, mrlWeights, trainStepFlops } from '../bench/floor';
import { flagBool, flagNumber, flagString, parseBenchArgs } from '../bench/options';
import { baselineBlasVerdict } from '../bench/torch';
import { instrumentLayers, Profiler, profiledKernels } from '../bench/profile';
import { referenceKernels } from '../src/kernels/reference';
import type { PackedBatch } from '../src/data/types';
import { doublingLadder } from '../src/model/config';
import { FmrlRec } from '../src/model/fmrlrec';
import { UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';

test('MRL weights: Σ |C(k)|·m_k, about 2/3·D² for a doubling ladder', () => {
  assert.equal(mrlWeights([8, 16]), 8 * 8 + 8 * 16);
  assert.equal(mrlWeights(doublingLadder(1024)), 699072);
  assert.ok(Math.abs(mrlWeights(doublingLadder(1024)) / 1024 ** 2 - 2 / 3) < 0.01);
});

test("floor FLOPs: the issue's ~87 TFLOP per Beauty epoch at the paper configuration", () => {
  // Beauty: 12,102 items with padding, 699 steps of batch 32, 150,258 training positions per epoch.
  const c = { dims: doublingLadder(1024), featureDim: 2048, numBlocks: 1 };
  const perStep = trainStepFlops(c, 12102, 150258 / 699, 150258 / 699);
  assert.ok(Math.abs(perStep.projection - 4 * 12102 * 2048 * 1024) < 1);
  const epoch = perStep.total * 699;
  assert.ok(epoch > 84e12 && epoch < 90e12, `epoch floor ${epoch / 1e12} TFLOP`);
  assert.ok(perStep.projection * 699 > 69e12 && perStep.projection * 699 < 72e12);
  assert.ok(evalFlops(c, 12102, 1000, 100) > 2 * 100 * 12102 * 1024);
  // One block: LRU in (re, im) on all 1000 rows, the 5 maps after the recurrence on the 100 users' last rows.
  const maps = 2 * mrlWeights(c.dims) * (2 * 1000 + 5 * 100);
  assert.equal(evalFlops(c, 12102, 1000, 100), 2 * 12102 * 2048 * 1024 + maps + 2 * 100 * 12102 * 1024);
});

test('paddedBatch gives the reference layout (left padding, the padding input before the first target)', () => {
  // Two users: training sequences [5, 6, 7] (3 rows) and 60 items (window of 4 here).
  const batch: PackedBatch = {
    size: 2,
    offsets: Int32Array.from([0, 3, 7]),
    inputs: Int32Array.from([0, 5, 6, 56, 57, 58, 59]),
    targets: Int32Array.from([5, 6, 7, 57, 58, 59, 60]),
    users: Int32Array.from([0, 1]),
  };
  const tokens = new Int32Array(2 * 4);
  const labels = new Int32Array(2 * 4);
  paddedBatch(batch, 4, tokens, labels, 0);
  assert.deepEqual([...tokens], [0, 0, 5, 6, 56, 57, 58, 59]);
  assert.deepEqual([...labels], [0, 5, 6, 7, 57, 58, 59, 60]);
});

test("bench options: the CLI's parser — positional command, --flag value, --flag=value, booleans; a bad flag is one line", () => {
  const a = parseBenchArgs(['train', '--steps', '5', '--json', '--configs=paper,d256', '--no-baseline']);
  assert.deepEqual(a.positional, ['train']);
  assert.equal(flagNumber(a, 'steps', 50), 5);
  assert.equal(flagNumber(a, 'warmup', 2), 2);
  assert.equal(flagBool(a, 'json'), true);
  assert.equal(flagString(a, 'configs', ''), 'paper,d256');
  assert.equal(flagBool(a, 'no-baseline'), true);
  assert.equal(flagBool(a, 'grid'), false);
  assert.throws(
    () => parseBenchArgs(['train', '--stpes', '5']),
    (e: Error) => e instanceof UserError && /stpes.*npm run bench -- --help/.test(e.message),
  );
  assert.throws(() => flagNumber(parseBenchArgs(['train', '--steps', 'many']), 'steps', 50), /--steps must be a number/);
});

test("baseline BLAS guard: no speed-up against a baseline whose sgemm is below half of the project's, with the fix named", () => {
  const fit = baselineBlasVerdict({ peak: 60, blas: 'openblas' }, 100, 2);
  assert.equal(fit.fit, true);
  assert.match(fit.line, /PyTorch sgemm 60 GFLOP\/s \(BLAS openblas\), project 100 GFLOP\/s, both at 2 thread/);
  const slow = baselineBlasVerdict({ peak: 16, blas: 'openblas' }, 100, 2);
  assert.equal(slow.fit, false);
  assert.match(slow.line, /^speed-up not reported: .*below half/);
  assert.match(slow.line, /OPENBLAS_CORETYPE=/);
  assert.match(slow.line, /--baseline-env/);
  assert.equal(baselineBlasVerdict({ peak: 50, blas: 'libblas' }, 100, 2).fit, true, 'exactly half is still fit');
});

test('randomFeatures: row 0 zero, each block unit-norm', () => {
  const f = randomFeatures(3, [4, 2], 1);
  assert.deepEqual([...f.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
  for (const [o, w] of [
    [6, 4],
    [10, 2],
    [12, 4],
    [16, 2],
  ]) {
    let ss = 0;
    for (let j = 0; j < w; j++) ss += f[o + j] ** 2;
    assert.ok(Math.abs(ss - 1) < 1e-6);
  }
});

test('instrumentation sees every layer and kernel and leaves the loss unchanged', () => {
  const config = {
    dims: [4, 8],
    numItems: 9,
    featureDim: 6,
    itemIdEmbedding: false,
    numBlocks: 1,
    dropout: 0.2,
    layerNormEps: 1e-5,
    rMin: 0,
    rMax: 0.1,
  };
  const features = randomFeatures(10, [6], 3);
  const batch: PackedBatch = {
    size: 2,
    offsets: Int32Array.from([0, 3, 5]),
    inputs: Int32Array.from([0, 1, 2, 3, 4]),
    targets: Int32Array.from([1, 2, 3, 4, 5]),
    users: Int32Array.from([0, 1]),
  };
  const plain = new FmrlRec(config, features, referenceKernels);
  plain.init(5);
  const expected = plain.lossAndGradients(batch, new Rng(1)).loss;
  const prof = new Profiler();
  assert.ok(instrumentLayers(prof), 'layer functions are plain writable exports');
  const model = new FmrlRec(config, features, profiledKernels(referenceKernels, prof));
  model.init(5);
  prof.enabled = true;
  const loss = model.lossAndGradients(batch, new Rng(1)).loss;
  prof.enabled = false;
  assert.equal(loss, expected);
  const labels = [...prof.stats.keys()];
  for (const want of ['layer:lru.lruForward', 'layer:ffn.ffnBackward', 'layer:dropout.dropoutMask', 'kernel:softmaxXentMulti']) {
    assert.ok(
      labels.some((l) => l.startsWith(want)),
      `${want} in ${labels.join(', ')}`,
    );
  }
  assert.ok(labels.some((l) => l === 'kernel:sgemm ← item-table.itemTableForward'));
});
