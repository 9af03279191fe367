/**
 * PyTorch equivalence without Python: test/fixtures/reference-equivalence.safetensors
 * holds a small model's weights in the authors' state_dict names (sizes 4, 8, 16;
 * 2 blocks; 30 items; text + image features, plus the project's item-ID and
 * attribute vectors), one batch, and what the PyTorch mirror of the authors'
 * code (bench/reference/fmrlrec_torch.py) computed from them in float64: the
 * loss, the loss of each size, the gradient of every weight and the scores of
 * every size at every position. The project imports the weights through its
 * state_dict reader (src/deploy/torch-state-dict.ts), runs the batch packed
 * (the mirror ran it left-padded to L = 7, then 8 for its scan), and must agree
 * to float32 accuracy, with the TypeScript twin and with the native kernels.
 *
 * Regenerate the fixture (needs python3 with torch; Debian: apt-get install python3-torch):
 *     python3 bench/reference/make_fixture.py
 * The file records the torch version that wrote it; bench/reference/README.md says more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PackedBatch } from '../src/data/types';
import { applyTorchModel, fromTorchStateDict } from '../src/deploy/torch-state-dict';
import { getKernels, referenceKernels, type Kernels } from '../src/kernels';
import { FmrlRec } from '../src/model/fmrlrec';
import { ATTRIBUTE_EMBEDDING, ITEM_ID_EMBEDDING, type ItemAttributes } from '../src/model/layers/item-table';
import { concatColumns } from '../src/deploy/reference-features';
import { decodeSafetensors, type Tensor } from '../src/util/safetensors';

const FIXTURE = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'reference-equivalence.safetensors');

/**
 * float32 against the float64 reference: the largest difference within a
 * tensor, relative to the tensor's largest reference value. Measured with the
 * twin and the native kernels (avx512, avx2, baseline): at most 2e-8 for the
 * loss, 1e-7 for the scores, 7e-7 for the gradients.
 */
const LOSS_RTOL = 1e-6;
const SCORE_RTOL = 1e-6;
const GRAD_RTOL = 1e-5;

/** Parameters the project has and the authors' model does not: stored under the project's names. */
const PROJECT_ONLY = [ITEM_ID_EMBEDDING, ATTRIBUTE_EMBEDDING];

interface Fixture {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

function loadFixture(): Fixture {
  return decodeSafetensors(fs.readFileSync(FIXTURE), FIXTURE);
}

function f32(fx: Fixture, name: string): Float32Array {
  const t = fx.tensors[name];
  assert.ok(t && t.data instanceof Float32Array, `${name}: float32 tensor in the fixture`);
  return t.data;
}

function i32(fx: Fixture, name: string): Int32Array {
  const t = fx.tensors[name];
  assert.ok(t && t.data instanceof Int32Array, `${name}: int32 tensor in the fixture`);
  return t.data;
}

function f64(fx: Fixture, name: string): Float64Array {
  const t = fx.tensors[name];
  assert.ok(t && t.data instanceof Float64Array, `${name}: float64 tensor in the fixture`);
  return t.data;
}

/** The authors' state_dict part of the fixture, with the values of `prefix`-named tensors (weights: ''; gradients: 'grad.'). */
function stateDict(fx: Fixture, prefix: string): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(fx.tensors)) {
    if (!name.startsWith('embedding.') && !name.startsWith('model.')) continue;
    // The frozen feature tables have no gradient: the weights' own tables stand in for them.
    const source = name.startsWith('embedding.token_') ? name : prefix + name;
    out[name] = { data: f32(fx, source), shape: fx.tensors[source].shape };
  }
  return out;
}

/** Sparse rows (the project's layout) of the dense attribute matrix the mirror used. */
function sparseAttributes(dense: Float32Array, rows: number, dim: number): ItemAttributes {
  const rowStart = new Int32Array(rows + 1);
  const columns: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) {
      if (dense[i * dim + j] !== 0) {
        columns.push(j);
        weights.push(dense[i * dim + j]);
      }
    }
    rowStart[i + 1] = columns.length;
  }
  return { dim, rowStart, columns: Int32Array.from(columns), weights: Float32Array.from(weights) };
}

/** The fixture's model with the project's layers, weights imported through the state_dict reader. */
function importedModel(fx: Fixture, kern: Kernels): FmrlRec {
  const imported = fromTorchStateDict(stateDict(fx, ''), FIXTURE);
  assert.deepEqual(imported.dims, fx.metadata.dims.split(',').map(Number));
  assert.equal(imported.numBlocks, Number(fx.metadata.num_blocks));
  const rows = imported.numRows;
  const { lang, langDim, img, imgDim } = imported.features;
  const [, attributeDim] = fx.tensors['input.attributes'].shape;
  const model = new FmrlRec(
    {
      dims: imported.dims,
      numItems: rows - 1,
      featureDim: langDim + imgDim,
      itemIdEmbedding: true,
      attributeDim,
      numBlocks: imported.numBlocks,
      dropout: 0,
      layerNormEps: 1e-5,
      rMin: 0,
      rMax: 0.1,
    },
    concatColumns(lang, langDim, img, imgDim, rows),
    kern,
    sparseAttributes(f32(fx, 'input.attributes'), rows, attributeDim),
  );
  for (const name of PROJECT_ONLY) imported.params.set(name, f32(fx, name));
  applyTorchModel(model, imported); // throws unless every parameter of the model is set
  return model;
}

/** The fixture's left-padded batch as the project packs it: sequence b is the last lengths[b] positions. */
function packedBatch(fx: Fixture): { batch: PackedBatch; maxLen: number } {
  const tokens = i32(fx, 'input.tokens');
  const labels = i32(fx, 'input.labels');
  const lengths = i32(fx, 'input.lengths');
  const [size, maxLen] = fx.tensors['input.tokens'].shape;
  const offsets = new Int32Array(size + 1);
  for (let b = 0; b < size; b++) offsets[b + 1] = offsets[b] + lengths[b];
  const inputs = new Int32Array(offsets[size]);
  const targets = new Int32Array(offsets[size]);
  for (let b = 0; b < size; b++) {
    for (let p = 0; p < maxLen - lengths[b]; p++) {
      assert.ok(tokens[b * maxLen + p] === 0 && labels[b * maxLen + p] === 0, `sequence ${b}: position ${p} is left padding`);
    }
    for (let i = 0; i < lengths[b]; i++) {
      inputs[offsets[b] + i] = tokens[b * maxLen + maxLen - lengths[b] + i];
      targets[offsets[b] + i] = labels[b * maxLen + maxLen - lengths[b] + i];
    }
  }
  return { batch: { size, offsets, inputs, targets, users: Int32Array.from({ length: size }, (_, b) => b) }, maxLen };
}

/** Largest |got − want| over the largest |want|. */
function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

for (const kern of [referenceKernels, getKernels()]) {
  test(`PyTorch fixture (${kern.name} kernels): loss, loss per size and every gradient equal the reference's`, (t) => {
    const fx = loadFixture();
    const model = importedModel(fx, kern);
    const { batch } = packedBatch(fx);
    model.params.zeroGrads();
    const result = model.lossAndGradients(batch, null);
    const loss = f64(fx, 'output.loss')[0];
    assert.ok(Math.abs(result.loss - loss) <= LOSS_RTOL * loss, `loss ${result.loss} vs PyTorch ${loss}`);
    assert.ok(
      relativeError(result.lossPerSize, f64(fx, 'output.loss_per_size')) <= LOSS_RTOL,
      `loss per size ${result.lossPerSize} vs PyTorch ${Array.from(f64(fx, 'output.loss_per_size'))}`,
    );

    const reference = fromTorchStateDict(stateDict(fx, 'grad.'), `${FIXTURE} (gradients)`).params;
    for (const name of PROJECT_ONLY) reference.set(name, f32(fx, `grad.${name}`));
    // The reference's out_proj bias is complex; only its real part reaches the output, so the project keeps no
    // imaginary part and the reference's gradient of it must be exactly 0.
    for (const name of Object.keys(fx.tensors).filter((n) => /^grad\..*out_proj\.mrl_linear_\d+\.bias$/.test(n))) {
      f32(fx, name).forEach((g, i) => {
        if (i % 2 === 1) assert.equal(g, 0, `${name}: imaginary part`);
      });
    }
    const worst: string[] = [];
    let largest = 0;
    for (const spec of model.params.specs) {
      const want = reference.get(spec.name);
      assert.ok(want, `the fixture has the gradient of ${spec.name}`);
      const err = relativeError(model.params.grad(spec.name), want);
      largest = Math.max(largest, err);
      if (err > GRAD_RTOL) worst.push(`${spec.name}: ${err.toExponential(2)}`);
    }
    t.diagnostic(`loss ${(Math.abs(result.loss - loss) / loss).toExponential(2)} relative; largest gradient difference ${largest.toExponential(2)} relative`);
    assert.deepEqual(worst, [], `gradients off by more than ${GRAD_RTOL} relative`);
  });

  test(`PyTorch fixture (${kern.name} kernels): scores of every size at every position equal the reference's`, (t) => {
    const fx = loadFixture();
    const model = importedModel(fx, kern);
    const { batch, maxLen } = packedBatch(fx);
    const e = model.itemTable();
    const h = model.hiddenStates(batch, e);
    const [k, , , n1] = fx.tensors['output.scores'].shape;
    assert.equal(k, model.config.dims.length);
    assert.equal(n1, model.numRows);
    const want = f32(fx, 'output.scores');
    const d = model.width;
    const got: number[] = [];
    const expected: number[] = [];
    model.config.dims.forEach((m, size) => {
      for (let b = 0; b < batch.size; b++) {
        const len = batch.offsets[b + 1] - batch.offsets[b];
        for (let i = 0; i < len; i++) {
          const row = batch.offsets[b] + i;
          const base = ((size * batch.size + b) * maxLen + maxLen - len + i) * n1;
          for (let item = 0; item < n1; item++) {
            let s = 0;
            for (let j = 0; j < m; j++) s += h[row * d + j] * e[item * d + j];
            got.push(s);
            expected.push(want[base + item]);
          }
        }
      }
    });
    const err = relativeError(got, expected);
    t.diagnostic(`scores differ by ${err.toExponential(2)} relative`);
    assert.ok(err <= SCORE_RTOL, `scores differ by ${err.toExponential(2)} relative`);
  });
}
