/**
 * Items added without retraining (docs/serving.md, "New items"), on a small
 * model really trained (one epoch, text from a tiny Hugging Face encoder the
 * test builds, brand/category and title-word vectors, item IDs):
 * - `fmrlrec items add`: each added item's row, at every size, equals to 1e-6
 *   the training item table's row of a trained item with the same metadata
 *   once its ID vector is zeroed (and differs from it with the ID vector);
 *   the folder is replaced whole, the same items twice is an error;
 * - the engine ranks added items at every size (TypeScript and native kernels);
 * - POST /v1/items over the embedded store: the token guards it, ids N+1...,
 *   GET /v1/items/:id, POST /v1/recommend can return them at every size with
 *   the vector `items add` builds; 409 for a known ASIN, 400 naming a bad
 *   field, 503 when the encoder cannot load;
 * - two `fmrlrec serve` processes on one PostgreSQL schema (FMRLREC_TEST_PG):
 *   an item added on one is seen by the other, with the same id.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeP5Dataset } from '../src/data/p5';
import { generateSyntheticDataset } from '../src/data/synthetic';
import type { ItemInfo } from '../src/data/types';
import { addItemsToModelFolder } from '../src/deploy/add-items';
import { ITEM_RECIPE_FILE, ITEMS_FILE, ItemEntry, MANIFEST_FILE, SizeManifest } from '../src/deploy/format';
import { ItemVectorBuilder, loadItemVectorBuilder, parseItemToAdd } from '../src/deploy/new-items';
import { main } from '../src/cli/main';
import { getKernels } from '../src/kernels';
import { referenceKernels } from '../src/kernels/reference';
import { ITEM_ID_EMBEDDING } from '../src/model/layers/item-table';
import { loadTrainedRun } from '../src/run/trained-run';
import { TYPESCRIPT_ENGINE_KERNELS } from '../src/serve/engine';
import { BearerToken } from '../src/serve/http-guard';
import { DEFAULT_SERVER_OPTIONS, RecommendServer } from '../src/serve/http-server';
import { DEFAULT_LIVE_OPTIONS, LiveService, modelFingerprint } from '../src/serve/live';
import { DEFAULT_LIVE_ITEMS_OPTIONS, LiveItems, servedSizeFolder } from '../src/serve/live-items';
import { loadModelFolder } from '../src/serve/model-folder';
import { serviceKernels } from '../src/serve/native-kernels';
import { openEmbeddedStore } from '../src/store/embedded';
import type { LiveStore } from '../src/store/types';
import { UserError } from '../src/util/errors';
import { tempDir } from './deploy-fixtures';
import { writeTinyTextModel } from './hf-fixtures';
import { dropSchema, postgresUnavailable, schemaUrl, testSchema } from './pg-fixtures';

const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');
const COLDSTART = path.join(__dirname, '..', 'bench', 'coldstart.js');
const root = tempDir('new-items');
const data = path.join(root, 'toy');
const runDir = path.join(root, 'run');
const exported = path.join(root, 'export');
const pristine = path.join(root, 'pristine');
const textModel = writeTinyTextModel(path.join(root, 'tt'), { pooling: 'mean' });

/** The metadata fields of an item to add, as a JSON line or request entry would give them. */
function entry(asin: string, info: ItemInfo | null): Record<string, unknown> {
  return { asin, title: info?.title, brand: info?.brand, categories: info?.categories, price: info?.price };
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

let n = 0; // items of the trained model
let infos: (ItemInfo | null)[] = [];
let expected: Float32Array; // the trained item table with every ID vector zeroed, (N+1)×D
let withIds: Float32Array; // the same with the ID vectors
let width = 0;

before(async () => {
  writeP5Dataset(generateSyntheticDataset({ numUsers: 60, numItems: 24, numTopics: 3, maxLen: 8, seed: 5, name: 'toy' }), data);
  const quiet = { out: process.stdout.write };
  process.stdout.write = (() => true) as typeof process.stdout.write; // the commands' tables
  try {
    assert.equal(
      await main([
        'train',
        '--data',
        data,
        '--out',
        runDir,
        '--text-encoder',
        textModel,
        '--cache-dir',
        path.join(root, 'cache'),
        '--width',
        '16',
        '--epochs',
        '1',
        '--no-progress',
      ]),
      0,
    );
    assert.equal(await main(['export', '--run', runDir, '--size', 'all', '--out', exported, '--no-progress']), 0);
  } finally {
    process.stdout.write = quiet.out;
  }
  copyTree(exported, pristine);
  const run = await loadTrainedRun(runDir, { kern: referenceKernels, metrics: false });
  n = run.dataset.numItems;
  infos = run.dataset.items;
  width = run.model.width;
  withIds = run.model.itemTable();
  run.model.params.value(ITEM_ID_EMBEDDING).fill(0);
  expected = run.model.itemTable();
});

describe('fmrlrec items add', () => {
  test('the export carries the recipe: encoder, template, vocabulary', () => {
    const recipe = JSON.parse(fs.readFileSync(path.join(exported, 'size-16', ITEM_RECIPE_FILE), 'utf8'));
    assert.equal(recipe.textEncoder, `hf:${textModel}`);
    assert.equal(recipe.imageEncoder, null);
    assert.ok(recipe.attributes.brandAndCategory && recipe.attributes.titleWords);
    assert.ok(
      recipe.attributes.vocabulary.some((v: string) => v.startsWith('brand:')) && recipe.attributes.vocabulary.some((v: string) => v.startsWith('word:')),
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(exported, 'size-8', MANIFEST_FILE), 'utf8')) as SizeManifest;
    assert.ok(manifest.bytes[ITEM_RECIPE_FILE] > 0);
  });

  test('an added item is the trained item with the same metadata, without its ID vector, at every size', async () => {
    const file = path.join(root, 'new.jsonl');
    const lines = [];
    for (let i = 1; i <= n; i++) lines.push(JSON.stringify(entry(`NEW-${i}`, infos[i])));
    lines.push(JSON.stringify({ asin: 'NEW-unknown-brand', title: infos[1]?.title, brand: 'Zzzunheard', categories: ['Nowhere Category'] }));
    fs.writeFileSync(file, `${lines.join('\n')}\n\n`);
    const before = fs.readdirSync(root).sort();
    assert.equal(await main(['items', 'add', '--model', exported, '--items', file]), 0);
    assert.deepEqual(fs.readdirSync(root).sort(), before, 'nothing left beside the folder');
    for (const m of [8, 16]) {
      const model = loadModelFolder(path.join(exported, `size-${m}`));
      assert.equal(model.engine.numItems, 2 * n + 1);
      assert.equal(model.manifest.addedItems, n + 1);
      const items = JSON.parse(fs.readFileSync(path.join(exported, `size-${m}`, ITEMS_FILE), 'utf8')) as ItemEntry[];
      assert.deepEqual(
        items.slice(n, n + 2).map((e) => [e.id, e.asin, e.title]),
        [
          [n + 1, 'NEW-1', infos[1]?.title ?? ''],
          [n + 2, 'NEW-2', infos[2]?.title ?? ''],
        ],
      );
      // The engine scores item j against a one-hot user: its row, coordinate by coordinate.
      let worst = 0;
      let idPart = 0;
      for (let c = 0; c < m; c++) {
        const user = new Float32Array(m);
        user[c] = 1;
        const scores = model.engine.scoreAll(user, m);
        for (let i = 1; i <= n; i++) {
          worst = Math.max(worst, Math.abs(scores[n + i] - expected[i * width + c]));
          idPart = Math.max(idPart, Math.abs(scores[n + i] - withIds[i * width + c]));
        }
      }
      assert.ok(worst <= 1e-6, `size ${m}: added rows differ from the trained rows without ID vectors by ${worst}`);
      assert.ok(idPart > 1e-3, `size ${m}: the ID vectors should matter (${idPart})`);
    }
    const pristineModel = loadModelFolder(path.join(pristine, 'size-16'));
    const addedModel = loadModelFolder(path.join(exported, 'size-16'));
    const probe = Float32Array.from({ length: 16 }, (_, c) => Math.sin(c + 1));
    const before16 = pristineModel.engine.scoreAll(probe, 16);
    const after16 = addedModel.engine.scoreAll(probe, 16);
    for (let i = 1; i <= n; i++) assert.equal(after16[i], before16[i], `trained item ${i} keeps its score`);
  });

  test('the same items again, a bad line, one size of an every-size export: one-line errors, nothing written', async () => {
    const snapshot = fs.readFileSync(path.join(exported, 'size-16', ITEMS_FILE), 'utf8');
    const again = path.join(root, 'again.jsonl');
    fs.writeFileSync(again, `${JSON.stringify({ asin: 'BRAND-NEW', title: 'x' })}\n${JSON.stringify(entry('NEW-3', infos[3]))}\n`);
    await assert.rejects(
      addItemsToModelFolder(exported, [parseItemToAdd({ asin: 'NEW-3' }, '')]),
      /item NEW-3 is already in the model \(id \d+\); nothing was added/,
    );
    const bad = path.join(root, 'bad.jsonl');
    fs.writeFileSync(bad, `${JSON.stringify({ asin: 'OK1' })}\n{"asin": "OK2", "colour": "red"}\n`);
    const twice = path.join(root, 'twice.jsonl');
    fs.writeFileSync(twice, `${JSON.stringify({ asin: 'T1' })}\n\n${JSON.stringify({ asin: 'T1' })}\n`);
    const errors: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      assert.equal(await main(['items', 'add', '--model', exported, '--items', again]), 1);
      assert.equal(await main(['items', 'add', '--model', exported, '--items', bad]), 1);
      assert.equal(await main(['items', 'add', '--model', exported, '--items', twice]), 1);
      assert.equal(await main(['items', 'add', '--model', path.join(exported, 'size-8'), '--items', again]), 1);
      assert.equal(await main(['items', 'remove', '--model', exported]), 1);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(errors[0], `fmrlrec items: item NEW-3 is already in the model (id ${n + 3}); nothing was added\n`);
    assert.match(errors[1], /bad\.jsonl:2: unknown field "colour" \(fields: asin, title, brand, categories, price\)\n$/);
    assert.match(errors[2], /twice\.jsonl:3: item T1 is also on line 1\n$/);
    assert.match(errors[3], /size-8 is one size of the export in .*: add the items there, so that every size has them\n$/);
    assert.match(errors[4], /expected "fmrlrec items add --model <dir> --items <file>"/);
    assert.ok(
      errors.every((e) => !e.includes('    at ')),
      'no stack trace',
    );
    assert.equal(fs.readFileSync(path.join(exported, 'size-16', ITEMS_FILE), 'utf8'), snapshot);
  });

  test('a recipe that cannot build items is refused in one line', async () => {
    const folder = path.join(root, 'no-recipe');
    copyTree(path.join(pristine, 'size-8'), folder);
    fs.rmSync(path.join(folder, ITEM_RECIPE_FILE));
    await assert.rejects(
      loadItemVectorBuilder(folder),
      (err: Error) => err instanceof UserError && /has no item_recipe\.json, which new items need \(export the run again/.test(err.message),
    );
    const recipe = JSON.parse(fs.readFileSync(path.join(pristine, 'size-8', ITEM_RECIPE_FILE), 'utf8'));
    assert.throws(() => new ItemVectorBuilder({ ...recipe, imageEncoder: 'siglip' }, {}, null), /image part \(siglip\)/);
    assert.throws(() => new ItemVectorBuilder({ ...recipe, textEncoder: 'reference' }, {}, null), /imported from the reference code/);
    assert.throws(() => new ItemVectorBuilder({ ...recipe, textEncoder: null, featureDim: 0, attributes: null }, {}, null), /only by their learned ID vectors/);
  });
});

describe('engine: added items are ranked at every size', () => {
  for (const [name, kernels] of [
    ['TypeScript', TYPESCRIPT_ENGINE_KERNELS],
    ['native', serviceKernels(getKernels())],
  ] as const) {
    test(`${name} kernels`, () => {
      const { engine, catalogue } = loadModelFolder(pristine, kernels);
      const user = engine.userVector([1, 2, 3]);
      // The user's own direction, scaled: the best item at every size (each size scores the prefix).
      const best = user.map((v) => 1e3 * v);
      const worst = user.map((v) => -1e3 * v);
      const first = engine.addItems(Float32Array.from([...best, ...worst]));
      catalogue.add([
        { id: first, asin: 'BEST', title: 'best' },
        { id: first + 1, asin: 'WORST', title: 'worst' },
      ]);
      assert.equal(first, n + 1);
      assert.equal(engine.numItems, n + 2);
      for (const m of engine.sizes) {
        const prefix = user.slice(0, m);
        const top = engine.rankBatch(prefix, m, [3], [null])[0];
        assert.equal(top[0].id, n + 1, `size ${m}`);
        const all = engine.rank(prefix, m, { k: engine.numItems });
        assert.equal(all[all.length - 1].id, n + 2, `size ${m}`);
        let norm = 0;
        for (let c = 0; c < m; c++) norm += prefix[c] * best[c];
        assert.ok(Math.abs(top[0].score - norm) <= 1e-3 * Math.abs(norm));
        assert.equal(engine.rank(prefix, m, { k: 1, exclude: [n + 1] })[0].id === n + 1, false);
      }
      assert.throws(() => engine.addItems(new Float32Array(engine.width + 1)), /not rows of width/);
      assert.throws(() => catalogue.add([{ id: n + 3, asin: 'BEST', title: '' }]), /already known/);
      assert.equal(catalogue.idOfAsin('WORST'), n + 2);
    });
  }
});

/** A JSON call. */
async function call(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}
const TOKEN = 'new-items-token';
const post = (url: string, body: unknown, token: string | null = TOKEN) =>
  call(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('POST /v1/items (embedded store)', () => {
  let store: LiveStore;
  let server: RecommendServer;
  let base = '';
  let failingBase = '';
  let failing: RecommendServer;
  const stateDir = tempDir('new-items-state');

  before(async () => {
    const folder = path.join(root, 'served');
    copyTree(pristine, folder);
    const model = loadModelFolder(folder);
    store = await openEmbeddedStore(stateDir, { modelFingerprint: modelFingerprint(model) });
    const items = new LiveItems(model.engine, model.catalogue, store, () => loadItemVectorBuilder(servedSizeFolder(model)), {
      ...DEFAULT_LIVE_ITEMS_OPTIONS,
      pollMs: null,
    });
    await items.start();
    const live = new LiveService(model.engine, model.catalogue, store, DEFAULT_LIVE_OPTIONS, items);
    server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0, token: new BearerToken(TOKEN), live, items });
    base = `http://127.0.0.1:${(await server.listen()).port}`;
    // A service whose encoder cannot load.
    const other = loadModelFolder(pristine);
    const noEncoder = new LiveItems(
      other.engine,
      other.catalogue,
      store,
      async () => {
        throw new UserError('needs @energetic-ai/embeddings (not installed): npm install @energetic-ai/embeddings');
      },
      { ...DEFAULT_LIVE_ITEMS_OPTIONS, pollMs: null },
    );
    failing = new RecommendServer(other, { ...DEFAULT_SERVER_OPTIONS, port: 0, live: new LiveService(other.engine, other.catalogue, store), items: noEncoder });
    failingBase = `http://127.0.0.1:${(await failing.listen()).port}`;
  });

  after(async () => {
    await server?.close();
    await failing?.close();
    await store?.close().catch(() => undefined); // closed already by the last test
  });

  test('added items are stored, retrievable and recommendable at every size, with the vectors of "items add"', async () => {
    const body = { items: [entry('HTTP-1', infos[4]), entry('HTTP-2', infos[5]), { asin: 'HTTP-3', title: 'Blue lipstick cream', categories: ['Nail'] }] };
    assert.equal((await post(`${base}/v1/items`, body, null)).status, 401);
    assert.equal((await post(`${base}/v1/items`, body, 'wrong')).status, 401);
    const added = await post(`${base}/v1/items`, body);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(added.body, {
      added: [
        { asin: 'HTTP-1', id: n + 1 },
        { asin: 'HTTP-2', id: n + 2 },
        { asin: 'HTTP-3', id: n + 3 },
      ],
    });
    assert.deepEqual((await call(`${base}/v1/items/HTTP-2`)).body, { id: n + 2, asin: 'HTTP-2', title: infos[5]?.title ?? '' });
    assert.deepEqual((await call(`${base}/v1/items/${n + 3}`)).body, { id: n + 3, asin: 'HTTP-3', title: 'Blue lipstick cream' });
    assert.equal((await call(`${base}/healthz`)).body.items, n + 3);
    // The same items offline: the scores HTTP gives are those of the folder "items add" writes.
    const offline = path.join(root, 'offline');
    copyTree(pristine, offline);
    await addItemsToModelFolder(
      offline,
      body.items.map((e, i) => parseItemToAdd(e, `items[${i}]`)),
    );
    const offlineModel = loadModelFolder(offline);
    const history = [infos[1]?.asin ?? '1', 2, 3].map(String);
    for (const size of [8, 16]) {
      const answer = await post(`${base}/v1/recommend`, { history, k: 3, size, candidates: ['HTTP-1', 'HTTP-2', 'HTTP-3'] });
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body.items.map((i: { asin: string }) => i.asin).sort(), ['HTTP-1', 'HTTP-2', 'HTTP-3']);
      const user = offlineModel.engine.userVector(offlineModel.catalogue.resolveAll(history).ids, size);
      const scores = offlineModel.engine.scoreItems(user, size, [n + 1, n + 2, n + 3]);
      for (const item of answer.body.items) assert.ok(Math.abs(item.score - scores[item.id - n - 1]) <= 1e-5, `size ${size}, ${item.asin}`);
      // Whole-catalogue ranking returns them too.
      const all = await post(`${base}/v1/recommend`, { history, k: n + 3, size });
      assert.deepEqual(
        all.body.items
          .map((i: { id: number }) => i.id)
          .filter((id: number) => id > n)
          .sort(),
        [n + 1, n + 2, n + 3],
      );
    }
  });

  test('409 for a known ASIN, 400 naming a bad field, 503 when vectors cannot be built', async () => {
    const known = await post(`${base}/v1/items`, { items: [{ asin: 'FRESH' }, { asin: 'HTTP-1' }] });
    assert.equal(known.status, 409);
    assert.deepEqual(known.body, { error: `item HTTP-1 is already in the catalogue (id ${n + 1}); nothing was added`, field: 'items[1].asin' });
    const trained = await post(`${base}/v1/items`, { items: [{ asin: infos[2]?.asin }] });
    assert.equal(trained.status, 409);
    assert.equal((await call(`${base}/v1/items/FRESH`)).status, 404);
    const cases: [unknown, string][] = [
      [{ items: [] }, 'items'],
      [{ item: [] }, 'item'],
      [{ items: [{ asin: 'A B' }] }, 'items[0].asin'],
      [{ items: [{ asin: 'X1', brand: 3 }] }, 'items[0].brand'],
      [{ items: [{ asin: 'X1', categories: 'Nail' }] }, 'items[0].categories'],
      [{ items: [{ asin: 'X1', price: [3] }] }, 'items[0].price'],
      [{ items: [{ asin: 'X1' }, { asin: 'X1' }] }, 'items[1].asin'],
      [{ items: [{ asin: 'X1', colour: 'red' }] }, 'items[0].colour'],
    ];
    for (const [body, field] of cases) {
      const res = await post(`${base}/v1/items`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.field, field);
    }
    assert.equal((await call(`${base}/v1/items`, { method: 'GET' })).status, 405);
    const unavailable = await post(`${failingBase}/v1/items`, { items: [{ asin: 'Z1', title: 'x' }] });
    assert.equal(unavailable.status, 503);
    assert.match(unavailable.body.error, /^this service cannot add items: needs @energetic-ai\/embeddings \(not installed\)/);
  });

  test("items added to the folder offline after the store numbered its own: the store's ids would shift, refused", async () => {
    const grown = path.join(root, 'grown');
    copyTree(pristine, grown);
    await addItemsToModelFolder(grown, [parseItemToAdd({ asin: 'OFFLINE-1', title: 'Red soap' }, '')]);
    const model = loadModelFolder(grown);
    const items = new LiveItems(model.engine, model.catalogue, store, () => loadItemVectorBuilder(servedSizeFolder(model)), {
      ...DEFAULT_LIVE_ITEMS_OPTIONS,
      pollMs: null,
    });
    const refused = new RegExp(`numbers its added items after ${n} items, this model folder has ${n + 1} \\(items were added to the folder`);
    await assert.rejects(items.start(), refused);
    await assert.rejects(store.addItems([{ asin: 'LATE', title: '', vector: new Float32Array(width) }], n + 1), refused);
    assert.equal(await store.itemsBase(), n);
  });

  test('the store, holding items added to this model, is refused to another', async () => {
    await server.close();
    await failing.close();
    await store.close();
    await assert.rejects(
      openEmbeddedStore(stateDir, { modelFingerprint: 'model-b' }),
      /holds items added to another model \(model [0-9a-f]+, this one is model-b\)/,
    );
  });
});

/** `fmrlrec serve` on a PostgreSQL schema; resolves with the process and its base URL. */
async function startReplica(folder: string, store: string): Promise<{ child: ChildProcessWithoutNullStreams; base: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', folder, '--port', '0', '--quiet', '--store', store], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, FMRLREC_TOKEN: '' },
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const base = await new Promise<string | null>((resolve) => {
    child.stderr.on('data', (c) => {
      stderr += c;
      const m = /on (http:\/\/127\.0\.0\.1:[0-9]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    exited.then(() => resolve(null));
  });
  assert.ok(base, stderr);
  return {
    child,
    base,
    stop: async () => {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    },
  };
}

test('two replicas on one PostgreSQL: an item added on one is seen by the other, with the same id', async (t) => {
  const reason = await postgresUnavailable();
  if (reason) {
    t.skip(reason);
    return;
  }
  const schema = testSchema('items');
  const folder = path.join(root, 'replicated');
  copyTree(pristine, folder);
  const url = schemaUrl(schema);
  const [a, b] = await Promise.all([startReplica(folder, url), startReplica(folder, url)]);
  try {
    const added = await post(`${a.base}/v1/items`, { items: [entry('REPL-1', infos[6]), { asin: 'REPL-2', title: 'Red soap', brand: infos[6]?.brand }] }, null);
    assert.deepEqual(added.body, {
      added: [
        { asin: 'REPL-1', id: n + 1 },
        { asin: 'REPL-2', id: n + 2 },
      ],
    });
    // An event naming it, on the other replica, before its next poll: applied.
    assert.deepEqual((await post(`${b.base}/v1/events`, { events: [{ id: 'repl-e1', user: 'repl-user', item: 'REPL-1' }] }, null)).body, {
      applied: 1,
      duplicates: 0,
    });
    const rec = await call(`${b.base}/v1/users/repl-user/recommendations?k=${n + 2}&size=8`);
    assert.deepEqual(
      rec.body.items
        .map((i: { id: number }) => i.id)
        .filter((id: number) => id > n)
        .sort(),
      [n + 1, n + 2],
    );
    // At once on the other replica: a miss asks the store.
    assert.deepEqual((await call(`${b.base}/v1/items/REPL-2`)).body, { id: n + 2, asin: 'REPL-2', title: 'Red soap' });
    const fromB = await post(`${b.base}/v1/items`, { items: [{ asin: 'REPL-3', title: 'Blue cream' }] }, null);
    assert.deepEqual(fromB.body, { added: [{ asin: 'REPL-3', id: n + 3 }] });
    assert.equal((await post(`${a.base}/v1/items`, { items: [{ asin: 'REPL-3' }] }, null)).status, 409);
    for (const base of [a.base, b.base]) {
      for (const size of [8, 16]) {
        const res = await post(`${base}/v1/recommend`, { history: ['REPL-1', infos[1]?.asin], k: n + 3, size }, null);
        assert.deepEqual(
          res.body.items
            .map((i: { id: number }) => i.id)
            .filter((id: number) => id > n)
            .sort(),
          [n + 1, n + 2, n + 3],
        );
      }
    }
    const scores = await Promise.all(
      [a.base, b.base].map((base) => post(`${base}/v1/recommend`, { history: [infos[2]?.asin], k: 3, candidates: ['REPL-1', 'REPL-2', 'REPL-3'] }, null)),
    );
    assert.deepEqual(scores[0].body, scores[1].body, 'both replicas hold the same vectors under the same ids');
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await dropSchema(schema);
  }
});

test('bench coldstart, end to end on the toy run: held-out items leave training, come back through "items add", and are ranked', async () => {
  const work = path.join(root, 'coldstart');
  const json = path.join(root, 'coldstart.json');
  const child = spawn(process.execPath, [COLDSTART, '--full-run', runDir, '--fraction', '0.25', '--epochs', '1', '--work', work, '--json', json], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  child.stderr.on('data', (c) => {
    stderr += c;
  });
  assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0, stderr);
  const result = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.equal(result.heldOut, 6);
  assert.ok(result.users > 0);
  assert.deepEqual(
    result.rows.map((r: { size: number | null }) => r.size),
    [8, 16, 8, 16, null],
  );
  assert.match(stdout, /\| held-out items added after training \(no ID vector\) +\| +8 \|/);
  assert.match(stdout, /\| popularity \(counts over the full data\) +\| +– \|/);
  const reduced = JSON.parse(fs.readFileSync(path.join(work, 'data', 'toy-coldstart-s42', 'datamaps.json'), 'utf8'));
  const items = JSON.parse(fs.readFileSync(path.join(work, 'model', 'size-16', ITEMS_FILE), 'utf8')) as ItemEntry[];
  const heldOut = items.slice(n - 6).map((e) => e.asin);
  assert.equal(items.length, n);
  assert.equal(Object.keys(reduced.item2id).length, n - 6);
  for (const asin of heldOut) assert.ok(!(asin in reduced.item2id), `${asin} left training`);
});
