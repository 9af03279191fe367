/**
 * Export tests: an exported size-m folder, loaded by the plain-TypeScript
 * engine, gives the full model's size-m scores (max abs difference <= 1e-5);
 * the every-size export and its index; manifest contents; output folder safety.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportAllSizes, exportSize } from '../src/deploy/export';
import { INDEX_FILE, ITEMS_FILE, MANIFEST_FILE, SizeManifest } from '../src/deploy/format';
import { parameterCount, sliceModel } from '../src/model/slice';
import { loadModelFolder } from '../src/serve/model-folder';
import { UserError } from '../src/util/errors';
import { fullModelScores, maxAbsDiff, tempDir, tinyModel, tinySource } from './deploy-fixtures';

/** A few histories of the tiny dataset: users' sequences, a long one, and the empty history. */
function histories(sequences: Int32Array[], numItems: number): number[][] {
  const long = Array.from({ length: 70 }, (_, i) => 1 + ((i * 7) % numItems));
  return [[], [1], Array.from(sequences[0]), Array.from(sequences[1]), Array.from(sequences[5]).slice(0, 2), long];
}

for (const variant of [
  { itemIds: false, numBlocks: 2 },
  { itemIds: true, numBlocks: 1 },
]) {
  test(`export: every exported size scores like the full model's size-m prefix (item ids ${variant.itemIds}, ${variant.numBlocks} block(s))`, () => {
    const tiny = tinyModel(variant);
    const source = tinySource(tiny);
    const out = tempDir('export');
    for (const m of tiny.model.config.dims) {
      const dir = path.join(out, `m${m}`);
      exportSize(source, m, dir);
      const { engine } = loadModelFolder(dir);
      assert.equal(engine.width, m);
      for (const history of histories(tiny.dataset.sequences, tiny.dataset.numItems)) {
        const expected = fullModelScores(tiny.model, history, m);
        const got = engine.scoreAll(engine.userVector(history, m), m);
        const diff = maxAbsDiff(expected, got);
        assert.ok(diff <= 1e-5, `size ${m}, history of ${history.length}: max abs difference ${diff}`);
      }
    }
  });
}

test('export: --size all writes one folder per size and an index; the folder serves every size exactly', () => {
  const tiny = tinyModel();
  const source = tinySource(tiny);
  const out = tempDir('export-all');
  const seen: number[] = [];
  const index = exportAllSizes(source, out, { onSize: (manifest) => seen.push(manifest.size) });
  assert.deepEqual(seen, tiny.model.config.dims);
  assert.deepEqual(
    index.sizes.map((s) => s.size),
    tiny.model.config.dims,
  );
  assert.ok(fs.existsSync(path.join(out, INDEX_FILE)));
  const loaded = loadModelFolder(out);
  assert.ok(loaded.index);
  assert.equal(loaded.engine.width, 16);
  const history = Array.from(tiny.dataset.sequences[3]);
  for (const m of tiny.model.config.dims) {
    const single = loadModelFolder(path.join(out, `size-${m}`)).engine;
    const fromAll = loaded.engine.scoreAll(loaded.engine.userVector(history, m), m);
    const fromSingle = single.scoreAll(single.userVector(history, m), m);
    assert.ok(maxAbsDiff(fromAll, fromSingle) <= 1e-6, `size ${m}`);
    assert.ok(maxAbsDiff(fromAll, fullModelScores(tiny.model, history, m)) <= 1e-5, `size ${m} vs full model`);
  }
});

test('export: the manifest records parameters, bytes and metrics of the size; items.json maps ids, ASINs and titles', () => {
  const tiny = tinyModel({ itemIds: true });
  const source = tinySource(tiny);
  const dir = tempDir('export-manifest');
  exportSize(source, 8, dir, { force: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as SizeManifest;
  assert.equal(manifest.size, 8);
  assert.deepEqual(manifest.dims, [4, 8]);
  assert.equal(manifest.parameters, parameterCount(sliceModel(tiny.model, 8)));
  let total = 0;
  for (const [file, bytes] of Object.entries(manifest.bytes)) {
    if (file === 'total') continue;
    assert.equal(bytes, fs.statSync(path.join(dir, file)).size, file);
    total += bytes;
  }
  assert.equal(manifest.bytes.total, total);
  assert.deepEqual(manifest.metrics?.valid, { 'Recall@10': 0.008, 'NDCG@10': 0.004 });
  const items = JSON.parse(fs.readFileSync(path.join(dir, ITEMS_FILE), 'utf8'));
  assert.equal(items.length, tiny.dataset.numItems);
  assert.deepEqual(items[0], { id: 1, asin: tiny.dataset.itemIds[1], title: tiny.dataset.items[1]?.title ?? '' });
  const { catalogue } = loadModelFolder(dir);
  assert.equal(catalogue.resolve(tiny.dataset.itemIds[5]), 5);
});

test('export: refuses a size outside the ladder, a folder with other files, and an earlier export unless forced (messages name no CLI flag)', () => {
  const tiny = tinyModel();
  const source = tinySource(tiny);
  const dir = tempDir('export-refuse');
  assert.throws(
    () => exportSize(source, 12, path.join(dir, 'a')),
    (e: Error) => e instanceof UserError && /not in the model's ladder/.test(e.message),
  );
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  assert.throws(() => exportSize(source, 8, dir, { force: true }), /not an fmrlrec export/);
  assert.ok(fs.existsSync(path.join(dir, 'notes.txt')));
  const target = path.join(dir, 'model');
  exportSize(source, 8, target);
  assert.throws(
    () => exportSize(source, 4, target),
    (e: Error) => e instanceof UserError && e.code === 'export-exists' && !/--/.test(e.message),
  );
  exportSize(source, 4, target, { force: true });
  assert.equal(loadModelFolder(target).engine.width, 4);
  assert.throws(() => loadModelFolder(dir), /not an exported model/);
});
