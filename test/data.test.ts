/**
 * Data layer: leave-one-out split, packed training/evaluation batches (docs/method.md §2,
 * §5), k-core, CSV/JSON Lines and P5 readers with their errors, the synthetic
 * generator, and — when present — the four real datasets in shared/data.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildDataset,
  datasetStats,
  decodeHtmlEntities,
  evalBatches,
  evalHistory,
  generateSyntheticDataset,
  historyItems,
  kCoreMask,
  leaveOneOut,
  dropShortUsers,
  readInteractions,
  readItemsJsonl,
  readP5Dataset,
  trainingBatches,
  writeP5Dataset,
  type Dataset,
  type Interaction,
  type PackedBatch,
} from '../src/data';
import { InputFileError, UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';
import { REAL_DATA_DIR, requireDataset, skipUnlessDataset } from './real-data';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-data-'));
}

/** Write files into a fresh folder; returns the folder. */
function folderWith(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A dataset from plain arrays (items 1..N, no metadata). */
function datasetOf(sequences: number[][]): Dataset {
  const numItems = Math.max(...sequences.flat());
  return {
    name: 'hand',
    numItems,
    sequences: sequences.map((s) => Int32Array.from(s)),
    userIds: sequences.map((_, u) => `u${u}`),
    itemIds: Array.from({ length: numItems + 1 }, (_, i) => (i === 0 ? '' : `i${i}`)),
    items: new Array(numItems + 1).fill(null),
  };
}

/** The rows of sequence b of a packed batch. */
function rows(batch: PackedBatch, b: number): { inputs: number[]; targets: number[] } {
  const start = batch.offsets[b];
  const end = batch.offsets[b + 1];
  return { inputs: Array.from(batch.inputs.subarray(start, end)), targets: Array.from(batch.targets.subarray(start, end)) };
}

/** Assert that fn throws an InputFileError whose message starts with "file:line:". */
function assertFileError(fn: () => unknown, file: string, line: number | null, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputFileError, `expected InputFileError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.line, line);
    assert.ok(err.message.startsWith(line === null ? `${file}: ` : `${file}:${line}: `), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

// ------------------------------------------------------------------- split

describe('leave-one-out split', () => {
  const ds = datasetOf([
    [1, 2, 3, 4, 5],
    [3, 1, 2],
    [6, 7, 8, 9],
  ]);

  test('last item = test, second last = valid, the rest = train', () => {
    const split = leaveOneOut(ds);
    assert.deepEqual(
      split.train.map((s) => Array.from(s)),
      [[1, 2, 3], [3], [6, 7]],
    );
    assert.deepEqual(Array.from(split.validTarget), [4, 1, 8]);
    assert.deepEqual(Array.from(split.testTarget), [5, 2, 9]);
  });

  test('evaluation histories: valid = train, test = train + valid item', () => {
    const split = leaveOneOut(ds);
    assert.deepEqual(Array.from(evalHistory(split, 0, 'valid')), [1, 2, 3]);
    assert.deepEqual(Array.from(evalHistory(split, 0, 'test')), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(evalHistory(split, 1, 'test')), [3, 1]);
  });

  test('a user with fewer than 3 items is an error naming the user', () => {
    const short = datasetOf([
      [1, 2, 3],
      [4, 5],
    ]);
    assert.throws(
      () => leaveOneOut(short),
      (err: unknown) => err instanceof UserError && /user u1 \(index 1\) has 2 items/.test(err.message),
    );
  });

  test('dropShortUsers removes users with fewer than 3 items and counts them', () => {
    const ds = datasetOf([[1, 2, 3], [4, 5], [6], [1, 4, 6, 2]]);
    const { dataset, dropped } = dropShortUsers(ds);
    assert.equal(dropped, 2);
    assert.deepEqual(
      dataset.sequences.map((s) => [...s]),
      [
        [1, 2, 3],
        [1, 4, 6, 2],
      ],
    );
    assert.deepEqual(dataset.userIds, [ds.userIds[0], ds.userIds[3]]);
    assert.equal(dropShortUsers(dataset).dataset, dataset, 'nothing to drop: the same dataset');
  });
});

// ----------------------------------------------------------------- batches

describe('training batches (docs/method.md §5)', () => {
  // Train sequences: [1..8] (n=8), [9] (n=1), [10, 11] (n=2), [12, 13, 14] (n=3).
  const ds = datasetOf([
    [1, 2, 3, 4, 5, 6, 7, 8, 20, 21],
    [9, 20, 21],
    [10, 11, 20, 21],
    [12, 13, 14, 20, 21],
  ]);
  const split = leaveOneOut(ds);

  function exampleOf(batches: PackedBatch[], user: number): { inputs: number[]; targets: number[] } {
    for (const batch of batches) {
      const b = Array.from(batch.users).indexOf(user);
      if (b !== -1) return rows(batch, b);
    }
    throw new Error(`user ${user} not in any batch`);
  }

  test('inputs start with the padding item, targets are the sequence', () => {
    const batches = trainingBatches(split, { batchSize: 2, maxLen: 50, rng: new Rng(1) });
    assert.deepEqual(exampleOf(batches, 0), { inputs: [0, 1, 2, 3, 4, 5, 6, 7], targets: [1, 2, 3, 4, 5, 6, 7, 8] });
    assert.deepEqual(exampleOf(batches, 1), { inputs: [0], targets: [9] });
    assert.deepEqual(exampleOf(batches, 2), { inputs: [0, 10], targets: [10, 11] });
  });

  test('truncation keeps the last maxLen positions (the last targets)', () => {
    const batches = trainingBatches(split, { batchSize: 4, maxLen: 3, rng: new Rng(1) });
    assert.deepEqual(exampleOf(batches, 0), { inputs: [5, 6, 7], targets: [6, 7, 8] });
    assert.deepEqual(exampleOf(batches, 3), { inputs: [0, 12, 13], targets: [12, 13, 14] }); // n = maxLen
    assert.deepEqual(exampleOf(batches, 2), { inputs: [0, 10], targets: [10, 11] });
  });

  test('packing: offsets, sizes, every user once per epoch, no padding rows', () => {
    const batches = trainingBatches(split, { batchSize: 3, maxLen: 4, rng: new Rng(7) });
    assert.deepEqual(
      batches.map((b) => b.size),
      [3, 1],
    );
    const seen = batches.flatMap((b) => Array.from(b.users)).sort();
    assert.deepEqual(seen, [0, 1, 2, 3]);
    for (const batch of batches) {
      assert.equal(batch.offsets.length, batch.size + 1);
      assert.equal(batch.offsets[0], 0);
      assert.equal(batch.inputs.length, batch.offsets[batch.size]);
      assert.equal(batch.targets.length, batch.offsets[batch.size]);
      for (let b = 0; b < batch.size; b++) {
        const n = split.train[batch.users[b]].length;
        assert.equal(batch.offsets[b + 1] - batch.offsets[b], Math.min(n, 4));
      }
      assert.ok(
        batch.targets.every((t) => t > 0),
        'every training row has a target',
      );
    }
  });

  test('the user order is shuffled by the rng, reproducibly', () => {
    const big = leaveOneOut(datasetOf(Array.from({ length: 40 }, (_, u) => [u + 1, 41, 42])));
    const order = (seed: number): number[] => trainingBatches(big, { batchSize: 8, rng: new Rng(seed) }).flatMap((b) => Array.from(b.users));
    assert.deepEqual(order(3), order(3));
    assert.notDeepEqual(order(3), order(4));
    assert.notDeepEqual(
      order(3),
      Array.from({ length: 40 }, (_, u) => u),
    );
  });

  test('users with an empty training sequence are skipped', () => {
    const handMade = { train: [Int32Array.of(1, 2), new Int32Array(0)], validTarget: Int32Array.of(3, 1), testTarget: Int32Array.of(4, 2) };
    const batches = trainingBatches(handMade, { batchSize: 4, rng: new Rng(1) });
    assert.equal(batches.length, 1);
    assert.deepEqual(Array.from(batches[0].users), [0]);
  });

  test('bad sizes are user errors', () => {
    assert.throws(() => trainingBatches(split, { batchSize: 0, rng: new Rng(1) }), UserError);
    assert.throws(() => evalBatches(split, 'test', { batchSize: 2, maxLen: 0 }), UserError);
  });
});

describe('evaluation batches', () => {
  const ds = datasetOf([
    [1, 2, 3, 4, 5, 6, 7, 8, 20, 21],
    [9, 20, 21],
    [10, 11, 20, 21],
  ]);
  const split = leaveOneOut(ds);

  test('valid: the last maxLen training items, target on the last row', () => {
    const batches = evalBatches(split, 'valid', { batchSize: 2, maxLen: 3 });
    assert.deepEqual(
      batches.map((b) => Array.from(b.users)),
      [[0, 1], [2]],
    );
    assert.deepEqual(rows(batches[0], 0), { inputs: [6, 7, 8], targets: [0, 0, 20] });
    assert.deepEqual(rows(batches[0], 1), { inputs: [9], targets: [20] });
    assert.deepEqual(rows(batches[1], 0), { inputs: [10, 11], targets: [0, 20] });
  });

  test('test: the history includes the validation item', () => {
    const batches = evalBatches(split, 'test', { batchSize: 8, maxLen: 3 });
    assert.equal(batches.length, 1);
    assert.deepEqual(rows(batches[0], 0), { inputs: [7, 8, 20], targets: [0, 0, 21] });
    assert.deepEqual(rows(batches[0], 1), { inputs: [9, 20], targets: [0, 21] });
    assert.deepEqual(Array.from(batches[0].offsets), [0, 3, 5, 8]);
  });

  test('default maxLen 50 keeps short histories whole, with no padding item', () => {
    const [batch] = evalBatches(split, 'test', { batchSize: 8 });
    assert.deepEqual(rows(batch, 0).inputs, [1, 2, 3, 4, 5, 6, 7, 8, 20]);
  });

  test('historyItems: full, untruncated histories of the given users', () => {
    const h = historyItems(split, Int32Array.of(2, 0), 'test');
    assert.deepEqual(Array.from(h.offsets), [0, 3, 12]);
    assert.deepEqual(Array.from(h.items), [10, 11, 20, 1, 2, 3, 4, 5, 6, 7, 8, 20]);
    const v = historyItems(split, Int32Array.of(1), 'valid');
    assert.deepEqual([Array.from(v.offsets), Array.from(v.items)], [[0, 1], [9]]);
  });
});

// ------------------------------------------------------- generic datasets

describe('k-core and buildDataset', () => {
  test('k-core peels iteratively until stable', () => {
    // u1: a b c, u2: a b, u3: c d, u4: d. With k = 2: u4 goes, so d (1 left),
    // so u3 (1 left), so c (1 left); u1 and u2 keep a and b.
    const pairs: [number, number][] = [
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [2, 2],
      [2, 3],
      [3, 3],
    ];
    const keep = kCoreMask(
      Int32Array.from(pairs, (p) => p[0]),
      Int32Array.from(pairs, (p) => p[1]),
      4,
      4,
      2,
    );
    assert.deepEqual(Array.from(keep), [1, 1, 0, 1, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(kCoreMask(Int32Array.of(0), Int32Array.of(0), 1, 1, 1)), [1]);
  });

  const log = (rows: [string, string, number][]): Interaction[] => rows.map(([user, item, timestamp]) => ({ user, item, timestamp }));

  test('chronological per user (stable on ties); users and items by first appearance', () => {
    const ds = buildDataset({
      name: 'tiny',
      minCount: 1,
      interactions: log([
        ['bob', 'x', 30],
        ['ann', 'y', 5],
        ['bob', 'z', 10],
        ['bob', 'y', 10],
        ['ann', 'w', 1],
        ['bob', 'v', 10],
      ]),
    });
    assert.deepEqual(ds.userIds, ['bob', 'ann']);
    // bob: z(10) y(10) v(10) x(30) -> 1 2 3 4; ann: w(1) y(5) -> 5 2
    assert.deepEqual(ds.itemIds, ['', 'z', 'y', 'v', 'x', 'w']);
    assert.deepEqual(
      ds.sequences.map((s) => Array.from(s)),
      [
        [1, 2, 3, 4],
        [5, 2],
      ],
    );
    assert.equal(ds.numItems, 5);
    assert.deepEqual(ds.items, [null, null, null, null, null, null]);
  });

  test('k-core filter applied before numbering; metadata attached by item id', () => {
    const interactions = log([
      ['u1', 'a', 1],
      ['u1', 'b', 2],
      ['u1', 'c', 3],
      ['u2', 'a', 1],
      ['u2', 'b', 2],
      ['u3', 'c', 1],
      ['u3', 'd', 2],
      ['u4', 'd', 1],
    ]);
    const ds = buildDataset({ name: 'k2', minCount: 2, interactions, items: new Map([['b', { asin: 'b', title: 'Bee' }]]) });
    assert.deepEqual(ds.userIds, ['u1', 'u2']);
    assert.deepEqual(
      ds.sequences.map((s) => Array.from(s)),
      [
        [1, 2],
        [1, 2],
      ],
    );
    assert.deepEqual(ds.itemIds, ['', 'a', 'b']);
    assert.deepEqual(ds.items, [null, null, { asin: 'b', title: 'Bee' }]);
    assert.throws(
      () => buildDataset({ name: 'k3', minCount: 3, interactions }),
      (err: unknown) => err instanceof UserError && /no interactions left after the 3-core filter/.test(err.message),
    );
    assert.throws(() => buildDataset({ name: 'none', interactions: [] }), UserError);
  });
});

describe('interaction and item files', () => {
  test('CSV with quoting, CRLF, extra columns, a quoted newline and aliases', () => {
    const dir = folderWith({
      'log.csv': ['"reviewerID",rating,"asin",unixReviewTime', 'A1,5,"B,1",100', '"A ""2""",4,B2,"50"', '', 'A1,3,"B', '3",20'].join('\r\n') + '\r\n',
    });
    assert.deepEqual(readInteractions(path.join(dir, 'log.csv')), [
      { user: 'A1', item: 'B,1', timestamp: 100 },
      { user: 'A "2"', item: 'B2', timestamp: 50 },
      { user: 'A1', item: 'B\r\n3', timestamp: 20 },
    ]);
  });

  test('JSON Lines with numeric ids and ISO dates', () => {
    const dir = folderWith({
      'log.jsonl': '{"user": 7, "item": "i1", "timestamp": 3}\n\n{"user_id": "8", "asin": "i2", "time": "2014-01-02T00:00:00Z"}\n',
    });
    assert.deepEqual(readInteractions(path.join(dir, 'log.jsonl')), [
      { user: '7', item: 'i1', timestamp: 3 },
      { user: '8', item: 'i2', timestamp: Date.parse('2014-01-02T00:00:00Z') },
    ]);
  });

  test('item JSON Lines: HTML entities decoded, empty fields absent, category paths merged', () => {
    const dir = folderWith({
      'items.jsonl': [
        '{"asin": "B1", "title": "L&#39;Oreal &amp; Co  Cr&egrave;me", "brand": "", "price": 9.5, "categories": [["Beauty", "Skin"], ["Beauty", "Face"]], "imUrl": "http://x/1.jpg"}',
        '{"item": "B2", "title": null, "brand": "Acme", "price": "$3.00", "categories": []}',
      ].join('\n'),
    });
    const items = readItemsJsonl(path.join(dir, 'items.jsonl'));
    assert.deepEqual(items.get('B1'), {
      asin: 'B1',
      title: "L'Oreal & Co Crème",
      price: 9.5,
      categories: ['Beauty', 'Skin', 'Face'],
      imageUrl: 'http://x/1.jpg',
    });
    assert.deepEqual(items.get('B2'), { asin: 'B2', brand: 'Acme', price: '$3.00' });
  });

  test('HTML entities: named, decimal, hex, Windows-1252, unknown kept', () => {
    assert.equal(decodeHtmlEntities('&amp;&quot;&#39;&lt;&gt;&#x27;&eacute;&#153;&#9733;&bogus;&#0;'), "&\"'<>'é™★&bogus;&#0;");
  });

  test('file errors name the file and the line', () => {
    const dir = folderWith({
      'cols.csv': 'user,item,rating\nu,i,5\n',
      'ragged.csv': 'user,item,timestamp\nu,i,1\nu,i\n',
      'quote.csv': 'user,item,timestamp\nu,i,1\nu,"i,2\n',
      'after.csv': 'user,item,timestamp\nu,"i"x,1\n',
      'time.csv': 'user,item,timestamp\nu,i,1\nu,j,soon\n',
      'empty.csv': 'user,item,timestamp\n',
      'bad.jsonl': '{"user":"u","item":"i","timestamp":1}\n{"user":"u","item":"j",timestamp:2}\n',
      'field.jsonl': '{"user":"u","item":"i","timestamp":1}\n{"user":"u","timestamp":2}\n',
      'array.jsonl': '[1,2]\n',
      'noid.jsonl': '{"title":"x"}\n',
      'dup.jsonl': '{"item":"a"}\n{"item":"b"}\n{"item":"a"}\n',
      'type.jsonl': '{"item":"a","title":5}\n',
    });
    const f = (name: string): string => path.join(dir, name);
    assertFileError(() => readInteractions(f('cols.csv')), f('cols.csv'), 1, /missing column timestamp/);
    assertFileError(() => readInteractions(f('ragged.csv')), f('ragged.csv'), 3, /expected 3 fields/);
    assertFileError(() => readInteractions(f('quote.csv')), f('quote.csv'), 3, /not closed/);
    assertFileError(() => readInteractions(f('after.csv')), f('after.csv'), 2, /after a closing quote/);
    assertFileError(() => readInteractions(f('time.csv')), f('time.csv'), 3, /timestamp "soon"/);
    assertFileError(() => readInteractions(f('empty.csv')), f('empty.csv'), null, /no interactions/);
    assertFileError(() => readInteractions(f('bad.jsonl')), f('bad.jsonl'), 2, /invalid JSON/);
    assertFileError(() => readInteractions(f('field.jsonl')), f('field.jsonl'), 2, /missing field item/);
    assertFileError(() => readInteractions(f('array.jsonl')), f('array.jsonl'), 1, /expected a JSON object/);
    assertFileError(() => readInteractions(f('missing.csv')), f('missing.csv'), null, /missing file .*not found in folder/);
    assertFileError(() => readItemsJsonl(f('noid.jsonl')), f('noid.jsonl'), 1, /missing field item/);
    assertFileError(() => readItemsJsonl(f('dup.jsonl')), f('dup.jsonl'), 3, /already appeared on line 1/);
    assertFileError(() => readItemsJsonl(f('type.jsonl')), f('type.jsonl'), 1, /"title" must be a string/);
  });
});

// -------------------------------------------------------------- P5 layout

describe('P5 layout', () => {
  const datamaps = (users: number[], items: number[]): string =>
    JSON.stringify({
      id2user: Object.fromEntries(users.map((u) => [String(u), `R${u}`])),
      id2item: Object.fromEntries(items.map((i) => [String(i), `A${i}`])),
    });

  test('reads sequences, ids and metadata (CRLF lines, entities decoded, absent fields absent)', () => {
    const dir = folderWith({
      'sequential_data.txt': '1 1 2 3\r\n2 3 1 4 2\r\n',
      'datamaps.json': datamaps([1, 2], [1, 2, 3, 4]),
      'item_meta.json': JSON.stringify({
        A2: { item_id: 2, title: 'Smith &amp; Wesson &quot;Pro&quot;', brand: null, categories: ['Knives'] },
        A9: { item_id: 9, title: 'not in the data' },
      }),
    });
    const ds = readP5Dataset(dir, 'mini');
    assert.equal(ds.name, 'mini');
    assert.equal(ds.numItems, 4);
    assert.deepEqual(
      ds.sequences.map((s) => Array.from(s)),
      [
        [1, 2, 3],
        [3, 1, 4, 2],
      ],
    );
    assert.deepEqual(ds.userIds, ['R1', 'R2']);
    assert.deepEqual(ds.itemIds, ['', 'A1', 'A2', 'A3', 'A4']);
    assert.deepEqual(ds.items, [null, null, { asin: 'A2', title: 'Smith & Wesson "Pro"', categories: ['Knives'] }, null, null]);
    assert.equal(readP5Dataset(dir).name, path.basename(dir));
  });

  test('ids that are not exactly 1..N are renumbered densely in id order', () => {
    const dir = folderWith({
      'sequential_data.txt': '5 9 2 40\n6 2 9\n',
      'datamaps.json': datamaps([5, 6], [2, 9, 40]),
    });
    const ds = readP5Dataset(dir);
    assert.equal(ds.numItems, 3);
    assert.deepEqual(
      ds.sequences.map((s) => Array.from(s)),
      [
        [2, 1, 3],
        [1, 2],
      ],
    );
    assert.deepEqual(ds.itemIds, ['', 'A2', 'A9', 'A40']);
  });

  test('errors name the file and the line', () => {
    const seq = 'sequential_data.txt';
    const cases: [Record<string, string>, string, number | null, RegExp][] = [
      [{ 'datamaps.json': datamaps([1], [1]) }, seq, null, /missing file \(a P5 dataset folder needs sequential_data.txt\): not found in folder/],
      [{ [seq]: '1 1 2 3\n' }, 'datamaps.json', null, /needs datamaps.json/],
      [{ [seq]: '1 1 2 3\n2 1 2x 3\n', 'datamaps.json': datamaps([1, 2], [1, 2, 3]) }, seq, 2, /"2x" is not an integer id/],
      [{ [seq]: '1 1 2 3\n2 1 -2 3\n', 'datamaps.json': datamaps([1, 2], [1, 2, 3]) }, seq, 2, /"-2" is not an integer id/],
      [{ [seq]: '1 1 2 3\n\n2 1 7 3\n', 'datamaps.json': datamaps([1, 2], [1, 2, 3]) }, seq, 3, /item 7 is missing from .*datamaps.json \(id2item\)/],
      [{ [seq]: '1 1 2 3\n3 1 2\n', 'datamaps.json': datamaps([1, 2], [1, 2, 3]) }, seq, 2, /user 3 is missing/],
      [{ [seq]: '1 1 2 3\n1 1 2\n', 'datamaps.json': datamaps([1], [1, 2, 3]) }, seq, 2, /user 1 appears twice/],
      [{ [seq]: '1 1 2 3\n2\n', 'datamaps.json': datamaps([1, 2], [1, 2, 3]) }, seq, 2, /user 2 has no items/],
      [{ [seq]: '1 1 0 3\n', 'datamaps.json': datamaps([1], [1, 3]) }, seq, 1, /item 0 is missing/],
      [{ [seq]: '\n\n', 'datamaps.json': datamaps([1], [1]) }, seq, null, /no users/],
      [{ [seq]: '1 1\n', 'datamaps.json': '{\n"id2user": {"1": "R1"},\n"id2item": {"1": "A1",}\n}' }, 'datamaps.json', 3, /invalid JSON/],
      [{ [seq]: '1 1\n', 'datamaps.json': '{"id2user": {"1": "R1"}}' }, 'datamaps.json', null, /no "id2item" object/],
      [{ [seq]: '1 1\n', 'datamaps.json': datamaps([1], [1]), 'item_meta.json': '{"A1": {"title": "x"}\n' }, 'item_meta.json', 1, /invalid JSON/],
      [{ [seq]: '1 1\n', 'datamaps.json': datamaps([1], [1]), 'item_meta.json': '{"A1": {"item_id": 2}}' }, 'item_meta.json', null, /item_id 2 disagrees/],
    ];
    for (const [files, failing, line, pattern] of cases) {
      const dir = folderWith(files);
      assertFileError(() => readP5Dataset(dir), path.join(dir, failing), line, pattern);
    }
    const gone = path.join(tempDir(), 'nowhere');
    assertFileError(() => readP5Dataset(gone), path.join(gone, seq), null, /folder .*nowhere does not exist/);
  });
});

// --------------------------------------------------------------- synthetic

describe('synthetic dataset', () => {
  const ds = generateSyntheticDataset();

  test('shape: users, items 1..N all used, lengths 5..30, no repeats, text present', () => {
    const stats = datasetStats(ds);
    assert.equal(stats.users, 1000);
    assert.ok(ds.numItems > 280 && ds.numItems <= 300, `N = ${ds.numItems}`);
    assert.ok(stats.minLen >= 5 && stats.maxLen <= 30);
    const used = new Set<number>();
    for (const seq of ds.sequences) {
      assert.equal(new Set(seq).size, seq.length, 'no repeated item within a user');
      seq.forEach((i) => used.add(i));
    }
    assert.equal(used.size, ds.numItems);
    assert.equal(Math.min(...used), 1);
    assert.equal(ds.items.length, ds.numItems + 1);
    assert.ok(ds.items.slice(1).every((info) => info !== null && info.title !== undefined && info.categories !== undefined));
  });

  test('deterministic from the seed', () => {
    assert.deepEqual(generateSyntheticDataset(), ds);
    assert.notDeepEqual(generateSyntheticDataset({ seed: 2 }).sequences, ds.sequences);
    const small = generateSyntheticDataset({ numUsers: 50, numItems: 40, numTopics: 4, seed: 9 });
    assert.deepEqual(generateSyntheticDataset({ numUsers: 50, numItems: 40, numTopics: 4, seed: 9 }), small);
    assert.equal(small.sequences.length, 50);
  });

  test('learnable: consecutive items share a topic (category) far above chance', () => {
    let same = 0;
    let pairs = 0;
    for (const seq of ds.sequences) {
      for (let t = 1; t < seq.length; t++) {
        pairs++;
        if (ds.items[seq[t]]?.categories?.[1] === ds.items[seq[t - 1]]?.categories?.[1]) same++;
      }
    }
    assert.ok(same / pairs > 0.4, `same-topic share ${(same / pairs).toFixed(3)} (chance ≈ 1/12)`);
  });

  test('bad options are user errors', () => {
    assert.throws(() => generateSyntheticDataset({ numTopics: 13 }), UserError);
    assert.throws(() => generateSyntheticDataset({ numItems: 20, maxLen: 30 }), UserError);
  });

  test('round trip through writeP5Dataset / readP5Dataset', () => {
    const dir = tempDir();
    writeP5Dataset(ds, dir);
    assert.deepEqual(readP5Dataset(dir, ds.name), ds);
    // Rewriting without metadata removes the stale item_meta.json.
    const bare = { ...ds, items: ds.items.map(() => null) };
    writeP5Dataset(bare, dir);
    assert.equal(fs.existsSync(path.join(dir, 'item_meta.json')), false);
    assert.deepEqual(readP5Dataset(dir, ds.name), bare);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['datamaps.json', 'sequential_data.txt']);
  });
});

// --------------------------------------------------------------- real data

describe('real datasets (shared/data)', () => {
  // PROVENANCE.md statistics table.
  const expected: Record<string, [number, number, number, number, number]> = {
    beauty: [22363, 12101, 198502, 5, 204],
    sports: [35598, 18357, 296337, 5, 296],
    toys: [19412, 11924, 167597, 5, 550],
    clothing: [39387, 23033, 278677, 5, 136],
  };

  for (const [name, [users, items, interactions, minLen, maxLen]] of Object.entries(expected)) {
    test(`${name}: statistics equal PROVENANCE`, { skip: skipUnlessDataset(name) }, (t) => {
      requireDataset(name);
      const start = performance.now();
      const ds = readP5Dataset(path.join(REAL_DATA_DIR, name));
      t.diagnostic(`${name} loaded in ${(performance.now() - start).toFixed(0)} ms`);
      const stats = datasetStats(ds);
      assert.deepEqual([stats.users, stats.items, stats.interactions, stats.minLen, stats.maxLen], [users, items, interactions, minLen, maxLen]);
      assert.equal(ds.name, name);
      const split = leaveOneOut(ds);
      assert.equal(split.train.length, users);
      if (name === 'beauty') {
        assert.equal(ds.itemIds[1], 'B004756YJA');
        assert.equal(ds.items[1]?.title, 'OPI Nail Lacquer, Simmer and Shimmer, 0.5-Fluid Ounce');
        assert.equal(ds.items.filter((i) => i?.title !== undefined).length, 12094);
        assert.ok(!ds.items.some((i) => /&(amp|#39|quot);/.test(`${i?.title} ${i?.brand}`)), 'entities decoded');
      }
      if (name === 'clothing') assert.ok(ds.items.every((i) => i === null));
      else assert.ok(ds.items.slice(1).every((i) => i !== null && i.price === undefined && i.imageUrl === undefined));
    });
  }
});
