/**
 * Inference engine tests: streaming (one step per interaction) agrees with
 * scoring from the full history; the MRL prefix property of user vectors;
 * top-k order; the funnel; catalogue resolution; request checking and answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { evalBatches } from '../src/data/batches';
import { leaveOneOut } from '../src/data/split';
import { exportAllSizes } from '../src/deploy/export';
import { referenceKernels } from '../src/kernels/reference';
import { FmrlRec } from '../src/model/fmrlrec';
import { Catalogue } from '../src/serve/catalogue';
import { funnelRank } from '../src/serve/funnel';
import { loadModelFolder } from '../src/serve/model-folder';
import { serviceKernels } from '../src/serve/native-kernels';
import { getKernels } from '../src/kernels';
import { parseRecommendRequest, recommend, recommendBatch, RecommendRequest, RequestError } from '../src/serve/recommender';
import { topK } from '../src/serve/top-k';
import { Rng } from '../src/util/rng';
import { fullModelScores, maxAbsDiff, tempDir, tinyModel, tinySource } from './deploy-fixtures';

const tiny = tinyModel({ numBlocks: 2 });
const dir = tempDir('engine');
exportAllSizes(tinySource(tiny, 6), dir);
const { engine, catalogue } = loadModelFolder(dir);

test('engine: streaming one interaction at a time agrees with scoring the full history, at every size', () => {
  for (const m of engine.sizes) {
    for (const seq of tiny.dataset.sequences.slice(0, 8)) {
      const stream = engine.startStream(m);
      assert.ok(maxAbsDiff(engine.streamVector(stream), engine.userVector([], m)) === 0, 'empty history');
      for (let t = 0; t < seq.length; t++) {
        engine.push(stream, seq[t]);
        const history = Array.from(seq.subarray(0, t + 1));
        const full = engine.userVector(history, m, Infinity);
        assert.ok(maxAbsDiff(engine.streamVector(stream), full) <= 1e-6, `size ${m}, step ${t}`);
        if (history.length <= engine.maxLen) {
          assert.deepEqual(engine.userVector(history, m), full, 'within the window both readings are the same');
        }
      }
      assert.equal(stream.length, seq.length);
    }
  }
});

test('engine: user vectors agree with evaluation (FmrlRec.lastHiddenStates) to 1e-5 at every size, TypeScript twin and selected kernels', () => {
  const split = leaveOneOut(tiny.dataset);
  const d = tiny.model.width;
  for (const kern of [referenceKernels, getKernels()]) {
    const model = new FmrlRec(tiny.model.config, tiny.features, kern);
    model.params.values.set(tiny.model.params.values);
    const e = model.itemTable();
    for (const which of ['valid', 'test'] as const) {
      for (const batch of evalBatches(split, which, { batchSize: 16, maxLen: engine.maxLen })) {
        const hidden = model.lastHiddenStates(batch, e);
        const histories = Array.from({ length: batch.size }, (_, b) =>
          Array.from(batch.inputs.subarray(batch.offsets[b], batch.offsets[b + 1])).filter((item) => item > 0),
        );
        for (const m of engine.sizes) {
          const users = engine.userVectors(histories, m);
          for (let b = 0; b < batch.size; b++) {
            const diff = maxAbsDiff(users.subarray(b * m, (b + 1) * m), hidden.subarray(b * d, b * d + m));
            assert.ok(diff <= 1e-5, `${kern.name}, ${which}, size ${m}, user ${batch.users[b]}: ${diff}`);
          }
        }
      }
    }
  }
});

test('engine: a stream is plain data: a copy taken mid-way goes on exactly like the original', () => {
  const seq = Array.from(tiny.dataset.sequences[5]);
  const stream = engine.startStream(8);
  for (const item of seq.slice(0, 3)) engine.push(stream, item);
  const copy = structuredClone(stream);
  for (const item of seq.slice(3)) {
    engine.push(stream, item);
    engine.push(copy, item);
  }
  assert.deepEqual(copy, stream);
  assert.throws(() => engine.push({ ...engine.startStream(8), hRe: [] }, 1), /holds 2 pairs of Float32Array\(8\)/);
});

test('engine: a stream never forgets; the full-history reading keeps the last maxLen items like evaluation', () => {
  const long = Array.from(tiny.dataset.sequences[2]).concat(Array.from(tiny.dataset.sequences[4]));
  assert.ok(long.length > engine.maxLen);
  const stream = engine.startStream(8);
  for (const item of long) engine.push(stream, item);
  assert.ok(maxAbsDiff(engine.streamVector(stream), engine.userVector(long, 8, Infinity)) <= 1e-6);
  const windowed = engine.scoreAll(engine.userVector(long, 8), 8);
  assert.ok(maxAbsDiff(windowed, fullModelScores(tiny.model, long, 8, engine.maxLen)) <= 1e-5);
});

test('engine: the first m coordinates of a larger user vector are the size-m user vector (MRL prefix)', () => {
  const history = Array.from(tiny.dataset.sequences[9]);
  const big = engine.userVector(history, 16);
  for (const m of [4, 8]) assert.deepEqual(big.subarray(0, m), engine.userVector(history, m));
  assert.throws(() => engine.scoreAll(engine.userVector(history, 4), 8), /cannot score at size 8/);
  assert.throws(() => engine.userVector(history, 12), /sizes: 4, 8, 16/);
  assert.throws(() => engine.push(engine.startStream(4), 0), /not in 1\.\./);
});

test('top-k: best first, ties by lower id, exclusions, candidates, k beyond the catalogue', () => {
  const scores = Float32Array.from([-Infinity, 0.5, 2, 2, NaN, 1, 3]);
  assert.deepEqual(
    topK(scores, 3, null, null).map((r) => r.id),
    [6, 2, 3],
  );
  assert.deepEqual(
    topK(scores, 3, new Set([6, 2]), null).map((r) => r.id),
    [3, 5, 1],
  );
  assert.deepEqual(
    topK(scores, 10, null, null).map((r) => r.id),
    [6, 2, 3, 5, 1],
  );
  assert.deepEqual(
    topK(Float32Array.from([1, 5, 5]), 2, null, [9, 4, 7]).map((r) => r.id),
    [4, 7],
  );
  assert.deepEqual(topK(scores, 0, null, null), []);
  const rng = new Rng(5);
  for (let trial = 0; trial < 200; trial++) {
    const values = Float32Array.from({ length: 1 + rng.int(300) }, () => rng.int(20) / 4); // many ties
    const k = 1 + rng.int(40);
    const sorted = Array.from(values, (score, id) => ({ id, score }))
      .slice(1)
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, k);
    assert.deepEqual(topK(values, k, null, null), sorted);
    const exclude = new Set(Array.from({ length: rng.int(20) }, () => rng.int(values.length)));
    const ids = Array.from(values, (_, i) => i); // candidates in a shuffled order
    for (let i = ids.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const byId = (id: number) => ({ id, score: values[id] });
    const expected = ids
      .filter((id) => !exclude.has(id))
      .map(byId)
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, k);
    assert.deepEqual(
      topK(
        Float32Array.from(ids, (id) => values[id]),
        k,
        exclude,
        ids,
      ),
      expected,
    );
  }
});

test('funnel: a shortlist of the whole catalogue gives the exhaustive ranking; a small one reranks with the large size', () => {
  const history = Array.from(tiny.dataset.sequences[11]);
  const user = engine.userVector(history, 16);
  const exhaustive = engine.rank(user, 16, { k: 5 });
  assert.deepEqual(funnelRank(engine, user, { shortlistSize: 4, shortlist: engine.numItems, size: 16, k: 5 }), exhaustive);
  const small = funnelRank(engine, user, { shortlistSize: 4, shortlist: 8, size: 16, k: 5 });
  const shortlist = new Set(engine.rank(user, 4, { k: 8 }).map((r) => r.id));
  assert.ok(small.every((r) => shortlist.has(r.id)));
  const scores = engine.scoreAll(user, 16);
  for (const r of small) assert.equal(r.score, scores[r.id]);
});

test('catalogue: ASINs, ids as numbers or digits, unknown references collected', () => {
  const c = new Catalogue(
    [
      { id: 1, asin: 'B01', title: 'one' },
      { id: 2, asin: '0002', title: 'two' },
      { id: 3, asin: '', title: '' },
    ],
    3,
  );
  assert.deepEqual(c.resolveAll(['B01', 2, '3', '0002', 'nope', 4, 0, '9']), { ids: [1, 2, 3, 2], unknown: ['nope', 4, 0, '9'] });
  assert.throws(() => new Catalogue([{ id: 1, asin: 'a', title: '' }], 2), /item 2 is missing/);
});

test('recommend: answers {size, items}, reports unknown items, excludes history, ranks candidates', () => {
  const asin = (id: number) => catalogue.item(id)!.asin;
  const history = Array.from(tiny.dataset.sequences[0]).map(asin);
  const request = parseRecommendRequest({ history: [...history, 'NOT-AN-ITEM'], k: 5, size: 8 }, engine);
  const answer = recommend(engine, catalogue, request);
  assert.equal(answer.size, 8);
  assert.equal(answer.items.length, 5);
  assert.deepEqual(answer.unknown, { history: ['NOT-AN-ITEM'] });
  const expected = engine.rank(engine.userVector(Array.from(tiny.dataset.sequences[0]), 8), 8, { k: 5 });
  assert.deepEqual(
    answer.items.map((i) => [i.id, i.score]),
    expected.map((r) => [r.id, r.score]),
  );
  assert.equal(answer.items[0].asin, asin(answer.items[0].id));

  const excluded = recommend(engine, catalogue, parseRecommendRequest({ history, k: engine.numItems, exclude_history: true }, engine));
  assert.equal(excluded.size, 16);
  const seen = new Set(Array.from(tiny.dataset.sequences[0]));
  assert.equal(excluded.items.length, engine.numItems - seen.size);
  assert.ok(excluded.items.every((i) => !seen.has(i.id)));

  const picked = recommend(engine, catalogue, parseRecommendRequest({ history, k: 3, candidates: [3, asin(7), 3, 'zzz'] }, engine));
  assert.deepEqual(picked.items.map((i) => i.id).sort(), [3, 7]);
  assert.deepEqual(picked.unknown, { candidates: ['zzz'] });

  const funnel = recommend(engine, catalogue, parseRecommendRequest({ history, k: 3, funnel: { size: 4, shortlist: engine.numItems } }, engine));
  assert.deepEqual(funnel.items, recommend(engine, catalogue, parseRecommendRequest({ history, k: 3 }, engine)).items);
});

test('recommend: a batch answers every request as if alone, with the TypeScript or the native products and ranking', () => {
  const requests: RecommendRequest[] = tiny.dataset.sequences.slice(0, 12).map((seq, i) => ({
    history: Array.from(seq),
    k: 4,
    size: [4, 8, 16][i % 3],
    excludeHistory: i % 2 === 0,
    ...(i % 4 === 1 ? { candidates: [1, 2, 3, 5, 8, 13] } : {}),
    ...(i % 4 === 3 ? { funnel: { size: 4, shortlist: 10 } } : {}),
  }));
  requests.push({ history: [], k: 3 });
  const alone = requests.map((r) => recommend(engine, catalogue, r));
  assert.deepEqual(recommendBatch(engine, catalogue, requests), alone);
  const native = loadModelFolder(dir, serviceKernels(getKernels()));
  const batched = recommendBatch(native.engine, native.catalogue, requests);
  batched.forEach((answer, i) => {
    assert.equal(answer.size, alone[i].size);
    assert.deepEqual(
      answer.items.map((x) => x.id),
      alone[i].items.map((x) => x.id),
      `request ${i}`,
    );
    assert.ok(
      maxAbsDiff(
        answer.items.map((x) => x.score),
        alone[i].items.map((x) => x.score),
      ) <= 1e-5,
      `request ${i}`,
    );
  });
});

test('recommend: a bad request names the field', () => {
  const cases: [unknown, string][] = [
    [[], 'body'],
    [{}, 'history'],
    [{ history: 'B01' }, 'history'],
    [{ history: [true] }, 'history[0]'],
    [{ history: [], k: 0 }, 'k'],
    [{ history: [], k: 2.5 }, 'k'],
    [{ history: [], size: 12 }, 'size'],
    [{ history: [], exclude_history: 'yes' }, 'exclude_history'],
    [{ history: [], candidates: {} }, 'candidates'],
    [{ history: [], funnel: { size: 16, shortlist: 50 }, size: 8 }, 'funnel.size'],
    [{ history: [], funnel: { size: 4, shortlist: 2 } }, 'funnel.shortlist'],
    [{ history: [], funnel: { size: 4, shortlist: 20, extra: 1 } }, 'funnel.extra'],
    [{ history: [], excludeHistory: true }, 'excludeHistory'],
  ];
  for (const [body, field] of cases) {
    assert.throws(
      () => parseRecommendRequest(body, engine),
      (e: Error) => e instanceof RequestError && e.field === field,
      JSON.stringify(body),
    );
  }
});

test('fmrlrec/engine (src/engine.ts, the inference forward included) bundles for a browser: no Node module, no native code', () => {
  const root = path.resolve(__dirname, '..', '..');
  const result = esbuild.buildSync({
    entryPoints: [path.join(root, 'src', 'engine.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.includes('src/model/inference.ts') && inputs.includes('src/serve/engine.ts'), inputs.join(', '));
  assert.deepEqual(
    inputs.filter((file) => !file.startsWith('src/') || file.startsWith('src/kernels/index')),
    [],
  );
  assert.equal(require.resolve('fmrlrec/engine'), path.join(root, 'dist', 'src', 'engine.js'), 'package.json exports "./engine"');
});
