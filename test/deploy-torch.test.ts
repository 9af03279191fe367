/**
 * Interchange with the authors' PyTorch names (docs/method.md §6): the reference
 * state_dict has the expected names and shapes, import → export-torch
 * round-trips bit for bit, an imported run scores like the model it came from,
 * and what cannot be interchanged is refused with a clear message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { writeP5Dataset } from '../src/data/p5';
import { generateSyntheticDataset } from '../src/data/synthetic';
import { exportSize } from '../src/deploy/export';
import { loadTrainedRun } from '../src/run/trained-run';
import { exportTorchRun, importTorchRun } from '../src/deploy/torch-run';
import { FeatureParts, fromTorchStateDict, toTorchStateDict } from '../src/deploy/torch-state-dict';
import { referenceKernels } from '../src/kernels/reference';
import { evaluateRun } from '../src/run/execute';
import { loadModelFolder } from '../src/serve/model-folder';
import type { Tensor } from '../src/util/safetensors';
import { readSafetensors, writeSafetensors } from '../src/util/safetensors-file';
import { fullModelScores, maxAbsDiff, tempDir, Tiny, tinyModel, tinySource } from './deploy-fixtures';

/** The tiny model's features split as text (first 4 columns) + image (last 2). */
function featureParts(tiny: Tiny): FeatureParts {
  const rows = tiny.model.numRows;
  const lang = new Float32Array(rows * 4);
  const img = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    lang.set(tiny.features.subarray(r * 6, r * 6 + 4), r * 4);
    img.set(tiny.features.subarray(r * 6 + 4, r * 6 + 6), r * 2);
  }
  return { lang, langDim: 4, img, imgDim: 2 };
}

/** A reference-style weights file and the dataset folder of a tiny model. */
function referenceFiles(tiny: Tiny) {
  const dir = tempDir('torch');
  const data = path.join(dir, 'data');
  writeP5Dataset(tiny.dataset, data);
  const weights = path.join(dir, 'ref.safetensors');
  writeSafetensors(weights, toTorchStateDict(tiny.model, featureParts(tiny), 'in-process'));
  return { dir, data, weights };
}

test('export-torch: the reference names and shapes (MRL chunk k = mrl_linear_k [|C(k)|, m_k]; complex as trailing 2)', () => {
  const tiny = tinyModel({ dims: [4, 8, 16], numBlocks: 2 });
  const sd = toTorchStateDict(tiny.model, featureParts(tiny), 'in-process');
  const shape = (name: string) => sd[name]?.shape;
  const n1 = tiny.dataset.numItems + 1;
  assert.deepEqual(shape('embedding.token_lang.weight'), [n1, 4]);
  assert.deepEqual(shape('embedding.token_img.weight'), [n1, 2]);
  assert.deepEqual(shape('embedding.projector.weight'), [16, 6]);
  assert.deepEqual(shape('embedding.projector.bias'), [16]);
  for (const b of [0, 1]) {
    const p = `model.lru_blocks.${b}`;
    assert.deepEqual(shape(`${p}.lru_layer.params_log`), [3, 16]);
    for (const [k, rows, cols] of [
      [0, 4, 4],
      [1, 4, 8],
      [2, 8, 16],
    ]) {
      assert.deepEqual(shape(`${p}.input_layernorm.layernorm_${k}.weight`), [rows]);
      assert.deepEqual(shape(`${p}.post_lru_layernorm.layernorm_${k}.bias`), [rows]);
      assert.deepEqual(shape(`${p}.lru_layer.in_proj.mrl_linear_${k}.weight`), [rows, cols, 2]);
      assert.deepEqual(shape(`${p}.lru_layer.out_proj.mrl_linear_${k}.bias`), [rows, 2]);
      for (const f of ['gate', 'w_1', 'w_2']) assert.deepEqual(shape(`${p}.feed_forward.${f}.mrl_linear_${k}.weight`), [rows, cols]);
    }
  }
  assert.equal(Object.keys(sd).length, 4 + 2 * (1 + 3 * (2 * 2 + 2 * 2 + 3 * 2)));
  // Chunk 1 of w_1, row 0 = our row 4, columns 0..7; the imaginary part of out_proj's bias is written as 0.
  const w1 = tiny.model.params.value('blocks.0.ffn.w1.weight');
  assert.deepEqual(Array.from(sd['model.lru_blocks.0.feed_forward.w_1.mrl_linear_1.weight'].data.subarray(0, 8)), Array.from(w1.subarray(4 * 16, 4 * 16 + 8)));
  const inIm = tiny.model.params.value('blocks.0.lru.in_im.weight');
  assert.equal(sd['model.lru_blocks.0.lru_layer.in_proj.mrl_linear_2.weight'].data[2 * (3 * 16 + 5) + 1], inIm[(8 + 3) * 16 + 5]);
  const outBias = sd['model.lru_blocks.1.lru_layer.out_proj.mrl_linear_2.bias'].data;
  for (let i = 1; i < outBias.length; i += 2) assert.equal(outBias[i], 0);
});

test('import-torch then export-torch round-trips bit for bit; the imported run scores like the original', async () => {
  const tiny = tinyModel({ dims: [4, 8, 16], numBlocks: 2 });
  const files = referenceFiles(tiny);
  const run = path.join(files.dir, 'run');
  const summary = importTorchRun(files.weights, files.data, run, { kern: referenceKernels });
  assert.deepEqual(summary, { dims: [4, 8, 16], numBlocks: 2, numItems: tiny.dataset.numItems, langDim: 4, imgDim: 2 });
  const loaded = await loadTrainedRun(run, { kern: referenceKernels, metrics: false });
  for (const spec of tiny.model.params.specs) assert.deepEqual(loaded.model.params.value(spec.name), tiny.model.params.value(spec.name), spec.name);

  const back = path.join(files.dir, 'back.safetensors');
  await exportTorchRun(run, back, { kern: referenceKernels });
  const original = readSafetensors(files.weights).tensors;
  const roundTrip = readSafetensors(back).tensors;
  assert.deepEqual(Object.keys(roundTrip).sort(), Object.keys(original).sort());
  for (const name of Object.keys(original)) {
    assert.deepEqual(roundTrip[name].shape, original[name].shape, name);
    assert.deepEqual(roundTrip[name].data, original[name].data, name);
  }

  const withMetrics = await loadTrainedRun(run, { kern: referenceKernels });
  assert.ok(withMetrics.metrics && withMetrics.metrics.valid['16']['Recall@10'] >= 0, 'an imported run gets validation metrics computed');
  const evaluated = await evaluateRun(run, { kern: referenceKernels });
  assert.deepEqual(evaluated.report.valid, withMetrics.metrics.valid, '`fmrlrec eval` works on an imported run');
  const exported = path.join(files.dir, 'size-8');
  exportSize({ ...tinySource(tiny), model: withMetrics.model, metrics: withMetrics.metrics }, 8, exported);
  const { engine } = loadModelFolder(exported);
  const history = Array.from(tiny.dataset.sequences[1]);
  assert.ok(maxAbsDiff(engine.scoreAll(engine.userVector(history, 8), 8), fullModelScores(tiny.model, history, 8)) <= 1e-5);
});

test("import-torch: the imaginary part of out_proj's bias is dropped (it has no effect); bad files are refused naming the tensor", () => {
  const tiny = tinyModel({ dims: [4, 8], numBlocks: 1 });
  const sd = toTorchStateDict(tiny.model, featureParts(tiny), 'in-process');
  const outBias = 'model.lru_blocks.0.lru_layer.out_proj.mrl_linear_0.bias';
  const withImag: Record<string, Tensor> = { ...sd, [outBias]: { data: sd[outBias].data.map((v, i) => (i % 2 === 1 ? 0.5 : v)), shape: sd[outBias].shape } };
  const a = fromTorchStateDict(withImag, 'ref.safetensors');
  const b = fromTorchStateDict(sd, 'ref.safetensors');
  for (const [name, values] of b.params) assert.deepEqual(a.params.get(name), values, name);

  const without = { ...sd };
  delete without['model.lru_blocks.0.feed_forward.w_2.mrl_linear_1.weight'];
  assert.throws(
    () => fromTorchStateDict(without, 'ref.safetensors'),
    /ref\.safetensors: tensor model\.lru_blocks\.0\.feed_forward\.w_2\.mrl_linear_1\.weight is missing/,
  );
  const wrong = { ...sd, 'model.lru_blocks.0.lru_layer.params_log': { data: new Float32Array(16), shape: [2, 8] } };
  assert.throws(() => fromTorchStateDict(wrong, 'ref.safetensors'), /params_log has shape \[2,8\], expected \[3,8\]/);
  const extra = { ...sd, 'embedding.token.weight': { data: new Float32Array(4), shape: [2, 2] } };
  assert.throws(() => fromTorchStateDict(extra, 'ref.safetensors'), /does not have \(embedding\.token\.weight\)/);
  assert.throws(() => fromTorchStateDict({}, 'ref.safetensors'), /is this a state_dict of the fMRLRec reference model/);
});

test('export-torch refuses a model with learned item-ID vectors; import-torch refuses a mismatched dataset', () => {
  const hybrid = tinyModel({ itemIds: true });
  assert.throws(() => toTorchStateDict(hybrid.model, featureParts(hybrid), 'runs/x'), /runs\/x: the model has learned item-ID or attribute vectors/);
  const tiny = tinyModel();
  const files = referenceFiles(tiny);
  const otherData = path.join(files.dir, 'other');
  writeP5Dataset(generateSyntheticDataset({ numUsers: 30, numItems: 20, seed: 3, minLen: 3, maxLen: 8 }), otherData);
  assert.throws(
    () => importTorchRun(files.weights, otherData, path.join(files.dir, 'r2'), { kern: referenceKernels }),
    /feature tables have \d+ rows, but .* has \d+ items/,
  );
  importTorchRun(files.weights, files.data, path.join(files.dir, 'r3'), { kern: referenceKernels });
  assert.throws(() => importTorchRun(files.weights, files.data, path.join(files.dir, 'r3'), { kern: referenceKernels }), /is not empty/);
});
