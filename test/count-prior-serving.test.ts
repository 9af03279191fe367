/**
 * The count prior on the serving side, end to end: the engine's rankings with
 * a history equal the brute-force top k of float64 (z_i + β_m · log(1 + c_i))
 * over the catalogue (c counted here from the rule's definition, not by
 * src/model/count-prior.ts), in the plain TypeScript path and the topItems
 * path, for a batch of users, for candidates and through the funnel (each
 * step at its own size's β); an export writes the prior into every size
 * folder with β of the sizes up to m and the loaded folder ranks like the
 * in-memory model; a folder missing the counts is refused with a message that
 * names the file; POST /v1/recommend, recommendBatch and the live routes add
 * the bonus of the user's history. Each comparison is checked to be one that
 * a dropped bonus, a wrong size's β or a top list not widened would fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportAllSizes, ExportSource, servingModel } from '../src/deploy/export';
import { CONFIG_FILE, COUNT_PRIOR_FILE, ExportedConfig, MANIFEST_FILE, SizeManifest, sizeFolderName } from '../src/deploy/format';
import { getKernels } from '../src/kernels';
import { type CountPrior, type CountRule, countRule, type NeighbourReach, PairCounts } from '../src/model/count-prior';
import { EngineKernels, InferenceEngine, TopItems, typescriptGemm } from '../src/serve/engine';
import { funnelRank } from '../src/serve/funnel';
import { DEFAULT_SERVER_OPTIONS, RecommendServer } from '../src/serve/http-server';
import { DEFAULT_LIVE_OPTIONS, LiveService, modelFingerprint } from '../src/serve/live';
import { loadModelFolder } from '../src/serve/model-folder';
import { serviceKernels } from '../src/serve/native-kernels';
import { recommendBatch, RecommendRequest } from '../src/serve/recommender';
import type { RankedItem } from '../src/serve/top-k';
import { openEmbeddedStore } from '../src/store/embedded';
import type { LiveStore } from '../src/store/types';
import { decodeSafetensors } from '../src/util/safetensors';
import { writeSafetensors } from '../src/util/safetensors-file';
import { UserError } from '../src/util/errors';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';

const MAX_LEN = 6;
const tiny = tinyModel(); // sizes 4, 8, 16; 40 items
const SIZES = tiny.model.config.dims;
const N = tiny.dataset.numItems;
/** The histories the priors count from. */
const COUNTED = tiny.dataset.sequences.slice(0, 20);

function makePrior(rule: CountRule, reach: NeighbourReach, beta: Record<string, number>): CountPrior {
  return { rule, reach, beta, counts: PairCounts.fromHistories(COUNTED, countRule(rule, reach)) };
}

// Distinct β per size; a negative one (a fit never gives one, a config may) is what makes the widening of the network's top list matter.
const FOLLOWERS = makePrior('followers', { window: 2, context: 2 }, { '4': -0.5, '8': 0.35, '16': 0.9 });
const NEIGHBOURS = makePrior('neighbours', { window: 3, context: 3 }, { '4': 0.2, '8': -0.3, '16': 1.3 });

/** The histories the tests rank for: users' sequences the prior did not count, one item, and none. */
const HISTORIES: number[][] = [...tiny.dataset.sequences.slice(20, 44).map((s) => Array.from(s)), [7], []];

/** c_i of every item with a count for `history`, from the rule's definition (docs/method.md §5.11), over COUNTED. */
function naiveCounts(prior: CountPrior, history: readonly number[]): Map<number, number> {
  const { window, context } = prior.reach;
  const bothWays = prior.rule === 'neighbours';
  const out = new Map<number, number>();
  const add = (item: number, w: number) => out.set(item, (out.get(item) ?? 0) + w);
  for (let j = 0; j < context && j < history.length; j++) {
    const a = history[history.length - 1 - j];
    const wj = 2 ** (context - 1 - j);
    for (const seq of COUNTED) {
      for (let t = 0; t < seq.length; t++) {
        for (let k = 1; k <= window && t - k >= 0; k++) {
          const w = wj * 2 ** (window - k);
          if (seq[t - k] === a) add(seq[t], w);
          if (bothWays && seq[t] === a) add(seq[t - k], w);
        }
      }
    }
  }
  return out;
}

interface Expect {
  prior: CountPrior;
  /** null: no bonus. */
  history: readonly number[] | null;
  beta: number;
  exclude?: ReadonlySet<number> | null;
  candidates?: readonly number[];
}

/** The best k of float64 z_i + β·log(1 + c_i) over all items (or the candidates), z = engine.scoreAll(user, m); ties lower id first. */
function bruteForce(engine: InferenceEngine, user: Float32Array, m: number, k: number, e: Expect): RankedItem[] {
  const z = engine.scoreAll(user, m);
  const counts = e.history ? naiveCounts(e.prior, e.history) : new Map<number, number>();
  const items = e.candidates ?? Array.from({ length: engine.numItems }, (_, i) => i + 1);
  return items
    .filter((id) => !e.exclude?.has(id))
    .map((id) => {
      const c = counts.get(id);
      return { id, score: c === undefined ? z[id] : z[id] + e.beta * Math.log1p(c) };
    })
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}

/** What a ranking whose network top list was not widened would return: the network's top k, its bonused items put back at their bonused scores. */
function notWidened(engine: InferenceEngine, user: Float32Array, m: number, k: number, e: Expect): number[] {
  const z = engine.scoreAll(user, m);
  const counts = e.history ? naiveCounts(e.prior, e.history) : new Map<number, number>();
  const network = bruteForce(engine, user, m, k, { ...e, history: null });
  const out = network.filter((r) => !counts.has(r.id));
  for (const [id, c] of counts) if (!e.exclude?.has(id)) out.push({ id, score: z[id] + e.beta * Math.log1p(c) });
  return out
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k)
    .map((r) => r.id);
}

const ids = (list: readonly RankedItem[]) => list.map((r) => r.id);
const sameIds = (a: readonly RankedItem[], b: readonly RankedItem[]) => ids(a).join() === ids(b).join();

/** A correct topItems in plain TypeScript: the engine's own products (so the same float32 scores), a full sort. */
const typescriptTopItems: TopItems = (users, table, b, n1, d, k, out, scores) => {
  const row = new Float32Array(n1 - 1);
  for (let r = 0; r < b; r++) {
    typescriptGemm(1, n1 - 1, d, 1, users.subarray(r * d, (r + 1) * d), d, table.subarray(d), d, 0, row, n1 - 1);
    const order = Array.from(row, (_, i) => i + 1).sort((x, y) => row[y - 1] - row[x - 1] || x - y);
    for (let x = 0; x < k; x++) {
      out[r * k + x] = x < order.length ? order[x] : 0;
      scores[r * k + x] = x < order.length ? row[order[x] - 1] : -Infinity;
    }
  }
};

const servingSource = (countPrior: CountPrior | null) => ({ model: tiny.model, dataset: tiny.dataset, maxLen: MAX_LEN, countPrior });
const engineWith = (prior: CountPrior | null, kernels?: EngineKernels) => servingModel(servingSource(prior), tiny.model.width, kernels).engine;

/** Exclusions that matter: none, the history, or the network's best three items. */
function exclusionFor(engine: InferenceEngine, history: readonly number[], m: number, c: number): Set<number> | null {
  if (c % 3 === 0) return null;
  if (c % 3 === 1) return new Set(history);
  return new Set(ids(engine.rank(engine.userVector(history, m), m, { k: 3 })));
}

test('count prior, engine.rank (plain TypeScript): the exact top k of z + β_m·log(1 + c) at every size, exclusions honoured', () => {
  for (const prior of [FOLLOWERS, NEIGHBOURS]) {
    const engine = engineWith(prior);
    assert.equal(engine.countPrior!.counts, prior.counts);
    assert.deepEqual(engine.countPrior!.beta, prior.beta);
    for (const m of SIZES) {
      const beta = prior.beta[String(m)];
      let changed = 0;
      let narrowWrong = 0;
      const wrongBeta = new Map(SIZES.filter((s) => s !== m).map((s) => [s, 0]));
      HISTORIES.forEach((history, c) => {
        const user = engine.userVector(history, m);
        const exclude = exclusionFor(engine, history, m, c);
        for (const k of [1, 5]) {
          const e: Expect = { prior, history, beta, exclude };
          const expected = bruteForce(engine, user, m, k, e);
          const got = engine.rank(user, m, { k, history, exclude: exclude ?? undefined });
          assert.deepEqual(got, expected, `${prior.rule}, size ${m}, history ${c}, k ${k}`);
          // The answer differs from what the faults would give, often enough to catch them.
          if (!sameIds(got, engine.rank(user, m, { k, exclude: exclude ?? undefined }))) changed++;
          if (ids(got).join() !== notWidened(engine, user, m, k, e).join()) narrowWrong++;
          for (const s of wrongBeta.keys()) {
            if (!sameIds(got, bruteForce(engine, user, m, k, { ...e, beta: prior.beta[String(s)] }))) wrongBeta.set(s, wrongBeta.get(s)! + 1);
          }
        }
      });
      assert.ok(changed >= 3, `${prior.rule}, size ${m}: the bonus changed only ${changed} rankings`);
      for (const [s, n] of wrongBeta) assert.ok(n >= 1, `${prior.rule}, size ${m}: β of size ${s} would give the same rankings`);
      if (beta < 0) assert.ok(narrowWrong >= 1, `${prior.rule}, size ${m}: a top list not widened would give the same rankings`);
    }
    // No history, or an empty one: the network's ranking.
    const user = engine.userVector(HISTORIES[0], 16);
    assert.deepEqual(engine.rank(user, 16, { k: 6, history: [] }), engine.rank(user, 16, { k: 6 }));
    assert.equal(engine.bonuses(null, 16).size, 0);
  }
  // Without a prior, a history changes nothing.
  const plain = engineWith(null);
  const user = plain.userVector(HISTORIES[1], 8);
  assert.deepEqual(plain.rank(user, 8, { k: 5, history: HISTORIES[1] }), plain.rank(user, 8, { k: 5 }));
});

test('count prior, engine.rankBatch: every user as the brute force, in the plain path and the topItems path (a null history: no bonus)', () => {
  const native = getKernels().name.startsWith('native');
  const engines: [string, InferenceEngine][] = [
    ['plain TypeScript', engineWith(FOLLOWERS)],
    ['TypeScript topItems', engineWith(FOLLOWERS, { gemm: typescriptGemm, topItems: typescriptTopItems })],
  ];
  if (native) engines.push(['native topItems', engineWith(FOLLOWERS, serviceKernels(getKernels()))]);
  const reference = engines[0][1];
  const histories = HISTORIES.slice(0, 10);
  for (const m of SIZES) {
    const beta = FOLLOWERS.beta[String(m)];
    const users = reference.userVectors(histories, m);
    const k = histories.map((_, r) => [5, 1, 4, 8, 3][r % 5]);
    const exclude = histories.map((h, r) => exclusionFor(reference, h, m, r));
    const batchHistories = histories.map((h, r) => (r === 3 ? null : h));
    const expected = histories.map((_, r) =>
      bruteForce(reference, users.subarray(r * m, (r + 1) * m), m, k[r], { prior: FOLLOWERS, history: batchHistories[r], beta, exclude: exclude[r] }),
    );
    assert.ok(
      expected.some((list, r) => !sameIds(list, reference.rank(users.subarray(r * m, (r + 1) * m), m, { k: k[r], exclude: exclude[r] ?? undefined }))),
      `size ${m}: the bonus changes no ranking of the batch`,
    );
    for (const [name, engine] of engines) {
      const got = engine.rankBatch(users, m, k, exclude, batchHistories);
      got.forEach((list, r) => {
        const where = `${name}, size ${m}, user ${r}`;
        if (name === 'plain TypeScript') assert.deepEqual(list, expected[r], where);
        assert.deepEqual(ids(list), ids(expected[r]), where);
        list.forEach((item, x) =>
          assert.ok(Math.abs(item.score - expected[r][x].score) <= 1e-5, `${where}, rank ${x}: ${item.score} vs ${expected[r][x].score}`),
        );
      });
      // Without histories (the argument left out), the network's ranking.
      const bare = engine.rankBatch(users, m, k, exclude);
      bare.forEach((list, r) =>
        assert.deepEqual(ids(list), ids(reference.rank(users.subarray(r * m, (r + 1) * m), m, { k: k[r], exclude: exclude[r] ?? undefined }))),
      );
    }
  }
});

test('count prior, candidates and the funnel: only candidates get a bonus; the funnel shortlists at its size with that β, reranks at the final size with its β', () => {
  const engine = engineWith(NEIGHBOURS);
  let changed = 0;
  let shortlistBetaMatters = 0;
  HISTORIES.forEach((history, c) => {
    for (const m of SIZES) {
      const beta = NEIGHBOURS.beta[String(m)];
      const user = engine.userVector(history, m);
      // Half the bonused items (the others, left out, must not come back), and every third item.
      const bonused = [...naiveCounts(NEIGHBOURS, history).keys()].sort((a, b) => a - b);
      const candidates = [...new Set([...bonused.filter((_, x) => x % 2 === 0), ...Array.from({ length: N }, (_, i) => i + 1).filter((i) => i % 3 === 0)])];
      const exclude = c % 2 === 0 ? new Set(history) : null;
      const got = engine.rank(user, m, { k: 5, candidates, history, exclude: exclude ?? undefined });
      assert.deepEqual(got, bruteForce(engine, user, m, 5, { prior: NEIGHBOURS, history, beta, exclude, candidates }), `candidates, size ${m}, history ${c}`);
      assert.ok(got.every((r) => candidates.includes(r.id)));
      if (!sameIds(got, engine.rank(user, m, { k: 5, candidates, exclude: exclude ?? undefined }))) changed++;
    }
    for (const [shortlistSize, size] of [
      [4, 16],
      [8, 16],
      [4, 8],
    ]) {
      const user = engine.userVector(history, size);
      const exclude = c % 2 === 1 ? new Set(history) : null;
      const got = funnelRank(engine, user, { shortlistSize, shortlist: 10, size, k: 4, history, exclude: exclude ?? undefined });
      const shortlistOf = (beta: number) =>
        ids(bruteForce(engine, user, shortlistSize, 10, { prior: NEIGHBOURS, history, beta, exclude })).sort((a, b) => a - b);
      const rerank = (shortlist: number[]) =>
        bruteForce(engine, user, size, 4, { prior: NEIGHBOURS, history, beta: NEIGHBOURS.beta[String(size)], candidates: shortlist });
      const expected = rerank(shortlistOf(NEIGHBOURS.beta[String(shortlistSize)]));
      assert.deepEqual(got, expected, `funnel ${shortlistSize}:10 → ${size}, history ${c}`);
      if (!sameIds(expected, rerank(shortlistOf(NEIGHBOURS.beta[String(size)])))) shortlistBetaMatters++;
    }
  });
  assert.ok(changed >= 3, `the bonus changed only ${changed} candidate rankings`);
  assert.ok(shortlistBetaMatters >= 1, "the shortlist's own β never mattered: the test could not tell it from the final size's");
});

// One every-size export with the prior, shared by the export, HTTP and live tests.
const exportSource: ExportSource = { ...tinySource(tiny, MAX_LEN), countPrior: FOLLOWERS };
const exported = tempDir('count-prior');
exportAllSizes(exportSource, exported);

test('count prior, export: every size folder holds the counts and β of the sizes up to m; the loaded folder ranks like the model in memory', () => {
  for (const m of SIZES) {
    const dir = path.join(exported, sizeFolderName(m));
    const file = path.join(dir, COUNT_PRIOR_FILE);
    assert.ok(fs.existsSync(file), `size ${m}: ${COUNT_PRIOR_FILE}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as SizeManifest;
    assert.equal(manifest.bytes[COUNT_PRIOR_FILE], fs.statSync(file).size);
    const config = JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8')) as ExportedConfig;
    const upTo = SIZES.filter((s) => s <= m);
    assert.deepEqual(config.countPrior, {
      rule: 'followers',
      window: 2,
      context: 2,
      beta: Object.fromEntries(upTo.map((s) => [String(s), FOLLOWERS.beta[String(s)]])),
    });
    const loaded = loadModelFolder(dir).engine;
    const memory = servingModel(exportSource, m).engine;
    assert.deepEqual(loaded.countPrior!.counts.toArrays(), FOLLOWERS.counts.toArrays());
    assert.deepEqual(loaded.countPrior!.reach, FOLLOWERS.reach);
    HISTORIES.slice(0, 8).forEach((history, c) => {
      for (const s of upTo) {
        const exclude = c % 2 === 0 ? history : undefined;
        const user = loaded.userVector(history, s);
        assert.deepEqual(user, memory.userVector(history, s));
        const got = loaded.rank(user, s, { k: 5, history, exclude });
        assert.deepEqual(got, memory.rank(user, s, { k: 5, history, exclude }), `folder size-${m}, size ${s}, history ${c}`);
        const expected = bruteForce(loaded, user, s, 5, {
          prior: FOLLOWERS,
          history,
          beta: FOLLOWERS.beta[String(s)],
          exclude: exclude ? new Set(exclude) : null,
        });
        assert.deepEqual(got, expected, `folder size-${m}, size ${s}, history ${c}: brute force`);
      }
    });
  }
  // The every-size folder loads its largest size, with β of every size.
  assert.deepEqual(loadModelFolder(exported).engine.countPrior!.beta, FOLLOWERS.beta);
  // A model exported without a prior has no count file and ignores histories.
  const bare = tempDir('count-prior-none');
  exportAllSizes(tinySource(tiny, MAX_LEN), bare);
  assert.ok(!fs.existsSync(path.join(bare, sizeFolderName(8), COUNT_PRIOR_FILE)));
  const none = loadModelFolder(bare).engine;
  assert.equal(none.countPrior, null);
  const user = none.userVector(HISTORIES[0], 16);
  assert.deepEqual(none.rank(user, 16, { k: 5, history: HISTORIES[0] }), none.rank(user, 16, { k: 5 }));
});

test('count prior, export: the weights are stored as F32 while every one is below 2^24 (exact there), else as F64, and load back exactly', () => {
  const weightOf = (dir: string) => {
    const { tensors } = decodeSafetensors(fs.readFileSync(path.join(dir, sizeFolderName(4), COUNT_PRIOR_FILE)));
    return tensors.weight.data;
  };
  assert.ok(weightOf(exported) instanceof Float32Array);
  for (const big of [2 ** 24 - 1, 2 ** 24 + 1]) {
    const counts = PairCounts.fromHistories(COUNTED, FOLLOWERS.counts.rule);
    counts.add(3, 5, big - (counts.row(3)?.get(5) ?? 0));
    const dir = tempDir('count-prior-big');
    exportAllSizes({ ...exportSource, countPrior: { ...FOLLOWERS, counts } }, dir);
    assert.ok(weightOf(dir) instanceof (big < 2 ** 24 ? Float32Array : Float64Array), `largest weight ${big}`);
    const loaded = loadModelFolder(path.join(dir, sizeFolderName(4))).engine.countPrior!.counts;
    // Item 5's score after history [3]: the pair's weight times the last item's weight 2^(context − 1).
    assert.equal(loaded.scores([3]).get(5), 2 ** (FOLLOWERS.reach.context - 1) * big);
    assert.deepEqual(loaded.toArrays(), counts.toArrays());
  }
});

test('count prior, export: a count file whose pairs are out of order is refused with one line naming it', () => {
  const broken = path.join(tempDir('count-prior-unordered'), 'size-8');
  fs.cpSync(path.join(exported, sizeFolderName(8)), broken, { recursive: true });
  const { first, second, weight } = FOLLOWERS.counts.toArrays();
  const n = first.length;
  writeSafetensors(path.join(broken, COUNT_PRIOR_FILE), {
    first: { data: first.slice().reverse(), shape: [n] },
    second: { data: second.slice().reverse(), shape: [n] },
    weight: { data: weight.slice().reverse(), shape: [n] },
  });
  assert.throws(
    () => loadModelFolder(broken),
    (e: Error) => e instanceof UserError && e.message.includes(COUNT_PRIOR_FILE) && /out of order/.test(e.message) && !e.message.includes('\n'),
  );
});

test('count prior, export: a folder whose config has a prior but whose count file is missing is refused, naming the file (the CLI prints one line)', () => {
  const broken = path.join(tempDir('count-prior-broken'), 'size-8');
  fs.cpSync(path.join(exported, sizeFolderName(8)), broken, { recursive: true });
  fs.rmSync(path.join(broken, COUNT_PRIOR_FILE));
  assert.throws(
    () => loadModelFolder(broken),
    (e: Error) => e instanceof UserError && e.message.includes(path.join(broken, COUNT_PRIOR_FILE)) && /not found/.test(e.message),
  );
  const cli = spawnSync(process.execPath, [path.join(__dirname, '..', 'src', 'cli', 'main.js'), 'recommend', '--model', broken, '--history', '1,2'], {
    encoding: 'utf8',
  });
  assert.equal(cli.status, 1, cli.stderr);
  assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
  assert.ok(cli.stderr.includes(COUNT_PRIOR_FILE) && !/\n\s+at /.test(cli.stderr), cli.stderr);
});

test('count prior, POST /v1/recommend and recommendBatch: the items of engine.rank with the history (candidates and funnel included)', async () => {
  const model = loadModelFolder(exported);
  const { engine, catalogue } = model;
  const asin = (id: number) => catalogue.item(id)!.asin;
  const server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0 });
  const base = `http://127.0.0.1:${(await server.listen()).port}`;
  let changed = 0;
  try {
    for (const [c, history] of HISTORIES.slice(0, 6).entries()) {
      for (const size of SIZES) {
        const exclude = c % 2 === 1;
        const res = await fetch(`${base}/v1/recommend`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ history: history.map(asin), k: 5, size, exclude_history: exclude }),
        });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { items: RankedItem[] };
        const user = engine.userVector(history, size);
        const expected = engine.rank(user, size, { k: 5, history, exclude: exclude ? history : undefined });
        assert.deepEqual(
          body.items.map((i) => [i.id, i.score]),
          expected.map((r) => [r.id, r.score]),
          `history ${c}, size ${size}`,
        );
        if (!sameIds(expected, engine.rank(user, size, { k: 5, exclude: exclude ? history : undefined }))) changed++;
      }
    }
  } finally {
    await server.close();
  }
  assert.ok(changed >= 2, `the bonus changed only ${changed} answers`);

  const candidates = Array.from({ length: N }, (_, i) => i + 1).filter((i) => i % 2 === 0);
  const requests: RecommendRequest[] = HISTORIES.slice(6, 18).map((history, i) => ({
    history,
    k: 4,
    size: SIZES[i % 3],
    excludeHistory: i % 2 === 0,
    ...(i % 4 === 1 ? { candidates } : {}),
    ...(i % 4 === 3 ? { funnel: { size: 4, shortlist: 9 } } : {}),
  }));
  requests.push({ history: [], k: 3 });
  const answers = recommendBatch(engine, catalogue, requests);
  requests.forEach((request, i) => {
    const size = request.size ?? engine.width;
    const history = request.history as number[];
    const user = engine.userVector(history, size);
    const exclude = request.excludeHistory ? history : undefined;
    const expected = request.funnel
      ? funnelRank(engine, user, { shortlistSize: request.funnel.size, shortlist: request.funnel.shortlist, size, k: request.k, exclude, history })
      : engine.rank(user, size, { k: request.k, exclude, candidates: request.candidates as number[] | undefined, history });
    assert.deepEqual(
      answers[i].items.map((x) => [x.id, x.score]),
      expected.map((r) => [r.id, r.score]),
      `request ${i}`,
    );
  });
});

test('count prior, live routes: after an event, GET recommendations equals engine.rank of the history with its bonus (plain, excluded, funnel)', async () => {
  // One event per user: its stored state's recent items are the whole history, and the events make no pair among themselves.
  const model = loadModelFolder(exported);
  const { engine, catalogue } = model;
  const asin = (id: number) => catalogue.item(id)!.asin;
  let store: LiveStore | null = null;
  let server: RecommendServer | null = null;
  try {
    store = await openEmbeddedStore(tempDir('count-prior-live'), { modelFingerprint: modelFingerprint(model) });
    const live = new LiveService(engine, catalogue, store, DEFAULT_LIVE_OPTIONS);
    server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0, live });
    const base = `http://127.0.0.1:${(await server.listen()).port}`;
    const items = [2, 11, 17, 23, 31];
    const posted = await fetch(`${base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: items.map((item, u) => ({ id: `e${u}`, user: `prior-${u}`, item: asin(item) })) }),
    });
    assert.equal(posted.status, 200, await posted.clone().text());
    assert.deepEqual(await posted.json(), { applied: items.length, duplicates: 0 });
    let changed = 0;
    for (const [u, item] of items.entries()) {
      const history = [item];
      for (const size of SIZES) {
        const user = engine.userVector(history, size);
        const cases: [string, RankedItem[], RankedItem[]][] = [
          [`k=5&size=${size}`, engine.rank(user, size, { k: 5, history }), engine.rank(user, size, { k: 5 })],
          [
            `k=5&size=${size}&exclude_history=true`,
            engine.rank(user, size, { k: 5, history, exclude: history }),
            engine.rank(user, size, { k: 5, exclude: history }),
          ],
          [
            `k=4&size=${size}&funnel=4:9`,
            funnelRank(engine, user, { shortlistSize: 4, shortlist: 9, size, k: 4, history }),
            funnelRank(engine, user, { shortlistSize: 4, shortlist: 9, size, k: 4 }),
          ],
        ];
        for (const [query, expected, withoutBonus] of cases) {
          const res = await fetch(`${base}/v1/users/prior-${u}/recommendations?${query}`);
          assert.equal(res.status, 200);
          const body = (await res.json()) as { known_user: boolean; history_length: number; items: RankedItem[] };
          const where = `prior-${u}, ${query}`;
          assert.deepEqual([body.known_user, body.history_length], [true, 1], where);
          assert.deepEqual(ids(body.items), ids(expected), where);
          body.items.forEach((r, x) => assert.ok(Math.abs(r.score - expected[x].score) <= 1e-5, `${where}, rank ${x}: ${r.score} vs ${expected[x].score}`));
          if (!sameIds(expected, withoutBonus)) changed++;
        }
      }
    }
    assert.ok(changed >= 3, `the bonus changed only ${changed} live answers`);
  } finally {
    await server?.close();
    await store?.close();
  }
});

test("count prior, live routes: events add their pairs to the counts; every replica's recommendations add them, as counted from the events' histories", async () => {
  const model = loadModelFolder(exported);
  const { engine, catalogue } = model;
  const asin = (id: number) => catalogue.item(id)!.asin;
  const rule = engine.countPrior!.counts.rule;
  let store: LiveStore | null = null;
  try {
    store = await openEmbeddedStore(tempDir('count-prior-live-pairs'), { modelFingerprint: modelFingerprint(model) });
    const live = new LiveService(engine, catalogue, store, DEFAULT_LIVE_OPTIONS);
    const replica = new LiveService(engine, catalogue, store, DEFAULT_LIVE_OPTIONS);
    // Six users follow 5 with 29; one user's pair spans two requests; the user asked about has seen 5 only.
    const histories: number[][] = [...Array.from({ length: 6 }, () => [5, 29]), [5, 29, 3], [5]];
    let n = 0;
    const post = (events: { user: number; item: number }[]) =>
      live.addEvents({ events: events.map((e) => ({ id: `p${n++}`, user: `pairs-${e.user}`, item: asin(e.item) })) });
    await post(histories.slice(0, 6).flatMap((h, u) => h.map((item) => ({ user: u, item }))));
    await post([{ user: 6, item: 5 }]);
    await post([
      { user: 6, item: 29 },
      { user: 6, item: 3 },
      { user: 7, item: 5 },
    ]);
    const counted = PairCounts.fromHistories(histories, rule);
    assert.ok(counted.row(5)!.get(29)! > 0);
    let changed = 0;
    for (const size of SIZES) {
      const user = engine.userVector([5], size);
      const expected = engine.rank(user, size, { k: 5, history: [5], extraCounts: counted });
      for (const service of [live, replica]) {
        const got = await service.recommendForUser('pairs-7', new URLSearchParams(`k=5&size=${size}`));
        assert.deepEqual(ids(got.items), ids(expected), `size ${size}`);
        got.items.forEach((r, x) => assert.ok(Math.abs(r.score - expected[x].score) <= 1e-5, `size ${size}, rank ${x}`));
      }
      if (!sameIds(expected, engine.rank(user, size, { k: 5, history: [5] }))) changed++;
    }
    assert.ok(changed >= 1, 'the counts the events added changed no answer');
  } finally {
    await store?.close();
  }
});
