/** Raw Amazon 2014 files → P5 layout, on small gzipped files written here. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ingestAmazon, parsePythonLiteral, readAmazonDataset, readP5Dataset } from '../src/data';
import { InputFileError, UserError } from '../src/util/errors';
import { main } from '../src/cli/main';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-amazon-'));
}

function review(user: string, item: string, time: number): string {
  return JSON.stringify({ reviewerID: user, asin: item, reviewerName: 'x', overall: 5.0, unixReviewTime: time });
}

/** Users u0..u5 each review items A..E (5-core holds), plus one user/item that the filter drops. */
function writeRawFiles(dir: string, opts: { malformed?: boolean } = {}): void {
  const lines: string[] = [];
  const items = ['A', 'B', 'C', 'D', 'E'];
  for (let u = 0; u < 6; u++) {
    // Times descend with the item letter for even users, so sorting matters; u1 has a tie (C and D at 300).
    items.forEach((it, k) => {
      const time = u % 2 === 0 ? 1000 - k * 100 : u === 1 && (it === 'C' || it === 'D') ? 300 : 100 + k * 100;
      lines.push(review(`u${u}`, it, time));
    });
  }
  lines.push(review('lonely', 'Z', 50)); // dropped by the 5-core filter
  if (opts.malformed) {
    lines.splice(3, 0, '{"reviewerID": "u9", "asin": ');
    lines.push(JSON.stringify({ reviewerID: 'u7', asin: 'A' })); // no time
  }
  fs.writeFileSync(path.join(dir, 'reviews_Toy_5.json.gz'), zlib.gzipSync(lines.join('\n') + '\n'));
  const meta = [
    `{'asin': 'A', 'title': 'L&#39;Oreal Paris "Magic" Cream', 'price': 12.5, 'brand': 'L\\'Oreal', 'imUrl': 'http://img/A.jpg', 'categories': [['Beauty', 'Skin Care'], ['Beauty', 'Makeup']], 'related': {'also_bought': ['B', 'C']}}`,
    `{'asin': 'B', 'title': u'Caf\\xe9 \\u00e9clair', 'categories': [['Beauty']], 'salesRank': {'Beauty': 10}}`,
    `{'asin': 'C', 'brand': 'Acme', 'price': None, 'categories': [], 'imUrl': 'http://img/C.png'}`,
    `{'asin': 'D', 'title': "Tom's \\"best\\" soap", 'categories': [['Beauty', 'Bath']], 'extra': (1, 2.5e3, -3, True, False)}`,
    `{'asin': 'Z', 'title': 'dropped'}`,
  ];
  if (opts.malformed) meta.splice(1, 0, `{'asin': 'E', 'title': 'unterminated}`);
  // E has no readable metadata line.
  fs.writeFileSync(path.join(dir, 'meta_Toy.json.gz'), zlib.gzipSync(meta.join('\n') + '\n'));
}

describe('parsePythonLiteral', () => {
  test('dicts, lists, tuples, escapes, constants', () => {
    assert.deepEqual(parsePythonLiteral(`{'a': [1, -2.5, 3e2], "b": (True, False, None), 'c': 'it\\'s \\\\ \\n', u'd': u'\\xe9\\u00e9'}`), {
      a: [1, -2.5, 300],
      b: [true, false, null],
      c: "it's \\ \n",
      d: 'éé',
    });
    assert.deepEqual(parsePythonLiteral('[]'), []);
    assert.deepEqual(parsePythonLiteral(`{'x': {}}`), { x: {} });
  });
  test('errors name the position', () => {
    assert.throws(() => parsePythonLiteral(`{'a': 1`), /character/);
    assert.throws(() => parsePythonLiteral(`{'a': 'x}`), /unterminated string/);
    assert.throws(() => parsePythonLiteral(`{'a': 1} x`), /trailing/);
    assert.throws(() => parsePythonLiteral(`{'a': nan}`), /unexpected/);
  });
});

describe('readAmazonDataset', () => {
  test('5-core, stable chronological order, first category path, image URL', async () => {
    const dir = tempDir();
    writeRawFiles(dir);
    const { dataset, malformed, itemsWithoutMeta, reviewsRead } = await readAmazonDataset({ rawDir: dir, category: 'Toy' });
    assert.equal(reviewsRead, 31);
    assert.deepEqual(malformed, []);
    assert.equal(dataset.name, 'toy');
    assert.equal(dataset.numItems, 5);
    assert.deepEqual(dataset.userIds, ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']);
    const asins = (u: number): string[] => Array.from(dataset.sequences[u], (i) => dataset.itemIds[i]);
    assert.deepEqual(asins(0), ['E', 'D', 'C', 'B', 'A']);
    // u1: A@100, B@200, C@300, D@300 (tie keeps file order), E@500
    assert.deepEqual(asins(1), ['A', 'B', 'C', 'D', 'E']);
    assert.deepEqual(itemsWithoutMeta, ['E']);
    const info = (asin: string) => dataset.items[dataset.itemIds.indexOf(asin)];
    assert.deepEqual(info('A'), {
      asin: 'A',
      title: 'L\'Oreal Paris "Magic" Cream',
      brand: "L'Oreal",
      price: 12.5,
      categories: ['Beauty', 'Skin Care'],
      imageUrl: 'http://img/A.jpg',
    });
    assert.deepEqual(info('B'), { asin: 'B', title: 'Café éclair', categories: ['Beauty'] });
    assert.deepEqual(info('C'), { asin: 'C', brand: 'Acme', imageUrl: 'http://img/C.png' });
    assert.equal(info('D')?.title, 'Tom\'s "best" soap');
    assert.equal(info('E'), null);
  });

  test('malformed lines: skipped with line numbers, or fatal', async () => {
    const dir = tempDir();
    writeRawFiles(dir, { malformed: true });
    const { dataset, malformed } = await readAmazonDataset({ rawDir: dir, category: 'Toy' });
    assert.equal(dataset.numItems, 5);
    assert.deepEqual(
      malformed.map((m) => [path.basename(m.file), m.line]),
      [
        ['reviews_Toy_5.json.gz', 4],
        ['reviews_Toy_5.json.gz', 33],
        ['meta_Toy.json.gz', 2],
      ],
    );
    assert.match(malformed[1].problem, /unixReviewTime/);
    await assert.rejects(
      readAmazonDataset({ rawDir: dir, category: 'Toy', onMalformed: 'fail' }),
      (err: unknown) =>
        err instanceof InputFileError && err.line === 4 && /invalid JSON/.test(err.message) && err.code === 'malformed-line' && !/--/.test(err.message),
    );
  });

  test('missing files: one message naming both files and the folder', async () => {
    const dir = tempDir();
    await assert.rejects(
      readAmazonDataset({ rawDir: dir, category: 'Toy' }),
      (err: unknown) =>
        err instanceof UserError && err.message.includes('reviews_Toy_5.json.gz') && err.message.includes('meta_Toy.json.gz') && err.message.includes(dir),
    );
  });
});

describe('fmrlrec data amazon', () => {
  test('writes a P5 folder that readP5Dataset reads back, and a report', async () => {
    const raw = tempDir();
    writeRawFiles(raw, { malformed: true });
    const out = path.join(tempDir(), 'toy');
    const code = await main(['data', 'amazon', '--category', 'Toy', '--raw', raw, '--out', out, '--offline']);
    assert.equal(code, 0);
    const ds = readP5Dataset(out);
    assert.equal(ds.numItems, 5);
    assert.equal(ds.sequences.length, 6);
    assert.equal(ds.items[ds.itemIds.indexOf('A')]?.imageUrl, 'http://img/A.jpg');
    assert.equal(ds.items[ds.itemIds.indexOf('A')]?.title, 'L\'Oreal Paris "Magic" Cream');
    const report = JSON.parse(fs.readFileSync(path.join(out, 'ingest-report.json'), 'utf8'));
    assert.equal(report.malformed_lines.length, 3);
    assert.deepEqual(report.items_without_meta, ['E']);
  });

  test('offline without files says where to put them', async () => {
    const out = path.join(tempDir(), 'toy');
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['data', 'amazon', '--category', 'Toy', '--out', out, '--offline']);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 1);
    assert.match(errors.join(''), /reviews_Toy_5\.json\.gz.*meta_Toy\.json\.gz.*--raw/);
  });

  test('a fatal malformed line: the library names the line, the CLI adds the flag that skips it', async () => {
    const raw = tempDir();
    writeRawFiles(raw, { malformed: true });
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['data', 'amazon', '--category', 'Toy', '--raw', raw, '--out', path.join(tempDir(), 'toy'), '--on-malformed', 'fail']);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 1);
    assert.match(errors.join(''), /reviews_Toy_5\.json\.gz:4: invalid JSON.*\(use --on-malformed skip to skip such lines\)/);
  });
});

describe('ingestAmazon', () => {
  test('downloads the missing raw files from the source URL, then writes the folder and the report', async () => {
    const served = tempDir();
    writeRawFiles(served);
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const file = path.join(served, path.basename(req.url ?? ''));
      if (!fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': fs.statSync(file).size }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const out = path.join(tempDir(), 'toy');
      const result = await ingestAmazon({ category: 'Toy', out, download: true, sourceUrl: `http://127.0.0.1:${port}/files/` });
      assert.deepEqual(requests.sort(), ['/files/meta_Toy.json.gz', '/files/reviews_Toy_5.json.gz']);
      assert.equal(result.rawDir, path.join(out, 'raw'));
      assert.equal(readP5Dataset(out).numItems, 5);
      assert.equal(JSON.parse(fs.readFileSync(result.reportFile, 'utf8')).interactions, result.interactions);
      await assert.rejects(
        ingestAmazon({ category: 'Other', out: path.join(tempDir(), 'x'), download: true, sourceUrl: `http://127.0.0.1:${port}` }),
        (err: unknown) => err instanceof UserError && err.code === 'raw-files-missing' && /HTTP 404/.test(err.message) && !/--/.test(err.message),
      );
    } finally {
      server.close();
    }
  });
});
