/**
 * The transformers.js encoders, offline, on tiny models the test builds itself
 * (test/hf-fixtures.ts): shapes, unit norm, batch invariance, pooling, the
 * missing-files message, images (local folder, broken, missing) and the caches.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { huggingFaceImageSource, huggingFaceTextSource } from '../src/features/huggingface';
import { textEncoderSource } from '../src/features/encoders';
import { UserError } from '../src/util/errors';
import { IMAGE_DIM, TEXT_DIM, writeTinyImageModel, writeTinyTextModel } from './hf-fixtures';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-hf-'));
const TEXTS = [
  'Title: red soap',
  'blue lipstick cream',
  'Title: shampoo\nBrand: hair care',
  'skin care cream $ 12',
  'beauty',
  'unknownword',
  'red red red blue',
];

function rowNorm(rows: Float32Array, dim: number, i: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) s += rows[i * dim + j] ** 2;
  return Math.sqrt(s);
}

function assertClose(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `element ${i}: ${a[i]} vs ${b[i]}`);
}

describe('Hugging Face text encoder (offline, tiny model)', () => {
  const modelDir = writeTinyTextModel(path.join(tmp(), 'tiny-text'), { pooling: 'mean' });

  test('shape, unit norm, input order, batch of 1 equals the same text in a batch of 7', async () => {
    const encoder = await huggingFaceTextSource(modelDir, { modelsDir: tmp() }).load();
    assert.equal(encoder.dim, TEXT_DIM);
    assert.match(encoder.id, /^hf-tiny-text-mean-[0-9a-f]{8}$/);
    const all = await encoder.encode(TEXTS);
    assert.equal(all.length, TEXTS.length * TEXT_DIM);
    for (let i = 0; i < TEXTS.length; i++) assert.ok(Math.abs(rowNorm(all, TEXT_DIM, i) - 1) < 1e-5);
    for (let i = 0; i < TEXTS.length; i++) {
      const single = await encoder.encode([TEXTS[i]]);
      assertClose(single, all.subarray(i * TEXT_DIM, (i + 1) * TEXT_DIM));
    }
    // Different texts, different rows.
    assert.ok(all.subarray(0, TEXT_DIM).some((v, j) => Math.abs(v - all[TEXT_DIM + j]) > 1e-3));
  });

  test('pooling from 1_Pooling/config.json changes the id and the vectors; registry name hf:<folder>', async () => {
    const clsDir = writeTinyTextModel(path.join(tmp(), 'tiny-text'), { pooling: 'cls' });
    const cls = textEncoderSource(`hf:${clsDir}`, { modelsDir: tmp() });
    assert.match(cls.id, /-cls-/);
    const mean = huggingFaceTextSource(modelDir, { modelsDir: tmp() });
    assert.notEqual(cls.id, mean.id);
    const a = await (await cls.load()).encode(TEXTS.slice(0, 2));
    const b = await (await mean.load()).encode(TEXTS.slice(0, 2));
    assert.ok(a.some((v, j) => Math.abs(v - b[j]) > 1e-3));
  });

  test('a hub id without a local copy, offline: one message naming the files and the folder', async () => {
    const modelsDir = tmp();
    const source = huggingFaceTextSource('BAAI/bge-small-en-v1.5', { modelsDir, allowDownload: false });
    assert.match(source.id, /^hf-BAAI_bge-small-en-v1\.5-cls-/);
    await assert.rejects(
      source.load(),
      (err: unknown) =>
        err instanceof UserError &&
        err.message.includes(path.join(modelsDir, 'BAAI/bge-small-en-v1.5')) &&
        /tokenizer\.json/.test(err.message) &&
        /onnx\/model\.onnx/.test(err.message) &&
        /huggingface\.co\/BAAI\/bge-small-en-v1\.5/.test(err.message),
    );
  });
});

async function png(r: number, g: number, b: number, width = 20, height = 12): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}

describe('Hugging Face image encoder (offline, tiny model)', () => {
  const modelDir = writeTinyImageModel(path.join(tmp(), 'tiny-image'));

  test('JPEG, PNG and WebP; unit norm; batch invariance; a broken file gets a zero row', async () => {
    const encoder = await huggingFaceImageSource(modelDir, { modelsDir: tmp(), batchSize: 3 }).load();
    assert.equal(encoder.dim, IMAGE_DIM);
    const images: Uint8Array[] = [
      await png(200, 10, 30),
      await sharp({ create: { width: 9, height: 16, channels: 3, background: { r: 0, g: 90, b: 250 } } })
        .jpeg()
        .toBuffer(),
      await sharp({ create: { width: 16, height: 16, channels: 4, background: { r: 5, g: 200, b: 5, alpha: 1 } } })
        .webp()
        .toBuffer(),
      Buffer.from('not an image'),
      await png(120, 120, 0, 30, 8),
      await png(1, 2, 3),
      await png(250, 250, 250),
    ];
    const { rows, failed } = await encoder.encode(images);
    assert.deepEqual([...failed.keys()], [3]);
    for (let i = 0; i < images.length; i++) {
      if (i === 3) assert.equal(rowNorm(rows, IMAGE_DIM, i), 0);
      else assert.ok(Math.abs(rowNorm(rows, IMAGE_DIM, i) - 1) < 1e-5);
    }
    for (const i of [0, 2, 6]) {
      const single = await encoder.encode([images[i]]);
      assertClose(single.rows, rows.subarray(i * IMAGE_DIM, (i + 1) * IMAGE_DIM));
    }
  });

  test('item images: local folder, missing and broken listed, cache reused, interrupted run resumes', async () => {
    const { loadItemImageFeatures } = await import('../src/features/image-cache');
    const folder = tmp();
    const N = 7;
    const dataset = {
      name: 'tiny',
      numItems: N,
      sequences: [],
      userIds: [],
      itemIds: ['', ...Array.from({ length: N }, (_, i) => `A${i + 1}`)],
      items: [null, ...Array.from({ length: N }, (_, i) => ({ asin: `A${i + 1}`, ...(i === 5 ? { imageUrl: 'http://example.invalid/x.jpg' } : {}) }))],
    };
    for (let i = 1; i <= N; i++) {
      if (i === 6) continue; // only a URL, downloads off
      if (i === 4) fs.writeFileSync(path.join(folder, 'A4.jpg'), 'broken');
      else fs.writeFileSync(path.join(folder, `A${i}.png`), await png(i * 30, 255 - i * 30, 7));
    }
    const cacheDir = tmp();
    const source = huggingFaceImageSource(modelDir, { modelsDir: tmp() });
    const common = { dataset, cacheDir, encoder: source, folder, progress: false, chunkSize: 3 };
    const first = await loadItemImageFeatures({ ...common, stopAfterChunks: 1 });
    assert.equal(first.complete, false);
    assert.ok(fs.existsSync(path.join(cacheDir, `tiny.${source.id}.partial.npy`)));
    const resumed = await loadItemImageFeatures(common);
    assert.equal(resumed.complete, true);
    assert.equal(resumed.fromCache, false);
    assert.deepEqual(
      resumed.missing.map((m) => [m.item, m.asin]),
      [
        [4, 'A4'],
        [6, 'A6'],
      ],
    );
    assert.match(resumed.missing[1].problem, /downloads are off/);
    assert.ok(!fs.existsSync(path.join(cacheDir, `tiny.${source.id}.partial.npy`)));
    const fresh = await loadItemImageFeatures({ ...common, rebuild: true });
    assertClose(resumed.matrix, fresh.matrix);
    for (const i of [0, 4, 6]) assert.equal(rowNorm(fresh.matrix, IMAGE_DIM, i), 0);
    for (const i of [1, 2, 3, 5, 7]) assert.ok(Math.abs(rowNorm(fresh.matrix, IMAGE_DIM, i) - 1) < 1e-5);
    const cached = await loadItemImageFeatures(common);
    assert.equal(cached.fromCache, true);
    assert.deepEqual(cached.missing, fresh.missing);
  });

  test('fmrlrec train --text-encoder <folder> --image-model <folder> --images: [text ; image] features end to end', async () => {
    const { writeP5Dataset } = await import('../src/data/p5');
    const { generateSyntheticDataset } = await import('../src/data/synthetic');
    const { main } = await import('../src/cli/main');
    const data = path.join(tmp(), 'toy');
    const dataset = generateSyntheticDataset({ numUsers: 40, numItems: 12, numTopics: 3, maxLen: 8, seed: 3, name: 'toy' });
    writeP5Dataset(dataset, data);
    const images = tmp();
    for (let i = 1; i <= 12; i += 2) fs.writeFileSync(path.join(images, `${dataset.itemIds[i]}.png`), await png(20 * i, 100, 7));
    const textDir = writeTinyTextModel(path.join(tmp(), 'tt'), { pooling: 'mean' });
    const out = path.join(tmp(), 'run');
    const code = await main([
      'train',
      '--data',
      data,
      '--out',
      out,
      '--text-encoder',
      textDir,
      '--image-model',
      modelDir,
      '--images',
      images,
      '--cache-dir',
      tmp(),
      '--width',
      '16',
      '--epochs',
      '1',
      '--no-progress',
    ]);
    assert.equal(code, 0);
    const run = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
    assert.equal(run.features.text, `hf:${textDir}`);
    assert.equal(run.features.image, modelDir);
    assert.equal(run.features.images, images);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    assert.equal(metrics.features, `text:hf:${textDir}+attr+words+image:${modelDir}+id`);
    assert.deepEqual(metrics.dims, [8, 16]);
  });

  test('text cache through the registry and fmrlrec features on a P5 folder', async () => {
    const { writeP5Dataset } = await import('../src/data/p5');
    const { main } = await import('../src/cli/main');
    const { readNpy } = await import('../src/features/npy');
    const data = path.join(tmp(), 'toy');
    writeP5Dataset(
      {
        name: 'toy',
        numItems: 3,
        sequences: [Int32Array.from([1, 2, 3])],
        userIds: ['u'],
        itemIds: ['', 'A', 'B', 'C'],
        items: [null, { asin: 'A', title: 'red soap' }, { asin: 'B', title: 'blue cream' }, null],
      },
      data,
    );
    const images = tmp();
    fs.writeFileSync(path.join(images, 'A.png'), await png(9, 9, 200));
    const textDir = writeTinyTextModel(path.join(tmp(), 'tt'), { pooling: 'mean' });
    const cacheDir = tmp();
    const code = await main([
      'features',
      '--data',
      data,
      '--text-model',
      textDir,
      '--image-model',
      modelDir,
      '--images',
      images,
      '--cache-dir',
      cacheDir,
      '--no-progress',
    ]);
    assert.equal(code, 0);
    const files = fs.readdirSync(cacheDir).sort();
    assert.equal(files.filter((f) => f.endsWith('.npy')).length, 2);
    const textNpy = files.find((f) => f.startsWith('toy.hf-tt-') && f.endsWith('.npy')) as string;
    const text = readNpy(path.join(cacheDir, textNpy));
    assert.deepEqual(text.shape, [4, TEXT_DIM]);
    const imageSidecar = JSON.parse(
      fs.readFileSync(path.join(cacheDir, files.find((f) => f.startsWith('toy.hf-tiny-image') && f.endsWith('.json')) as string), 'utf8'),
    );
    assert.deepEqual(
      imageSidecar.missing.map((m: { asin: string }) => m.asin),
      ['B', 'C'],
    );
  });
});
