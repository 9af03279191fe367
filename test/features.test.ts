/**
 * Item features: template, .npy I/O, the feature cache (with a tiny counting
 * encoder) and the built-in Universal Sentence Encoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Dataset, ItemInfo } from '../src/data/types';
import { UserError } from '../src/util/errors';
import {
  attributeFeatures,
  createTextEncoder,
  DEFAULT_TEXT_ENCODER,
  itemText,
  itemTextsSha256,
  loadItemFeatures,
  normalizeRows,
  readNpy,
  textEncoderNames,
  textEncoderSource,
  titleWords,
  writeNpy,
  type CacheSidecar,
  type TextEncoder,
  type TextEncoderSource,
} from '../src/features';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-features-'));
}

// ---------------------------------------------------------------- template

test('itemText: all fields in template order', () => {
  const info: ItemInfo = { asin: 'B0', title: 'Red Lipstick', price: 9.99, brand: 'Acme', categories: ['Makeup', 'Lips'] };
  assert.equal(itemText(info), 'Title: Red Lipstick\nPrice: 9.99\nBrand: Acme\nCategories: Makeup, Lips');
});

test('itemText: missing and blank fields are left out, text kept as is', () => {
  assert.equal(itemText({ title: 'OPI Nail Lacquer', categories: ['Nails'] }), 'Title: OPI Nail Lacquer\nCategories: Nails');
  assert.equal(itemText({ brand: 'OPI', price: '$5.00', title: '  ' }), 'Price: $5.00\nBrand: OPI');
  assert.equal(itemText({ title: 'x', price: Number.NaN }), 'Title: x');
});

test('itemText: empty categories are left out', () => {
  assert.equal(itemText({ title: 'T', categories: [] }), 'Title: T');
  assert.equal(itemText({ title: 'T', categories: ['', ' ', 'Face'] }), 'Title: T\nCategories: Face');
});

test('itemText: an item with no attribute is "Untitled Item"', () => {
  assert.equal(itemText(null), 'Untitled Item');
  assert.equal(itemText({}), 'Untitled Item');
  assert.equal(itemText({ asin: 'B0', imageUrl: 'http://x/y.jpg', categories: [] }), 'Untitled Item');
});

// ---------------------------------------------------------------- attributes

test('attributes: shared brands (case-folded) and categories become unit-length sparse rows', () => {
  const items: (ItemInfo | null)[] = [
    null,
    { brand: 'OPI', categories: ['Makeup', 'Nails'] },
    { brand: 'opi', categories: ['Makeup', 'Skin'] },
    { brand: 'Solo', categories: ['Skin'] },
    { title: 'no attributes' },
    null,
  ];
  const a = attributeFeatures(items);
  assert.deepEqual(a.vocabulary, ['brand:opi', 'category:Makeup', 'category:Skin']);
  assert.equal(a.dim, 3);
  assert.deepEqual(Array.from(a.rowStart), [0, 0, 2, 5, 6, 6, 6]); // "Solo" (one item's brand) and "Nails" left out
  assert.deepEqual(Array.from(a.columns), [0, 1, 0, 1, 2, 2]);
  const expected = [2, 2, 3, 3, 3, 1].map((n) => Math.fround(1 / Math.sqrt(n)));
  assert.deepEqual(Array.from(a.weights), expected);
  assert.equal(attributeFeatures(items, { brandAndCategory: true, titleWords: false }, 1).dim, 5);
});

test('attributes: title words are lower-case letter-digit tokens of 2+ characters, shared ones kept', () => {
  assert.deepEqual(titleWords('OPI Nail Lacquer, 0.5 fl. oz - "Big Apple Red" (NL-N25) 2 x'), [
    'opi',
    'nail',
    'lacquer',
    'fl',
    'oz',
    'big',
    'apple',
    'red',
    'nl',
    'n25',
  ]);
  const items: (ItemInfo | null)[] = [
    null,
    { title: 'Matte Red Lipstick', brand: 'OPI' },
    { title: 'red lipstick, matte finish', brand: 'opi' },
    { title: 'Blue Polish' },
  ];
  const words = attributeFeatures(items, { brandAndCategory: false, titleWords: true });
  assert.deepEqual(words.vocabulary, ['word:lipstick', 'word:matte', 'word:red']);
  assert.deepEqual(Array.from(words.rowStart), [0, 0, 3, 6, 6]);
  const both = attributeFeatures(items, { brandAndCategory: true, titleWords: true });
  assert.deepEqual(both.vocabulary, ['brand:opi', 'word:lipstick', 'word:matte', 'word:red']);
  assert.deepEqual(Array.from(both.weights.subarray(0, 4)), Array(4).fill(0.5));
});

// ---------------------------------------------------------------- npy

// numpy.save(f, np.arange(6, dtype='<f4').reshape(2, 3) * 0.5), numpy 2.4.
const NUMPY_2X3 = Buffer.from(
  '934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73' +
    '652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020' +
    '202020202020202020202020202020202020202020202020202020202020200a000000000000003f0000803f0000c03f' +
    '0000004000002040',
  'hex',
);

test('npy: numpy-written file parses, and writeNpy writes the same bytes', () => {
  const dir = tempDir();
  const file = path.join(dir, 'numpy.npy');
  fs.writeFileSync(file, NUMPY_2X3);
  const { data, shape } = readNpy(file);
  assert.deepEqual(shape, [2, 3]);
  assert.deepEqual(Array.from(data), [0, 0.5, 1, 1.5, 2, 2.5]);
  const mine = path.join(dir, 'mine.npy');
  writeNpy(mine, data, shape);
  assert.deepEqual(fs.readFileSync(mine), NUMPY_2X3);
  fs.rmSync(dir, { recursive: true });
});

test('npy: round trip of several shapes, data 64-byte aligned', () => {
  const dir = tempDir();
  for (const shape of [[5, 7], [4], [0, 3], [2, 3, 4], [1, 1]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1e3);
    const file = path.join(dir, `a${shape.join('x')}.npy`);
    writeNpy(file, data, shape);
    const bytes = fs.readFileSync(file);
    assert.equal((bytes.length - n * 4) % 64, 0);
    const back = readNpy(file);
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(back.data, data);
  }
  assert.throws(() => writeNpy(path.join(dir, 'bad.npy'), new Float32Array(5), [2, 3]), /does not hold 5 values/);
  fs.rmSync(dir, { recursive: true });
});

test('npy: hand-built version 2.0 header with other key order and spacing', () => {
  const dir = tempDir();
  const dict = "{'shape':(2,2),'fortran_order':False,'descr':'<f4'}";
  const header = Buffer.from(dict.padEnd(64 - 12 - 1, ' ') + '\n', 'latin1');
  const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0]);
  preamble.writeUInt32LE(header.length, 8);
  const values = Float32Array.from([1, -2, 3.5, 4]);
  const file = path.join(dir, 'v2.npy');
  fs.writeFileSync(file, Buffer.concat([preamble, header, Buffer.from(values.buffer)]));
  const { data, shape } = readNpy(file);
  assert.deepEqual(shape, [2, 2]);
  assert.deepEqual(data, values);
  fs.rmSync(dir, { recursive: true });
});

test('npy: anything but little-endian float32 C order is a UserError', () => {
  const dir = tempDir();
  const file = path.join(dir, 'x.npy');
  const withHeader = (dict: string, dataBytes: number): Buffer => {
    const header = Buffer.from(dict.padEnd(64 - 10 - 1, ' ') + '\n', 'latin1');
    const preamble = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
    return Buffer.concat([preamble, header, Buffer.alloc(dataBytes)]);
  };
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('not a numpy file at all'), /not a \.npy file/],
    [withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16), /dtype '<f8'/],
    [withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8), /dtype '>f4'/],
    [withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16), /Fortran/],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 12), /holds 12 data bytes/],
    [withHeader("{'descr': '<f4', 'shape': (2, 2), }", 16), /malformed/],
  ];
  for (const [bytes, message] of cases) {
    fs.writeFileSync(file, bytes);
    assert.throws(
      () => readNpy(file),
      (err: unknown) => err instanceof UserError && message.test(err.message),
    );
  }
  assert.throws(() => readNpy(path.join(dir, 'missing.npy')), UserError);
  fs.rmSync(dir, { recursive: true });
});

// ---------------------------------------------------------------- cache

/** A deterministic 4-d encoder that counts how often it is loaded and called. */
class CountingEncoderSource implements TextEncoderSource {
  readonly id = 'counting';
  loads = 0;
  encodes = 0;

  async load(): Promise<TextEncoder> {
    this.loads++;
    return {
      id: this.id,
      dim: 4,
      encode: async (texts, onProgress) => {
        this.encodes++;
        const out = new Float32Array(texts.length * 4);
        texts.forEach((t, i) => {
          let codes = 0;
          for (const ch of t) codes += ch.codePointAt(0)!;
          out.set([t.length, codes % 97, t.split(' ').length, 1], i * 4);
        });
        onProgress?.(texts.length);
        return normalizeRows(out, 4);
      },
    };
  }
}

function tinyDataset(items: (ItemInfo | null)[]): Dataset {
  return {
    name: 'tiny',
    numItems: items.length,
    sequences: [],
    userIds: [],
    itemIds: ['', ...items.map((_, i) => `item${i + 1}`)],
    items: [null, ...items],
  };
}

const TINY_ITEMS: (ItemInfo | null)[] = [{ title: 'Red Lipstick', brand: 'Acme', categories: ['Makeup', 'Lips'] }, null, { title: 'Camping Tent', price: 120 }];

test('cache: first call encodes and writes, second reuses without loading the encoder', async () => {
  const dir = tempDir();
  const source = new CountingEncoderSource();
  const dataset = tinyDataset(TINY_ITEMS);
  const first = await loadItemFeatures({ dataset, cacheDir: dir, encoder: source, progress: false });
  assert.equal(first.fromCache, false);
  assert.equal(first.path, path.join(dir, 'tiny.counting.npy'));
  assert.deepEqual([first.numRows, first.dim, first.encoder], [4, 4, 'counting']);
  assert.deepEqual(Array.from(first.matrix.subarray(0, 4)), [0, 0, 0, 0]);
  const direct = await (await new CountingEncoderSource().load()).encode(TINY_ITEMS.map(itemText));
  assert.deepEqual(first.matrix.subarray(4), direct);

  const sidecar = JSON.parse(fs.readFileSync(path.join(dir, 'tiny.counting.json'), 'utf8')) as CacheSidecar;
  assert.equal(sidecar.encoder, 'counting');
  assert.equal(sidecar.dim, 4);
  assert.equal(sidecar.items, 3);
  assert.equal(sidecar.inputs_sha256, itemTextsSha256(TINY_ITEMS.map(itemText)));
  assert.deepEqual(readNpy(first.path).shape, [4, 4]);

  const second = await loadItemFeatures({ dataset, cacheDir: dir, encoder: source, progress: false });
  assert.equal(second.fromCache, true);
  assert.equal(source.loads, 1);
  assert.equal(source.encodes, 1);
  assert.deepEqual(second.matrix, first.matrix);

  const forced = await loadItemFeatures({ dataset, cacheDir: dir, encoder: source, rebuild: true, progress: false });
  assert.equal(forced.fromCache, false);
  assert.equal(source.encodes, 2);
  fs.rmSync(dir, { recursive: true });
});

test('cache: an interrupted encoding resumes from its checkpoint and gives the uninterrupted matrix', async () => {
  const dir = tempDir();
  const items: ItemInfo[] = Array.from({ length: 7 }, (_, i) => ({ title: `item number ${i}`, price: i }));
  const dataset = tinyDataset(items);
  const whole = await loadItemFeatures({ dataset, cacheDir: tempDir(), encoder: new CountingEncoderSource(), progress: false });

  const source = new CountingEncoderSource();
  const common = { dataset, cacheDir: dir, encoder: source, progress: false, chunkSize: 3 };
  const cut = await loadItemFeatures({ ...common, stopAfterChunks: 2 });
  assert.equal(cut.path, path.join(dir, 'tiny.counting.partial.npy'));
  assert.ok(!fs.existsSync(path.join(dir, 'tiny.counting.npy')));
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'tiny.counting.partial.json'), 'utf8')).done, 6);
  assert.equal(source.encodes, 2);

  const log = await captureStderr(async () => {
    const resumed = await loadItemFeatures(common);
    assert.equal(resumed.fromCache, false);
    assert.deepEqual(resumed.matrix, whole.matrix);
  });
  assert.match(log, /resuming: 6 of 7 item texts already encoded/);
  assert.equal(source.encodes, 3); // only the last item was encoded again
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('partial')),
    [],
  );

  // A checkpoint made for other inputs is not used.
  await loadItemFeatures({ ...common, rebuild: true, stopAfterChunks: 1 });
  const changed = tinyDataset(items.map((item, i) => (i === 0 ? { ...item, title: 'changed' } : item)));
  const encodesBefore = source.encodes;
  await loadItemFeatures({ ...common, dataset: changed });
  assert.equal(source.encodes - encodesBefore, 3);
  fs.rmSync(dir, { recursive: true });
});

/** Run `fn`, returning what it wrote to stderr (still passed through). */
async function captureStderr(fn: () => Promise<unknown>): Promise<string> {
  const write = process.stderr.write;
  let captured = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured += chunk.toString();
    return (write as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = write;
  }
  return captured;
}

test('cache: a changed item text or another encoder in the sidecar rebuilds, saying why', async () => {
  const dir = tempDir();
  const source = new CountingEncoderSource();
  await loadItemFeatures({ dataset: tinyDataset(TINY_ITEMS), cacheDir: dir, encoder: source, progress: false });
  const changed = TINY_ITEMS.map((info) => (info?.title === 'Camping Tent' ? { ...info, title: 'Camping tent' } : info));
  const said = await captureStderr(async () => {
    const rebuilt = await loadItemFeatures({ dataset: tinyDataset(changed), cacheDir: dir, encoder: source, progress: false });
    assert.equal(rebuilt.fromCache, false);
  });
  assert.match(said, /tiny\.counting\.npy is stale \(item texts have changed\)/);
  assert.equal(source.encodes, 2);

  const sidecarFile = path.join(dir, 'tiny.counting.json');
  const sidecar = JSON.parse(fs.readFileSync(sidecarFile, 'utf8')) as CacheSidecar;
  fs.writeFileSync(sidecarFile, JSON.stringify({ ...sidecar, encoder: 'other' }));
  const again = await loadItemFeatures({ dataset: tinyDataset(changed), cacheDir: dir, encoder: source, progress: false });
  assert.equal(again.fromCache, false);
  assert.equal(source.encodes, 3);
  fs.rmSync(dir, { recursive: true });
});

test('cache: a corrupt matrix or sidecar rebuilds', async () => {
  const dir = tempDir();
  const source = new CountingEncoderSource();
  const dataset = tinyDataset(TINY_ITEMS);
  const load = () => loadItemFeatures({ dataset, cacheDir: dir, encoder: source, progress: false });
  const reference = await load();
  const matrixFile = reference.path;
  const sidecarFile = path.join(dir, 'tiny.counting.json');
  const corruptions: [string, () => void][] = [
    ['truncated matrix', () => fs.truncateSync(matrixFile, fs.statSync(matrixFile).size - 4)],
    [
      'flipped data byte',
      () => {
        const bytes = fs.readFileSync(matrixFile);
        bytes[bytes.length - 3] ^= 0xff;
        fs.writeFileSync(matrixFile, bytes);
      },
    ],
    ['garbage sidecar', () => fs.writeFileSync(sidecarFile, '{"encoder": ')],
    ['null sidecar', () => fs.writeFileSync(sidecarFile, 'null')],
    ['missing sidecar', () => fs.rmSync(sidecarFile)],
    ['missing matrix', () => fs.rmSync(matrixFile)],
  ];
  let encodes = source.encodes;
  for (const [what, corrupt] of corruptions) {
    corrupt();
    const rebuilt = await load();
    assert.equal(rebuilt.fromCache, false, what);
    assert.equal(source.encodes, ++encodes, what);
    assert.deepEqual(rebuilt.matrix, reference.matrix, what);
    assert.equal((await load()).fromCache, true, what);
  }
  fs.rmSync(dir, { recursive: true });
});

test('cache: bad names are UserErrors', async () => {
  const dir = tempDir();
  const dataset = { ...tinyDataset(TINY_ITEMS), name: '../escape' };
  await assert.rejects(loadItemFeatures({ dataset, cacheDir: dir, encoder: new CountingEncoderSource(), progress: false }), UserError);
  await assert.rejects(
    loadItemFeatures({ dataset: tinyDataset(TINY_ITEMS), cacheDir: dir, encoder: 'no-such-encoder', progress: false }),
    /unknown text encoder "no-such-encoder" \(known: use, or hf:/,
  );
  fs.rmSync(dir, { recursive: true });
});

// ---------------------------------------------------------------- encoders

test('registry: "use" is the default and only name; bad options are UserErrors', () => {
  assert.equal(DEFAULT_TEXT_ENCODER, 'use');
  assert.deepEqual(textEncoderNames(), ['use']);
  assert.equal(textEncoderSource('use').id, 'use');
  assert.throws(() => textEncoderSource('use', { workers: 0 }), UserError);
  assert.throws(() => textEncoderSource('toString'), UserError);
});

function dot(m: Float32Array, dim: number, a: number, b: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += m[a * dim + k] * m[b * dim + k];
  return s;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('use: 512-d unit rows, sensible similarities, batch invariance', async () => {
  const encoder = await createTextEncoder('use', { workers: 1 });
  assert.equal(encoder.id, 'use');
  assert.equal(encoder.dim, 512);
  const texts = [
    'lipstick for women',
    'red lip color',
    'tent for camping',
    'Title: OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce\nBrand: OPI\nCategories: Makeup, Nails, Nail Polish',
    'Untitled Item',
    '',
  ];
  const rows = await encoder.encode(texts);
  assert.equal(rows.length, texts.length * 512);
  for (let i = 0; i < texts.length; i++) assert.ok(Math.abs(dot(rows, 512, i, i) - 1) < 1e-5, `row ${i} norm`);
  assert.ok(dot(rows, 512, 0, 1) > dot(rows, 512, 0, 2) + 0.1, 'lipstick is closer to lip color than to a tent');
  for (const i of [0, 3]) {
    const alone = await encoder.encode([texts[i]]);
    assert.ok(maxAbsDiff(alone, rows.subarray(i * 512, (i + 1) * 512)) < 1e-4, `text ${i} alone vs in a batch`);
  }
  assert.equal((await encoder.encode([])).length, 0);
});

test('use: two worker threads give the single-thread rows, in order', async () => {
  const texts = Array.from({ length: 40 }, (_, i) => `Title: product ${i} ${'with a longer description '.repeat(i % 5)}\nBrand: Brand${i % 3}`);
  const single = await (await createTextEncoder('use', { workers: 1 })).encode(texts);
  const progress: number[] = [];
  const parallel = await (await createTextEncoder('use', { workers: 2 })).encode(texts, (done) => progress.push(done));
  assert.ok(maxAbsDiff(single, parallel) < 1e-5);
  assert.equal(progress.at(-1), 40);
  assert.deepEqual(
    progress,
    [...progress].sort((a, b) => a - b),
  );
});
