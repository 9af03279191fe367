/**
 * Model tests: finite-difference gradient checks of every layer and of the whole
 * loss, the nesting property (a sliced size-m model scores exactly like the full
 * model's size-m prefix), and padding/packing invariance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getKernels } from '../src/kernels';
import { referenceKernels as kern } from '../src/kernels/reference';
import { chunkBounds, ModelConfig } from '../src/model/config';
import { FmrlRec, recurrenceSegments } from '../src/model/fmrlrec';
import { ItemAttributes, transposeAttributes } from '../src/model/layers/item-table';
import { ffnBackward, ffnForward, declareFfn, initFfn, readFfn } from '../src/model/layers/ffn';
import { declareLayerNorm, layerNormBackward, layerNormForward, readLayerNorm } from '../src/model/layers/layer-norm';
import { declareLru, initLru, lruBackward, lruForward, readLru, scanSegments } from '../src/model/layers/lru';
import { mrlLinearBackward, mrlLinearForward, mrlLinearInit } from '../src/model/layers/mrl-linear';
import { ParamStore } from '../src/model/params';
import { parameterCount, sliceModel } from '../src/model/slice';
import { AdamW } from '../src/train/adamw';
import type { PackedBatch } from '../src/data/types';
import { Rng } from '../src/util/rng';

const DIMS = [3, 6, 10];
const BOUNDS = chunkBounds(DIMS);
const D = 10;

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (2 * rng.uniform() - 1);
  return a;
}

/** Σ w ⊙ y in float64: a random linear functional used as the loss of a layer. */
function dot(w: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i] * y[i];
  return s;
}

/** Compare an analytic gradient with central differences of f at a few indices of x. */
function checkGradient(name: string, x: Float32Array, analytic: Float32Array, f: () => number, rng: Rng, samples = 12, eps = 1e-2): void {
  const picks = new Set<number>();
  while (picks.size < Math.min(samples, x.length)) picks.add(rng.int(x.length));
  for (const i of picks) {
    const old = x[i];
    x[i] = old + eps;
    const up = f();
    x[i] = old - eps;
    const down = f();
    x[i] = old;
    const numeric = (up - down) / (2 * eps);
    const err = Math.abs(numeric - analytic[i]);
    assert.ok(err <= 2e-3 + 3e-2 * Math.max(Math.abs(numeric), Math.abs(analytic[i])), `${name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`);
  }
}

/** Check every parameter of a store plus the input, for a layer whose loss is f(). */
function checkLayer(store: ParamStore, x: Float32Array, dx: Float32Array, f: () => number, rng: Rng): void {
  checkGradient('input', x, dx, f, rng);
  for (const spec of store.specs) checkGradient(spec.name, store.value(spec.name), store.grad(spec.name), f, rng);
}

const T = 7;
const SEGMENTS = Int32Array.from([0, 1, 4, 7]);

test('MRL linear: gradients match finite differences; upper blocks get no gradient', () => {
  const rng = new Rng(1);
  const store = new ParamStore();
  store.declare('w', [D, D], true);
  store.declare('b', [D], false);
  store.allocate();
  mrlLinearInit(store.value('w'), store.value('b'), BOUNDS, () => rng.uniform());
  const x = randomArray(T * D, rng);
  const wOut = randomArray(T * D, rng);
  const f = () => {
    const y = new Float32Array(T * D);
    mrlLinearForward(kern, x, T, BOUNDS, store.value('w'), store.value('b'), y);
    return dot(wOut, y);
  };
  const dx = new Float32Array(T * D);
  mrlLinearBackward(kern, Float32Array.from(wOut), x, T, BOUNDS, store.value('w'), store.grad('w'), store.grad('b'), dx, false);
  checkLayer(store, x, dx, f, rng);
  const dw = store.grad('w');
  for (let k = 0; k < DIMS.length; k++) {
    for (let i = BOUNDS[k]; i < BOUNDS[k + 1]; i++) {
      for (let j = BOUNDS[k + 1]; j < D; j++) assert.equal(dw[i * D + j], 0, `dW[${i},${j}] above the block diagonal`);
    }
  }
  // y[:, 0:m] depends only on x[:, 0:m].
  const y1 = new Float32Array(T * D);
  mrlLinearForward(kern, x, T, BOUNDS, store.value('w'), store.value('b'), y1);
  const x2 = Float32Array.from(x);
  for (let r = 0; r < T; r++) x2[r * D + 7] += 1;
  const y2 = new Float32Array(T * D);
  mrlLinearForward(kern, x2, T, BOUNDS, store.value('w'), store.value('b'), y2);
  for (let r = 0; r < T; r++) for (let j = 0; j < 6; j++) assert.equal(y1[r * D + j], y2[r * D + j]);
});

test('MRL LayerNorm: gradients match finite differences', () => {
  const rng = new Rng(2);
  const store = new ParamStore();
  declareLayerNorm(store, 'ln', D);
  store.allocate();
  store.value('ln.weight').set(randomArray(D, rng, 1).map((v) => 1 + 0.3 * v));
  store.value('ln.bias').set(randomArray(D, rng, 0.3));
  const x = randomArray(T * D, rng);
  const wOut = randomArray(T * D, rng);
  const f = () => {
    const y = new Float32Array(T * D);
    layerNormForward(kern, readLayerNorm(store.read, 'ln', D), BOUNDS, 1e-5, x, T, y);
    return dot(wOut, y);
  };
  const y = new Float32Array(T * D);
  const cache = layerNormForward(kern, readLayerNorm(store.read, 'ln', D), BOUNDS, 1e-5, x, T, y);
  const dx = new Float32Array(T * D);
  layerNormBackward(kern, store, 'ln', BOUNDS, cache, T, Float32Array.from(wOut), dx);
  checkLayer(store, x, dx, f, rng);
});

test('LRU layer: gradients match finite differences (all parameters, imaginary parts too)', () => {
  const rng = new Rng(3);
  const store = new ParamStore();
  declareLru(store, 'lru', D);
  store.allocate();
  initLru(store, 'lru', BOUNDS, 0.5, 0.9, rng);
  // Give the imaginary maps non-zero values so their gradients are exercised.
  for (const name of ['lru.in_im.weight', 'lru.out_im.weight']) mrlLinearInit(store.value(name), null, BOUNDS, () => rng.uniform());
  store.value('lru.in_im.bias').set(randomArray(D, rng, 0.3));
  const x = randomArray(T * D, rng);
  const wOut = randomArray(T * D, rng);
  const forward = (y: Float32Array) => lruForward(kern, readLru(store.read, 'lru', D), BOUNDS, D, x, T, scanSegments(kern, SEGMENTS), null, y, 0, null);
  const f = () => {
    const y = new Float32Array(T * D);
    forward(y);
    return dot(wOut, y);
  };
  const y = new Float32Array(T * D);
  const cache = forward(y);
  const dx = new Float32Array(T * D);
  lruBackward(kern, store, 'lru', BOUNDS, cache, T, SEGMENTS, Float32Array.from(wOut), dx);
  checkLayer(store, x, dx, f, rng);
});

test('gated FFN: gradients match finite differences', () => {
  const rng = new Rng(4);
  const store = new ParamStore();
  declareFfn(store, 'ffn', D);
  store.allocate();
  initFfn(store, 'ffn', BOUNDS, () => rng.uniform());
  const x = randomArray(T * D, rng);
  const wOut = randomArray(T * D, rng);
  const f = () => {
    const y = new Float32Array(T * D);
    ffnForward(kern, readFfn(store.read, 'ffn', D), BOUNDS, D, x, T, y, 0, null);
    return dot(wOut, y);
  };
  const y = new Float32Array(T * D);
  const cache = ffnForward(kern, readFfn(store.read, 'ffn', D), BOUNDS, D, x, T, y, 0, null);
  const dx = new Float32Array(T * D);
  ffnBackward(kern, store, 'ffn', BOUNDS, cache, T, Float32Array.from(wOut), dx);
  checkLayer(store, x, dx, f, rng);
});

const NUM_ITEMS = 9;
const FEATURE_DIM = 5;

/** Sparse attributes of the tiny catalogue: 4 values, items with none, one or two of them. */
const ATTRIBUTES: ItemAttributes = {
  dim: 4,
  rowStart: Int32Array.from([0, 0, 1, 3, 3, 5, 6, 6, 8, 9, 10]),
  columns: Int32Array.from([0, 1, 3, 0, 2, 2, 1, 3, 0, 1]),
  weights: Float32Array.from([1, 0.6, 0.8, 0.5, 1.2, 1, 0.7, 0.7, 1, 1]),
};

function tinyModel(overrides: Partial<ModelConfig> = {}, seed = 7, attributes = ATTRIBUTES): FmrlRec {
  const rng = new Rng(seed + 100);
  const features = randomArray((NUM_ITEMS + 1) * FEATURE_DIM, rng);
  features.fill(0, 0, FEATURE_DIM);
  const config: ModelConfig = {
    dims: DIMS,
    numItems: NUM_ITEMS,
    featureDim: FEATURE_DIM,
    itemIdEmbedding: true,
    attributeDim: ATTRIBUTES.dim,
    numBlocks: 2,
    dropout: 0,
    layerNormEps: 1e-5,
    rMin: 0,
    rMax: 0.1,
    ...overrides,
  };
  const model = new FmrlRec(config, config.featureDim > 0 ? features : null, kern, config.attributeDim ? attributes : null);
  model.init(seed);
  return model;
}

test("attributes: Sᵀ lists each attribute's items in item order; a padding row with attributes is refused", () => {
  const t = transposeAttributes(ATTRIBUTES, NUM_ITEMS + 1);
  assert.equal(t.dim, NUM_ITEMS + 1);
  assert.deepEqual(Array.from(t.rowStart), [0, 3, 6, 8, 10]);
  assert.deepEqual(Array.from(t.columns), [1, 4, 8, 2, 7, 9, 4, 5, 2, 7]);
  assert.deepEqual(Array.from(t.weights), Array.from(Float32Array.from([1, 0.5, 1, 0.6, 0.7, 1, 1.2, 1, 0.8, 0.7])));
  const padded: ItemAttributes = {
    ...ATTRIBUTES,
    rowStart: ATTRIBUTES.rowStart.map((v) => v + 1),
    columns: Int32Array.from([0, ...ATTRIBUTES.columns]),
    weights: Float32Array.from([1, ...ATTRIBUTES.weights]),
  };
  padded.rowStart[0] = 0;
  assert.throws(() => tinyModel({}, 7, padded), /row 0 \(the padding item\) must be empty/);
});

/** Two training sequences packed: [PAD, 3, 5, 2] → [3, 5, 2, 7] and [PAD, 4] → [4, 9]. */
function trainingBatch(): PackedBatch {
  return {
    size: 2,
    offsets: Int32Array.from([0, 4, 6]),
    inputs: Int32Array.from([0, 3, 5, 2, 0, 4]),
    targets: Int32Array.from([3, 5, 2, 7, 4, 9]),
    users: Int32Array.from([0, 1]),
  };
}

/**
 * The model's loss on a batch and its gradients, then `samples` coordinates of
 * every parameter checked against central differences of that loss.
 */
function lossWithCheckedGradients(model: FmrlRec, batch: PackedBatch, seed: number, samples: number): { loss: number; lossPerSize: number[] } {
  model.params.zeroGrads();
  const { loss, lossPerSize } = model.lossAndGradients(batch, null);
  const grads = Float32Array.from(model.params.grads);
  const f = () => {
    const scratch = Float32Array.from(model.params.grads);
    const l = model.lossAndGradients(batch, null).loss;
    model.params.grads.set(scratch);
    return l;
  };
  const rng = new Rng(seed);
  for (const spec of model.params.specs) {
    checkGradient(spec.name, model.params.value(spec.name), grads.subarray(spec.offset, spec.offset + spec.size), f, rng, samples, 1e-3);
  }
  return { loss, lossPerSize };
}

test('whole loss over every size: gradients of every parameter match finite differences', () => {
  const { loss, lossPerSize } = lossWithCheckedGradients(tinyModel(), trainingBatch(), 5, 6);
  assert.ok(Number.isFinite(loss) && loss > 0);
  const mean = lossPerSize.reduce((a, b) => a + b, 0) / lossPerSize.length;
  assert.ok(Math.abs(mean - loss) < 1e-5, 'loss is the mean of the per-size losses');
});

test('weights per size: the loss is their weighted mean and the gradients are its gradients (finite differences)', () => {
  const weights = DIMS.map((_, k) => (k === 0 ? 3 : k === 1 ? 0 : 0.5));
  const { loss, lossPerSize } = lossWithCheckedGradients(tinyModel({ sizeWeights: weights }), trainingBatch(), 6, 4);
  const weighted = lossPerSize.reduce((a, l, k) => a + weights[k] * l, 0) / lossPerSize.length;
  assert.ok(Math.abs(weighted - loss) < 1e-5, `loss ${loss} is the weighted mean ${weighted}`);
  assert.throws(() => tinyModel({ sizeWeights: [1] }), /sizeWeights has 1 entries; it needs one per size/);
  assert.throws(() => tinyModel({ sizeWeights: DIMS.map(() => 0) }), /not all 0/);
});

test('ID-only model (no features) trains its item table through both ends', () => {
  const model = tinyModel({ featureDim: 0, itemIdEmbedding: true, attributeDim: 0, numBlocks: 1 });
  model.params.zeroGrads();
  const grads = model.params.grads;
  model.lossAndGradients(trainingBatch(), null);
  const g = model.params.grad('item_ids.weight');
  for (let j = 0; j < D; j++) assert.equal(g[j], 0, 'padding row has no ID gradient');
  assert.ok(grads.some((v) => v !== 0));
});

test('initialisation: p is uniform in ±1/sqrt(F) with features, and 0 without (no shared offset over the ID vectors)', () => {
  const withFeatures = tinyModel().params.value('projection.bias');
  const limit = 1 / Math.sqrt(FEATURE_DIM);
  assert.ok(withFeatures.every((v) => Math.abs(v) <= limit));
  assert.ok(withFeatures.some((v) => v !== 0));
  const idOnly = tinyModel({ featureDim: 0, itemIdEmbedding: true, attributeDim: 0 });
  assert.ok(idOnly.params.value('projection.bias').every((v) => v === 0));
  const ids = idOnly.params.value('item_ids.weight');
  assert.ok(
    ids.subarray(D).some((v) => v !== 0),
    'the ID rows are drawn',
  );
  assert.ok(
    idOnly
      .itemTable()
      .subarray(0, D)
      .every((v) => v === 0),
    'the padding row of the table is zero',
  );
});

test('nesting: a model sliced to size m scores exactly like the full model at size m', () => {
  const model = tinyModel();
  // Move the weights away from initialisation with a few optimiser steps.
  const adam = new AdamW(model.params.length, model.params.specs, { beta1: 0.9, beta2: 0.999, eps: 1e-9, weightDecay: 0.01 }, model.kern);
  for (let s = 0; s < 5; s++) {
    model.params.zeroGrads();
    model.lossAndGradients(trainingBatch(), new Rng(s));
    adam.update(model.params.values, model.params.grads, 0.05);
  }
  const batch = trainingBatch();
  const eFull = model.itemTable();
  const hFull = model.hiddenStates(batch, eFull);
  const t = batch.offsets[batch.size];
  for (const m of DIMS) {
    const small = sliceModel(model, m);
    assert.equal(small.width, m);
    const eSmall = small.itemTable();
    const hSmall = small.hiddenStates(batch, eSmall);
    for (let r = 0; r < t; r++) {
      for (let item = 0; item <= NUM_ITEMS; item++) {
        let full = 0;
        let sliced = 0;
        for (let j = 0; j < m; j++) {
          full += hFull[r * D + j] * eFull[item * D + j];
          sliced += hSmall[r * m + j] * eSmall[item * m + j];
        }
        assert.ok(Math.abs(full - sliced) <= 1e-5, `size ${m}, row ${r}, item ${item}: ${full} vs ${sliced}`);
      }
    }
  }
  assert.ok(parameterCount(sliceModel(model, 3)) < parameterCount(model));
});

test('padding never changes a real position, and packing does not change a sequence', () => {
  const model = tinyModel();
  const e = model.itemTable();
  const alone: PackedBatch = {
    size: 1,
    offsets: Int32Array.from([0, 3]),
    inputs: Int32Array.from([3, 5, 2]),
    targets: new Int32Array(3),
    users: Int32Array.from([0]),
  };
  const withPad: PackedBatch = {
    size: 1,
    offsets: Int32Array.from([0, 4]),
    inputs: Int32Array.from([0, 3, 5, 2]),
    targets: new Int32Array(4),
    users: Int32Array.from([0]),
  };
  const packed: PackedBatch = {
    size: 2,
    offsets: Int32Array.from([0, 2, 5]),
    inputs: Int32Array.from([7, 8, 3, 5, 2]),
    targets: new Int32Array(5),
    users: Int32Array.from([1, 0]),
  };
  const a = model.hiddenStates(alone, e);
  const p = model.hiddenStates(withPad, e).subarray(D);
  const k = model.hiddenStates(packed, e).subarray(2 * D);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - p[i]) < 1e-6, 'leading padding changed a real position');
    assert.ok(Math.abs(a[i] - k[i]) < 1e-6, 'packing changed a sequence');
  }
  assert.deepEqual(Array.from(recurrenceSegments(withPad)), [0, 1, 4]);
});

test("evaluation's last-position saving: lastHiddenStates is exactly the last row of each sequence in hiddenStates (TypeScript twin and selected kernels)", () => {
  const twin = tinyModel();
  const selected = new FmrlRec(twin.config, twin.features, getKernels(), twin.attributes);
  selected.params.values.set(twin.params.values);
  const batch: PackedBatch = {
    size: 3,
    offsets: Int32Array.from([0, 4, 5, 8]),
    inputs: Int32Array.from([0, 3, 5, 2, 0, 7, 8, 1]),
    targets: new Int32Array(8),
    users: Int32Array.from([0, 1, 2]),
  };
  for (const model of [twin, selected]) {
    const e = model.itemTable();
    const all = model.hiddenStates(batch, e);
    const last = model.lastHiddenStates(batch, e);
    assert.equal(last.length, batch.size * D);
    for (let b = 0; b < batch.size; b++) {
      const r = batch.offsets[b + 1] - 1;
      assert.deepEqual(last.subarray(b * D, (b + 1) * D), all.subarray(r * D, (r + 1) * D), `${model.kern.name}, sequence ${b}`);
    }
  }
});
