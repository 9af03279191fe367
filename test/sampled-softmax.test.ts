/**
 * Sampled softmax (docs/method.md §5.8): the sgemm path against the float64
 * loops and against finite differences; the log-Q correction and the masking
 * of accidental hits against the formula written out here; the sampler's
 * frequencies; the item table computed for some rows only against the whole
 * table; the model's sampled step against the loss on the whole table;
 * training with it learns and resumes exactly; the configuration and the CLI
 * flags.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticDataset, leaveOneOut, writeP5Dataset } from '../src/data';
import type { PackedBatch } from '../src/data/types';
import { evaluate } from '../src/eval/evaluate';
import { attributeFeatures } from '../src/features';
import { getKernels } from '../src/kernels';
import { referenceKernels } from '../src/kernels/reference';
import type { Kernels } from '../src/kernels/types';
import { FmrlRec } from '../src/model/fmrlrec';
import {
  ATTRIBUTE_EMBEDDING,
  ItemAttributes,
  itemTableBackward,
  itemTableForward,
  ItemTableInputs,
  itemTableRows,
  ITEM_ID_EMBEDDING,
  PROJECTION_BIAS,
  PROJECTION_WEIGHT,
  transposeAttributes,
} from '../src/model/layers/item-table';
import { batchRows, sampledSoftmax, sampledSoftmaxReference, type SampledTargets } from '../src/model/sampled-softmax';
import { ParamStore } from '../src/model/params';
import { parseLoss } from '../src/cli/train';
import { DEFAULT_NEGATIVES, DEFAULT_TRAIN } from '../src/run/defaults';
import { NegativeSampler } from '../src/train/negative-sampler';
import { negativeSampler, trainModel, type TrainConfig } from '../src/train/trainer';
import { UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';
import { smallIdModel } from './small-model';

const KERNELS: Kernels[] = [referenceKernels, getKernels()];

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * (2 * rng.uniform() - 1));
}

/** Sizes 3, 6, 10; 7 positions (one without a target); a 9-row table; 6 negatives with repeats and hits. */
function problem(seed: number) {
  const rng = new Rng(seed);
  const t = 7;
  const d = 10;
  const rows = 9;
  const s: SampledTargets = {
    targets: Int32Array.from([2, 5, -1, 0, 8, 2, 4]),
    targetLogQ: new Float32Array(t),
    negatives: Int32Array.from([1, 2, 6, 6, 0, 7]),
    negativeLogQ: new Float32Array(6),
  };
  const logQ = Float32Array.from({ length: rows }, () => Math.log(0.02 + 0.3 * rng.uniform()));
  s.targets.forEach((row, r) => {
    if (row >= 0) s.targetLogQ[r] = logQ[row];
  });
  s.negatives.forEach((row, j) => {
    s.negativeLogQ[j] = logQ[row];
  });
  return { t, d, rows, s, dims: Int32Array.from([3, 6, 10]), h: randomArray(t * d, rng), table: randomArray(rows * d, rng) };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  const scale = maxAbs(expected);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('the sgemm path equals the float64 loops to float rounding: loss per size and both gradients, on every kernel set', () => {
  const { t, d, rows, s, dims, h, table } = problem(1);
  const scale = 1 / (6 * dims.length);
  const weights = Float32Array.from(dims, (_, k) => 1 + k / 2); // a weight per size
  const refGradH = new Float32Array(t * d);
  const refGradTable = new Float32Array(rows * d);
  const refPerSize = new Float64Array(dims.length);
  const refLoss = sampledSoftmaxReference(h, table, t, d, s, dims, scale, refGradH, refGradTable, refPerSize, weights);
  for (const kern of KERNELS) {
    const gradH = new Float32Array(t * d).fill(7); // overwritten
    const gradTable = new Float32Array(rows * d).fill(7);
    const perSize = new Float64Array(dims.length);
    const loss = sampledSoftmax(kern, h, table, t, d, s, dims, scale, gradH, gradTable, perSize, weights);
    assert.ok(Math.abs(loss - refLoss) <= 1e-6 * refLoss, `${kern.name}: loss ${loss} vs ${refLoss}`);
    assertClose(perSize, refPerSize, 1e-6, `${kern.name} lossPerSize`);
    assertClose(gradH, refGradH, 1e-5, `${kern.name} gradH`);
    assertClose(gradTable, refGradTable, 1e-5, `${kern.name} gradTable`);
    assert.equal(sampledSoftmax(kern, h, table, t, d, s, dims, scale, null, null, null, weights), loss, 'the loss without gradients is the same');
  }
  // Rows that no position reads (row 3) get no gradient.
  assert.deepEqual(Array.from(refGradTable.subarray(3 * d, 4 * d)), new Array(d).fill(0));
});

test('the gradients are those of the loss: finite differences on every coordinate of h and of the table', () => {
  const { t, d, rows, s, dims, h, table } = problem(2);
  const scale = 0.25;
  const gradH = new Float32Array(t * d);
  const gradTable = new Float32Array(rows * d);
  const weights = Float32Array.from(dims, (_, k) => (k === 0 ? 3 : 0.5));
  sampledSoftmaxReference(h, table, t, d, s, dims, scale, gradH, gradTable, null, weights);
  const loss = () => {
    const sizes = new Float64Array(dims.length);
    sampledSoftmaxReference(h, table, t, d, s, dims, scale, null, null, sizes, null);
    return scale * sizes.reduce((sum, x, k) => sum + weights[k] * x, 0);
  };
  const check = (x: Float32Array, g: Float32Array, what: string) => {
    for (let i = 0; i < x.length; i++) {
      const old = x[i];
      x[i] = old + 1e-3;
      const up = x[i];
      const lossUp = loss();
      x[i] = old - 1e-3;
      const down = x[i];
      const lossDown = loss();
      x[i] = old;
      const fd = (lossUp - lossDown) / (up - down);
      assert.ok(Math.abs(fd - g[i]) <= 1e-3 * Math.abs(fd) + 1e-6, `${what}[${i}]: analytic ${g[i]}, finite difference ${fd}`);
    }
  };
  check(h, gradH, 'h');
  check(table, gradTable, 'table');
});

/** The loss of one position at the full width, written out: targets' and negatives' logits less log Q, hits left out. */
function lossByFormula(h: Float32Array, table: Float32Array, d: number, r: number, s: SampledTargets): number {
  const score = (row: number) => {
    let sum = 0;
    for (let p = 0; p < d; p++) sum += h[r * d + p] * table[row * d + p];
    return sum;
  };
  const y = s.targets[r];
  const logits = [score(y) - s.targetLogQ[r]];
  s.negatives.forEach((row, j) => {
    if (row !== y) logits.push(score(row) - s.negativeLogQ[j]);
  });
  const max = Math.max(...logits);
  return max + Math.log(logits.reduce((sum, z) => sum + Math.exp(z - max), 0)) - logits[0];
}

test('log-Q correction and accidental hits: the loss is the formula with −log Q on every logit and the target left out of its negatives', () => {
  const { t, d, s, h, table } = problem(3);
  const dims = Int32Array.from([d]);
  assert.ok(s.negatives.includes(s.targets[0]) && s.negatives.includes(s.targets[5]), 'the problem has accidental hits');
  let expected = 0;
  for (let r = 0; r < t; r++) if (s.targets[r] >= 0) expected += lossByFormula(h, table, d, r, s);
  for (const kern of KERNELS) {
    const loss = sampledSoftmax(kern, h, table, t, d, s, dims, 1, null, null, null, null);
    assert.ok(Math.abs(loss - expected) <= 1e-6 * expected, `${kern.name}: ${loss} vs ${expected}`);
  }
  assert.ok(Math.abs(sampledSoftmaxReference(h, table, t, d, s, dims, 1, null, null, null, null) - expected) <= 1e-9 * expected);
  // Both matter: without the correction, or counting the hits, the loss differs.
  const uncorrected = { ...s, targetLogQ: new Float32Array(t), negativeLogQ: new Float32Array(s.negatives.length) };
  assert.ok(Math.abs(sampledSoftmax(referenceKernels, h, table, t, d, uncorrected, dims, 1, null, null, null, null) - expected) > 1e-3);
});

test('with the log-Q correction, the negatives share the gradient as the softmax over the other items does; without it, they do not', (t) => {
  // One user vector, 30 items drawn from a Q that differs 27-fold between items; the table gradient of a
  // non-target item i, averaged over draws and normalised over the negatives, estimates its softmax share
  // exp z_i / Σ_{j≠y} exp z_j (self-normalised importance sampling, bias O(1/K)).
  const rng = new Rng(4);
  const n = 30;
  const d = 4;
  const counts = Float64Array.from({ length: n + 1 }, (_, i) => 10 * i);
  const sampler = new NegativeSampler(counts);
  const h = randomArray(d, rng);
  const table = randomArray((n + 1) * d, rng, 1.5);
  const y = 17;
  const z = Array.from({ length: n + 1 }, (_, i) => {
    let sum = 0;
    for (let p = 0; p < d; p++) sum += h[p] * table[i * d + p];
    return sum;
  });
  let zSum = 0;
  for (let i = 1; i <= n; i++) if (i !== y) zSum += Math.exp(z[i]);
  const share = (weights: Float64Array) => {
    const total = weights.reduce((a, b) => a + b, 0);
    let distance = 0; // total variation distance to the softmax over the items other than y
    for (let i = 1; i <= n; i++) if (i !== y) distance += 0.5 * Math.abs(weights[i] / total - Math.exp(z[i]) / zSum);
    return distance;
  };
  const corrected = new Float64Array(n + 1);
  const uncorrected = new Float64Array(n + 1);
  const gradTable = new Float32Array((n + 1) * d);
  for (let draw = 0; draw < 100; draw++) {
    const { items, logQ } = sampler.draw(500, rng);
    for (const [weights, useLogQ] of [
      [corrected, true],
      [uncorrected, false],
    ] as const) {
      const s: SampledTargets = {
        targets: Int32Array.of(y),
        targetLogQ: Float32Array.of(useLogQ ? logQ[y] : 0),
        negatives: items,
        negativeLogQ: Float32Array.from(items, (i) => (useLogQ ? logQ[i] : 0)),
      };
      sampledSoftmax(referenceKernels, h, table, 1, d, s, Int32Array.of(d), 1, null, gradTable, null, null);
      // Row i's gradient is (Σ of its slots' softmax)·h: project on h.
      const hh = h.reduce((a, v) => a + v * v, 0);
      for (let i = 1; i <= n; i++) {
        if (i === y) continue;
        let dot = 0;
        for (let p = 0; p < d; p++) dot += gradTable[i * d + p] * h[p];
        weights[i] += dot / hh;
      }
    }
  }
  t.diagnostic(`total variation from the softmax: corrected ${share(corrected).toFixed(4)}, uncorrected ${share(uncorrected).toFixed(4)}`);
  assert.ok(share(corrected) < 0.03, `corrected: total variation ${share(corrected).toFixed(4)} from the softmax`);
  assert.ok(share(uncorrected) > 0.15, `uncorrected: total variation ${share(uncorrected).toFixed(4)} (the check must tell them apart)`);
});

test('NegativeSampler: Q ∝ (count + 1)^α, never the padding item; draws follow Q; the training counts are the targets of the batches', () => {
  const counts = Float64Array.from([99, 0, 3, 9, 1]);
  const sampler = new NegativeSampler(counts);
  const q = [0, 1 / 17, 4 / 17, 10 / 17, 2 / 17];
  assert.equal(sampler.logQ[0], -Infinity);
  for (let i = 1; i <= 4; i++) assert.ok(Math.abs(sampler.logQ[i] - Math.log(q[i])) < 1e-6, `log Q(${i})`);
  const draws = 170_000;
  const seen = new Float64Array(5);
  const { items, logQ } = sampler.draw(draws, new Rng(5));
  assert.equal(logQ, sampler.logQ);
  for (const item of items) seen[item]++;
  assert.equal(seen[0], 0);
  for (let i = 1; i <= 4; i++) {
    const sd = Math.sqrt(draws * q[i] * (1 - q[i]));
    assert.ok(Math.abs(seen[i] - draws * q[i]) < 4 * sd, `item ${i}: ${seen[i]} draws, expected ${draws * q[i]}`);
  }
  // Training sequences [1, 2, 2, 3] and [3, 1]; window 3 keeps [2, 2, 3] and [3, 1].
  const train = [Int32Array.of(1, 2, 2, 3), Int32Array.of(3, 1)];
  const fromTraining = NegativeSampler.fromTraining(train, 4, 3);
  const expected = [0, 2, 3, 3, 1].map((w) => Math.log(w / 9)); // counts 1, 2, 2, 0 plus one
  for (let i = 1; i <= 4; i++) assert.ok(Math.abs(fromTraining.logQ[i] - expected[i]) < 1e-6, `trained log Q(${i})`);
  // Power α: Q ∝ (count + 1)^α; 0 is uniform.
  const sqrt = NegativeSampler.fromTraining(train, 4, 3, 0.5);
  const norm = [2, 3, 3, 1].reduce((a, w) => a + Math.sqrt(w), 0);
  for (let i = 1; i <= 4; i++) assert.ok(Math.abs(sqrt.logQ[i] - Math.log(Math.sqrt([0, 2, 3, 3, 1][i]) / norm)) < 1e-6, `α = 0.5: log Q(${i})`);
  const uniform = NegativeSampler.fromTraining(train, 4, 3, 0);
  for (let i = 1; i <= 4; i++) assert.ok(Math.abs(uniform.logQ[i] - Math.log(1 / 4)) < 1e-6, `α = 0: log Q(${i})`);
});

/** Sparse attributes of 9 rows: none, one or two of 4 values. */
const ATTRIBUTES: ItemAttributes = {
  dim: 4,
  rowStart: Int32Array.from([0, 0, 1, 3, 3, 5, 6, 6, 8, 9]),
  columns: Int32Array.from([0, 1, 3, 0, 2, 2, 1, 3, 0]),
  weights: Float32Array.from([1, 0.6, 0.8, 0.5, 1.2, 1, 0.7, 0.7, 1]),
};

test('the item table of some rows: its rows and its gradient equal those of the whole table', () => {
  const rng = new Rng(6);
  const n1 = 9;
  const d = 5;
  const featureDim = 3;
  const features = randomArray(n1 * featureDim, rng);
  features.fill(0, 0, featureDim);
  const store = new ParamStore();
  store.declare(PROJECTION_WEIGHT, [d, featureDim], true);
  store.declare(PROJECTION_BIAS, [d], false);
  store.declare(ITEM_ID_EMBEDDING, [n1, d], true);
  store.declare(ATTRIBUTE_EMBEDDING, [ATTRIBUTES.dim, d], true);
  store.allocate();
  store.values.set(randomArray(store.length, rng));
  const inputs: ItemTableInputs = { features, featureDim, attributes: ATTRIBUTES, transposedAttributes: transposeAttributes(ATTRIBUTES, n1) };
  const items = Int32Array.from([4, 0, 7, 2, 8]);
  const rowInputs = itemTableRows(inputs, items);
  for (const kern of KERNELS) {
    const whole = new Float32Array(n1 * d);
    itemTableForward(kern, store, inputs, n1, d, whole);
    const rows = new Float32Array(items.length * d);
    itemTableForward(kern, store, rowInputs, items.length, d, rows);
    items.forEach((item, r) =>
      assertClose(rows.subarray(r * d, (r + 1) * d), whole.subarray(item * d, (item + 1) * d), 1e-6, `${kern.name} row of item ${item}`),
    );
    // A gradient on those rows only: the rows backward gives the whole backward's parameter gradients.
    const dRows = randomArray(items.length * d, rng);
    const dWhole = new Float32Array(n1 * d);
    items.forEach((item, r) => dWhole.set(dRows.subarray(r * d, (r + 1) * d), item * d));
    store.zeroGrads();
    itemTableBackward(kern, store, inputs, n1, d, dWhole);
    const expected = Float32Array.from(store.grads);
    store.zeroGrads();
    itemTableBackward(kern, store, rowInputs, items.length, d, dRows);
    assertClose(store.grads, expected, 1e-6, `${kern.name} parameter gradients`);
    assert.deepEqual(Array.from(store.grad(ITEM_ID_EMBEDDING).subarray(0, d)), new Array(d).fill(0), 'the padding item has no ID gradient');
  }
});

/** A 4-user batch over 20 items: [0, 3, 5] → [3, 5, 2]; [0, 7] → [7, 1]; [0, 9, 9, 4] → [9, 9, 4, 11]; [12] → [0]. */
function modelBatch(): PackedBatch {
  return {
    size: 4,
    offsets: Int32Array.from([0, 3, 5, 9, 10]),
    inputs: Int32Array.from([0, 3, 5, 0, 7, 0, 9, 9, 4, 12]),
    targets: Int32Array.from([3, 5, 2, 7, 1, 9, 9, 4, 11, 0]),
    users: Int32Array.from([0, 1, 2, 3]),
  };
}

test("the model's sampled step: rows of the batch only, the loss of the whole table, and gradients only where items are read", () => {
  const numItems = 20;
  const rng = new Rng(7);
  const features = randomArray((numItems + 1) * 6, rng);
  features.fill(0, 0, 6);
  const model = new FmrlRec(
    {
      dims: [4, 8],
      numItems,
      featureDim: 6,
      itemIdEmbedding: true,
      numBlocks: 1,
      dropout: 0,
      layerNormEps: 1e-5,
      rMin: 0,
      rMax: 0.1,
    },
    features,
    referenceKernels,
  );
  model.init(3);
  const batch = modelBatch();
  const draw = new NegativeSampler(Float64Array.from({ length: numItems + 1 }, (_, i) => i % 7)).draw(6, new Rng(8));
  draw.items.set([15, 5, 15, 18, 9, 6]); // repeats and hits, fixed
  const rows = batchRows(batch, draw);
  assert.deepEqual(Array.from(rows.items), [0, 3, 5, 2, 7, 1, 9, 4, 11, 12, 15, 18, 6]);
  assert.deepEqual(Array.from(rows.targets.slice(-1)), [-1]);

  model.params.zeroGrads();
  const result = model.lossAndGradients(batch, null, { negatives: draw });
  // The same loss from the whole table and the hidden states, with items as rows.
  const e = model.itemTable();
  const hidden = model.hiddenStates(batch, e);
  const s: SampledTargets = {
    targets: Int32Array.from(batch.targets, (y) => (y > 0 ? y : -1)),
    targetLogQ: Float32Array.from(batch.targets, (y) => draw.logQ[y]),
    negatives: draw.items,
    negativeLogQ: Float32Array.from(draw.items, (i) => draw.logQ[i]),
  };
  const perSize = new Float64Array(2);
  sampledSoftmaxReference(hidden, e, 10, 8, s, Int32Array.from([4, 8]), 1, null, null, perSize, null);
  assert.equal(result.targets, 9);
  assert.ok(Math.abs(result.loss - (perSize[0] + perSize[1]) / 18) <= 1e-5 * result.loss, `loss ${result.loss}`);
  result.lossPerSize.forEach((v, k) => assert.ok(Math.abs(v - perSize[k] / 9) <= 1e-5 * v, `size ${k}`));
  // ID rows of items the batch does not read (8, 10, 13, 14, 16, 17, 19, 20) get no gradient, nor the padding
  // item, nor item 12 (the input of a position without a target, the last of its sequence); the others do.
  const idGrad = model.params.grad(ITEM_ID_EMBEDDING);
  for (let item = 0; item <= numItems; item++) {
    const norm = maxAbs(idGrad.subarray(item * 8, (item + 1) * 8));
    if (item === 0 || item === 12 || !rows.items.includes(item)) assert.equal(norm, 0, `item ${item}`);
    else assert.ok(norm > 0, `item ${item} is read and gets a gradient`);
  }
});

/** Expected NDCG@10 of a uniformly random ranking of n items. */
function randomNdcg10(n: number): number {
  let sum = 0;
  for (let r = 1; r <= 10; r++) sum += 1 / Math.log2(r + 1);
  return sum / n;
}

/**
 * test/learning.test.ts's run with the sampled loss. Measured: 0.111, 0.116, 0.126 at sizes 8, 16, 32
 * (full softmax: 0.127, 0.148, 0.203; 5× random: 0.076).
 */
test(
  'a few epochs with the sampled loss (32 negatives of 300 items) lift validation NDCG@10 of every size far above a random ranking',
  { timeout: 120_000 },
  (t) => {
    const ds = generateSyntheticDataset({ numUsers: 1000, numItems: 300, seed: 2 });
    const split = leaveOneOut(ds);
    const config: TrainConfig = {
      ...DEFAULT_TRAIN,
      epochs: 8,
      batchSize: 64,
      lr: 3e-3,
      warmupSteps: 5,
      patience: 10,
      maxLen: 20,
      evalBatchSize: 256,
      seed: 5,
      loss: 'sampled',
      negatives: 32,
    };
    const attributes = attributeFeatures(ds.items);
    const model = smallIdModel(ds.numItems, [8, 16, 32], config.seed, attributes);
    const lines: string[] = [];
    trainModel(model, split, config, { log: (line) => lines.push(line) });
    assert.match(lines[0], /sampled loss/);
    const valid = evaluate(model, split, 'valid', { batchSize: 256, maxLen: 20, excludeHistory: false, progress: false });
    const chance = randomNdcg10(ds.numItems);
    t.diagnostic(
      `random ${chance.toFixed(4)}; trained ${Object.entries(valid)
        .map(([m, v]) => `${m}: ${v['NDCG@10'].toFixed(4)}`)
        .join(', ')}`,
    );
    for (const [size, metrics] of Object.entries(valid)) {
      assert.ok(metrics['NDCG@10'] >= 5 * chance, `size ${size}: NDCG@10 ${metrics['NDCG@10'].toFixed(4)} is not 5× a random ranking's ${chance.toFixed(4)}`);
    }
  },
);

test('with the sampled loss, a run interrupted after an epoch and resumed ends with the same weights as an uninterrupted one', () => {
  const split = leaveOneOut(generateSyntheticDataset({ numUsers: 150, numItems: 60, seed: 3 }));
  const config: TrainConfig = { ...DEFAULT_TRAIN, epochs: 2, batchSize: 32, lr: 3e-3, warmupSteps: 5, evalBatchSize: 128, loss: 'sampled', negatives: 8 };
  const model = () => smallIdModel(60, [8, 16], config.seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-sampled-resume-'));
  try {
    const straight = model();
    trainModel(straight, split, config, { runDir: path.join(root, 'straight') });
    const dir = path.join(root, 'resumed');
    assert.equal(trainModel(model(), split, config, { runDir: dir, timeLimitSeconds: 1e-9 }).state.epoch, 1);
    const resumed = model();
    assert.equal(trainModel(resumed, split, config, { runDir: dir, resume: true }).state.epoch, 2);
    assert.deepEqual(resumed.params.values, straight.params.values);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('the loss settings: absent is full softmax (old run.json), sampled needs K ≥ 1, an unknown loss is a user error', () => {
  const split = leaveOneOut(generateSyntheticDataset({ numUsers: 30, numItems: 60, seed: 1 }));
  assert.equal(negativeSampler(DEFAULT_TRAIN, split, 60), null);
  assert.equal(negativeSampler({ ...DEFAULT_TRAIN, loss: 'softmax' }, split, 60), null);
  assert.equal(negativeSampler({ ...DEFAULT_TRAIN, loss: 'sampled', negatives: 4 }, split, 60)?.negatives, 4);
  assert.throws(
    () => negativeSampler({ ...DEFAULT_TRAIN, loss: 'sampled' }, split, 60),
    (e: unknown) => e instanceof UserError && /negatives/.test(e.message),
  );
  assert.throws(() => negativeSampler({ ...DEFAULT_TRAIN, loss: 'sampled', negatives: 2.5 }, split, 60), UserError);
  assert.throws(() => negativeSampler({ ...DEFAULT_TRAIN, loss: 'bpr' as never }, split, 60), /unknown training loss "bpr"/);
  assert.deepEqual(parseLoss({}), {});
  assert.deepEqual(parseLoss({ loss: 'sampled' }), { loss: 'sampled', negatives: DEFAULT_NEGATIVES, samplingPower: 1 });
  assert.deepEqual(parseLoss({ loss: 'sampled', negatives: '64', 'sampling-power': '0' }), { loss: 'sampled', negatives: 64, samplingPower: 0 });
  assert.throws(() => parseLoss({ loss: 'sampled', negatives: '0' }), /--negatives/);
  assert.throws(() => parseLoss({ loss: 'sampled', 'sampling-power': '-1' }), /--sampling-power must be >= 0/);
  assert.throws(() => parseLoss({ negatives: '64' }), /--negatives applies to --loss sampled only/);
  assert.throws(() => parseLoss({ 'sampling-power': '0.5' }), /--sampling-power applies to --loss sampled only/);
  assert.throws(() => negativeSampler({ ...DEFAULT_TRAIN, loss: 'sampled', negatives: 4, samplingPower: -0.5 }, split, 60), /sampling power/);
  assert.throws(() => parseLoss({ loss: 'full' }), /--loss takes softmax or sampled \(got "full"\)/);
});

test('CLI: train --loss sampled --negatives 16 --size-weights 2,1 records the loss in run.json and trains; mistakes are one line', () => {
  const cli = path.resolve(__dirname, '../src/cli/main.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-sampled-'));
  try {
    const data = path.join(root, 'data');
    writeP5Dataset(generateSyntheticDataset({ numUsers: 120, numItems: 60, seed: 5 }), data);
    const run = path.join(root, 'run');
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'train',
        '--data',
        data,
        '--out',
        run,
        '--features',
        'id',
        '--width',
        '16',
        '--epochs',
        '1',
        '--batch-size',
        '32',
        '--loss',
        'sampled',
        '--negatives',
        '16',
        '--size-weights',
        '2,1',
        '--no-progress',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const config = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
    assert.equal(config.train.loss, 'sampled');
    assert.equal(config.train.negatives, 16);
    assert.deepEqual(config.model.sizeWeights, [2, 1]);
    assert.ok(fs.existsSync(path.join(run, 'metrics.json')));
    const bad = spawnSync(process.execPath, [cli, 'train', '--data', data, '--out', path.join(root, 'bad'), '--loss', 'sampled', '--negatives', 'many'], {
      encoding: 'utf8',
    });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--negatives must be/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    const weights = spawnSync(process.execPath, [cli, 'train', '--data', data, '--out', path.join(root, 'bad'), '--width', '16', '--size-weights', '1,2,3'], {
      encoding: 'utf8',
    });
    assert.notEqual(weights.status, 0);
    assert.match(weights.stderr, /--size-weights has 3 weights; the ladder 8,16 has 2 sizes: give one per size/);
    assert.doesNotMatch(weights.stderr, /\n\s+at /);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
