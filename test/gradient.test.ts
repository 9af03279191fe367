/**
 * The whole model's gradient against finite differences, with a relative
 * tolerance: every parameter of a model with every part (features, item-ID and
 * attribute vectors, 2 blocks, an uneven ladder), coordinates drawn only where
 * the analytic gradient is non-zero (where it is exactly zero, the finite
 * difference must vanish too), with dropout off and with dropout on under a
 * fixed mask, with the sampled loss (docs/method.md §5.8) and with history
 * negatives (§5.9); and dropout's own forward and backward.
 *
 * The model computes in float32 only, so the difference quotient comes from
 * the float32 loss: central differences at steps h and 2h combined by
 * Richardson's extrapolation (truncation error O(h⁴)), h = 3e-3. The float32
 * rounding of the loss (about 1e-7 of it) divided by the step sets the absolute
 * floor ATOL; truncation sets the relative part RTOL. Measured on 30 draws per
 * parameter: |fd − g| at most 0.2 × (RTOL·max(|fd|, |g|) + ATOL), dropout off
 * and on; a step of 1e-2 is too long (the loss bends within it: errors above 10%).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PackedBatch } from '../src/data/types';
import { referenceKernels as kern } from '../src/kernels/reference';
import type { ModelConfig } from '../src/model/config';
import { FmrlRec } from '../src/model/fmrlrec';
import { applyMask, dropoutMask } from '../src/model/layers/dropout';
import type { ItemAttributes } from '../src/model/layers/item-table';
import { NegativeSampler } from '../src/train/negative-sampler';
import { Rng } from '../src/util/rng';

const NUM_ITEMS = 12;
const FEATURE_DIM = 6;

/** Sparse attributes: items with none, one or two of 4 values. */
const ATTRIBUTES: ItemAttributes = {
  dim: 4,
  rowStart: Int32Array.from([0, 0, 1, 3, 3, 5, 6, 6, 8, 9, 10, 11, 12, 12]),
  columns: Int32Array.from([0, 1, 3, 0, 2, 2, 1, 3, 0, 1, 2, 3]),
  weights: Float32Array.from([1, 0.6, 0.8, 0.5, 1.2, 1, 0.7, 0.7, 1, 1, 0.9, 1.1]),
};

/** Sizes 3, 6, 10; 2 blocks; 12 items with features, item-ID and attribute vectors. */
function wholeModel(dropout: number, sizeWeights?: number[]): FmrlRec {
  const rng = new Rng(31);
  const features = new Float32Array((NUM_ITEMS + 1) * FEATURE_DIM);
  for (let i = FEATURE_DIM; i < features.length; i++) features[i] = 2 * rng.uniform() - 1;
  const config: ModelConfig = {
    dims: [3, 6, 10],
    numItems: NUM_ITEMS,
    featureDim: FEATURE_DIM,
    itemIdEmbedding: true,
    attributeDim: ATTRIBUTES.dim,
    numBlocks: 2,
    dropout,
    layerNormEps: 1e-5,
    rMin: 0,
    rMax: 0.1,
    ...(sizeWeights ? { sizeWeights } : {}),
  };
  const model = new FmrlRec(config, features, kern, ATTRIBUTES);
  model.init(17);
  // LayerNorm scales and shifts away from their initial 1 and 0, so that their gradients are not a special case.
  for (const spec of model.params.specs) {
    const v = model.params.value(spec.name);
    if (/ln\d\.weight$/.test(spec.name))
      v.forEach((_, i) => {
        v[i] = 1 + 0.3 * (2 * rng.uniform() - 1);
      });
    if (/ln\d\.bias$/.test(spec.name))
      v.forEach((_, i) => {
        v[i] = 0.2 * (2 * rng.uniform() - 1);
      });
    // The padding item's vector is the projection bias alone: spread it, or a LayerNorm chunk of nearly equal values
    // makes the loss bend sharply within the finite-difference step.
    if (spec.name === 'projection.bias')
      v.forEach((_, i) => {
        v[i] = (i % 2 === 0 ? -0.5 : 0.5) + 0.1 * (2 * rng.uniform() - 1);
      });
  }
  return model;
}

/** [PAD, 3, 5, 2, 8] → [3, 5, 2, 8, 7]; [PAD, 4] → [4, 9]; [11, 6, 1] → [0, 6, 12] (a row without a target). */
function batch(): PackedBatch {
  return {
    size: 3,
    offsets: Int32Array.from([0, 5, 7, 10]),
    inputs: Int32Array.from([0, 3, 5, 2, 8, 0, 4, 11, 6, 1]),
    targets: Int32Array.from([3, 5, 2, 8, 7, 4, 9, 0, 6, 12]),
    users: Int32Array.from([0, 1, 2]),
  };
}

/** Step of the finite differences, and the tolerance |fd − g| ≤ RTOL·max(|fd|, |g|) + ATOL (see above). */
const STEP = 3e-3;
const RTOL = 1e-2;
const ATOL = 3e-5;

/** d loss / d x[i] by Richardson-extrapolated central differences on the float32 parameter. */
function finiteDifference(x: Float32Array, i: number, loss: () => number): number {
  const old = x[i];
  const quotient = (step: number) => {
    x[i] = old + step;
    const up = x[i]; // the float32 value actually used
    const lossUp = loss();
    x[i] = old - step;
    const down = x[i];
    const lossDown = loss();
    x[i] = old;
    return (lossUp - lossDown) / (up - down);
  };
  return (4 * quotient(STEP) - quotient(2 * STEP)) / 3;
}

/** `count` distinct entries of `from`, drawn by `rng`. */
function draw(from: number[], count: number, rng: Rng): number[] {
  const pool = [...from];
  const out: number[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out;
}

/**
 * Check every parameter of `model`: `samples` coordinates where the analytic
 * gradient (of `loss`, computed by `gradients`) is non-zero against finite
 * differences, and two where it is exactly zero (the finite difference must
 * be 0 to ATOL there). Every parameter must have some non-zero gradient.
 */
function checkWholeModel(model: FmrlRec, gradients: () => void, loss: () => number, samples: number, seed: number): void {
  model.params.zeroGrads();
  gradients();
  const grads = Float32Array.from(model.params.grads);
  const rng = new Rng(seed);
  const failures: string[] = [];
  for (const spec of model.params.specs) {
    const g = grads.subarray(spec.offset, spec.offset + spec.size);
    const nonZero: number[] = [];
    const zero: number[] = [];
    g.forEach((v, i) => (v !== 0 ? nonZero : zero).push(i));
    assert.ok(nonZero.length > 0, `${spec.name} gets a gradient`);
    const x = model.params.value(spec.name);
    for (const i of draw(nonZero, samples, rng)) {
      const fd = finiteDifference(x, i, loss);
      if (!(Math.abs(fd - g[i]) <= RTOL * Math.max(Math.abs(fd), Math.abs(g[i])) + ATOL))
        failures.push(`${spec.name}[${i}]: analytic ${g[i]}, finite difference ${fd}`);
    }
    for (const i of draw(zero, 2, rng)) {
      const fd = finiteDifference(x, i, loss);
      if (!(Math.abs(fd) <= ATOL)) failures.push(`${spec.name}[${i}]: analytic 0, finite difference ${fd}`);
    }
  }
  assert.deepEqual(failures, []);
}

test('whole model, dropout off: the gradient of every parameter matches finite differences', () => {
  const model = wholeModel(0);
  const b = batch();
  checkWholeModel(
    model,
    () => model.lossAndGradients(b, null),
    () => model.lossAndGradients(b, null).loss,
    8,
    3,
  );
});

test('whole model, dropout on with fixed masks: the gradient of every parameter matches finite differences', () => {
  const model = wholeModel(0.3);
  const b = batch();
  // The same seed draws the same masks at every call: the loss is a smooth function of the parameters.
  const masked = () => model.lossAndGradients(b, new Rng(99)).loss;
  assert.equal(masked(), masked(), 'a seeded dropout draws the same masks every time');
  assert.notEqual(masked(), model.lossAndGradients(b, null).loss, 'dropout changes the loss');
  checkWholeModel(model, masked, masked, 8, 4);
});

test('whole model, sampled softmax: the gradient of every parameter matches finite differences', () => {
  const model = wholeModel(0);
  const b = batch();
  // Negatives with a repeat, accidental hits (7, 3 and 12 are targets) and an item read by nothing else (10).
  const draw = new NegativeSampler(Float64Array.from({ length: NUM_ITEMS + 1 }, (_, i) => i % 5)).draw(5, new Rng(5));
  draw.items.set([10, 7, 10, 3, 12]);
  const step = () => model.lossAndGradients(b, null, { negatives: draw });
  checkWholeModel(model, step, () => step().loss, 8, 5);
});

test('whole model, history negatives: the gradient of every parameter matches finite differences', () => {
  const model = wholeModel(0);
  const b = batch();
  const plain = model.lossAndGradients(b, null).loss;
  const step = () => model.lossAndGradients(b, null, { historyWeight: 0.7 });
  assert.ok(step().loss > plain, 'the term adds to the loss');
  checkWholeModel(model, step, () => step().loss, 8, 6);
});

test('whole model, future targets with size weights: the gradient of every parameter matches finite differences', () => {
  const model = wholeModel(0, [2, 0.5, 1]);
  const b = batch();
  const step = () => model.lossAndGradients(b, null, { futureTargets: 3 });
  assert.notEqual(step().loss, model.lossAndGradients(b, null).loss, 'the later items change the loss');
  checkWholeModel(model, step, () => step().loss, 8, 7);
});

test('future targets: the loss is the cross-entropy against q ∝ 1, ½, ¼ over the next items, by the definition', () => {
  const weights = [2, 0.5, 1];
  const dims = [3, 6, 10];
  const model = wholeModel(0, weights);
  const b = batch();
  const e = model.itemTable();
  const hidden = model.hiddenStates(b, e);
  const d = model.width;
  let total = 0;
  let targets = 0;
  for (let s = 0; s < b.size; s++) {
    for (let r = b.offsets[s]; r < b.offsets[s + 1]; r++) {
      if (b.targets[r] <= 0) continue;
      targets++;
      const next: number[] = [];
      for (let j = 0; j < 3 && r + j < b.offsets[s + 1] && b.targets[r + j] > 0; j++) next.push(b.targets[r + j]);
      const norm = next.reduce((sum, _, j) => sum + 2 ** -j, 0);
      dims.forEach((m, k) => {
        const z = Array.from({ length: NUM_ITEMS + 1 }, (_, i) => {
          let dot = 0;
          for (let c = 0; c < m; c++) dot += hidden[r * d + c] * e[i * d + c];
          return dot;
        });
        const max = Math.max(...z);
        const logSum = max + Math.log(z.reduce((sum, v) => sum + Math.exp(v - max), 0));
        next.forEach((item, j) => {
          total += weights[k] * (2 ** -j / norm) * (logSum - z[item]);
        });
      });
    }
  }
  const expected = total / (targets * dims.length);
  const { loss } = model.lossAndGradients(b, null, { futureTargets: 3 });
  assert.ok(Math.abs(loss - expected) < 1e-5 * Math.abs(expected), `loss ${loss}, by the definition ${expected}`);
});

test('dropout: a mask holds 0 with probability p and 1/(1−p) elsewhere; its backward multiplies by the same mask', () => {
  const p = 0.3;
  const n = 20000;
  const mask = dropoutMask(n, p, new Rng(5));
  const keep = Math.fround(1 / (1 - p));
  let dropped = 0;
  let sum = 0;
  for (const v of mask) {
    assert.ok(v === 0 || v === keep, `mask value ${v}`);
    if (v === 0) dropped++;
    sum += v;
  }
  assert.ok(Math.abs(dropped / n - p) < 0.01, `dropped fraction ${dropped / n}`);
  assert.ok(Math.abs(sum / n - 1) < 0.02, `mean ${sum / n}: inverted dropout keeps the expectation`);
  assert.ok(
    dropoutMask(100, 0, new Rng(5)).every((v) => v === 1),
    'p = 0 keeps everything',
  );

  // y = x ⊙ mask and L = Σ w ⊙ y: dL/dx = w ⊙ mask, what the backward computes with applyMask on w.
  const rng = new Rng(6);
  const small = dropoutMask(50, 0.5, rng);
  const x = Float32Array.from({ length: 50 }, () => 2 * rng.uniform() - 1);
  const w = Float32Array.from({ length: 50 }, () => 2 * rng.uniform() - 1);
  const lossOf = (input: Float32Array) => {
    const y = Float32Array.from(input);
    applyMask(y, small);
    return y.reduce((s, v, i) => s + w[i] * v, 0);
  };
  const backward = Float32Array.from(w);
  applyMask(backward, small);
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + 0.5;
    const [xUp, up] = [x[i], lossOf(x)];
    x[i] = old - 0.5;
    const [xDown, down] = [x[i], lossOf(x)];
    x[i] = old;
    const quotient = (up - down) / (xUp - xDown);
    assert.ok(Math.abs(quotient - backward[i]) <= 1e-6, `x[${i}]: backward ${backward[i]}, difference quotient ${quotient}`);
  }
});
