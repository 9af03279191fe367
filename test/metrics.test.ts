/**
 * Evaluation metrics against hand-computed values (docs/method.md §2): Recall, NDCG and
 * MRR at the cut-offs 5/10/20/50 from known ranks (each cut-off's boundary on
 * both sides); the rank of a target with pessimistic ties (rank = 1 + #other
 * real items scoring >= the target), the padding item 0 never ranked, each
 * size ranking on its own prefix; and evaluate() equal to a brute-force
 * float64 ranking of every user's held-out item.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evalHistory, generateSyntheticDataset, leaveOneOut, type PackedBatch, type Split } from '../src/data';
import { evaluate } from '../src/eval/evaluate';
import { CUTOFFS, metricsFromRanks, type Metrics } from '../src/eval/metrics';
import { getKernels, referenceKernels, type Kernels } from '../src/kernels';
import { FmrlRec } from '../src/model/fmrlrec';

/** 1/log2(r + 1) for the ranks used below, computed by hand (python: 1 / math.log2(r + 1)). */
const GAIN: Record<number, number> = {
  1: 1,
  2: 0.6309297535714575,
  4: 0.43067655807339306,
  5: 0.38685280723454163,
  6: 0.3562071871080222,
  10: 0.2890648263178879,
  11: 0.27894294565112987,
  20: 0.227670248696953,
  21: 0.22424382421757544,
  50: 0.17629143438888212,
};

function assertMetrics(got: Metrics, want: Metrics, what: string): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: metric names`);
  for (const [name, value] of Object.entries(want)) {
    assert.ok(Math.abs(got[name] - value) <= 1e-12, `${what} ${name}: got ${got[name]}, want ${value}`);
  }
}

test('metrics at 5/10/20/50 from ranks on both sides of every cut-off, two sizes interleaved', () => {
  // Size 0: one user at each rank below (10 users); size 1: every user at rank 1.
  const ranksSize0 = [1, 2, 5, 6, 10, 11, 20, 21, 50, 51];
  const ranks = new Int32Array(20);
  ranksSize0.forEach((r, u) => {
    ranks[u * 2] = r;
    ranks[u * 2 + 1] = 1;
  });
  const [size0, size1] = metricsFromRanks(ranks, 10, 2);
  // Hits: @5 ranks 1, 2, 5; @10 adds 6, 10; @20 adds 11, 20; @50 adds 21, 50; rank 51 never counts.
  const ndcg5 = GAIN[1] + GAIN[2] + GAIN[5];
  const ndcg10 = ndcg5 + GAIN[6] + GAIN[10];
  const ndcg20 = ndcg10 + GAIN[11] + GAIN[20];
  const ndcg50 = ndcg20 + GAIN[21] + GAIN[50];
  const mrr5 = 1 + 1 / 2 + 1 / 5;
  const mrr10 = mrr5 + 1 / 6 + 1 / 10;
  const mrr20 = mrr10 + 1 / 11 + 1 / 20;
  const mrr50 = mrr20 + 1 / 21 + 1 / 50;
  assertMetrics(
    size0,
    {
      'Recall@5': 0.3,
      'NDCG@5': ndcg5 / 10,
      'MRR@5': mrr5 / 10,
      'Recall@10': 0.5,
      'NDCG@10': ndcg10 / 10,
      'MRR@10': mrr10 / 10,
      'Recall@20': 0.7,
      'NDCG@20': ndcg20 / 10,
      'MRR@20': mrr20 / 10,
      'Recall@50': 0.9,
      'NDCG@50': ndcg50 / 10,
      'MRR@50': mrr50 / 10,
    },
    'size 0',
  );
  const perfect: Metrics = {};
  for (const cut of CUTOFFS) Object.assign(perfect, { [`Recall@${cut}`]: 1, [`NDCG@${cut}`]: 1, [`MRR@${cut}`]: 1 });
  assertMetrics(size1, perfect, 'size 1');
  assert.deepEqual(CUTOFFS, [5, 10, 20, 50]);
});

test('metrics of no users are zeros, not NaN', () => {
  const [m] = metricsFromRanks(new Int32Array(0), 0, 1);
  for (const [name, value] of Object.entries(m)) assert.equal(value, 0, name);
});

/**
 * Items 0..5 in two dimensions (size 1 = first coordinate, size 2 = both);
 * item 0 is the padding item and scores highest for user 0.
 */
const ITEMS = [
  [100, 100], // 0: padding
  [3, 0],
  [2, 2],
  [2, 0],
  [1, 5],
  [2, -1],
];

/** Users: a query vector and a target; their ranks at sizes 1 and 2, worked out by hand. */
const USERS: { h: [number, number]; target: number; ranks: [number, number]; why: string }[] = [
  // size 1 scores: 1:3 2:2 3:2 4:1 5:2 → items 1, 3, 5 score >= 2 (two ties) → rank 4;
  // size 2 scores: 1:3 2:4 3:2 4:6 5:1 → only item 4 beats 4 → rank 2. Item 0 (score 100, 200) is never counted.
  { h: [1, 1], target: 2, ranks: [4, 2], why: 'ties count against the target; the padding item is not ranked' },
  // every score is 0: the five real items all tie → the worst rank, 5 (not 6: item 0 is not ranked).
  { h: [0, 0], target: 3, ranks: [5, 5], why: 'all ties give the worst rank' },
  // scores -item[0]: item 4 (-1) is the best real item at both sizes.
  { h: [-1, 0], target: 4, ranks: [1, 1], why: 'the best item has rank 1' },
];

function checkRanks(kern: Kernels): void {
  const n1 = ITEMS.length;
  const e = Float32Array.from(ITEMS.flat());
  const h = Float32Array.from(USERS.flatMap((u) => u.h));
  const targets = Int32Array.from(USERS.map((u) => u.target));
  const ranks = new Int32Array(USERS.length * 2);
  kern.rankTargets(h, e, USERS.length, n1, 2, targets, Int32Array.from([1, 2]), null, null, ranks);
  USERS.forEach((u, i) => assert.deepEqual([ranks[i * 2], ranks[i * 2 + 1]], u.ranks, `${kern.name}, user ${i}: ${u.why}`));

  const [size1, size2] = metricsFromRanks(ranks, USERS.length, 2);
  // Size 1: ranks 4, 5, 1; size 2: ranks 2, 5, 1 (all within 5, so every cut-off agrees).
  for (const cut of CUTOFFS) {
    assertMetrics(
      { Recall: size1[`Recall@${cut}`], NDCG: size1[`NDCG@${cut}`], MRR: size1[`MRR@${cut}`] },
      { Recall: 1, NDCG: (GAIN[4] + GAIN[5] + GAIN[1]) / 3, MRR: (1 / 4 + 1 / 5 + 1) / 3 },
      `${kern.name} size 1 @${cut}`,
    );
    assertMetrics(
      { Recall: size2[`Recall@${cut}`], NDCG: size2[`NDCG@${cut}`], MRR: size2[`MRR@${cut}`] },
      { Recall: 1, NDCG: (GAIN[2] + GAIN[5] + GAIN[1]) / 3, MRR: (1 / 2 + 1 / 5 + 1) / 3 },
      `${kern.name} size 2 @${cut}`,
    );
  }
}

test('ranks by hand: pessimistic ties, padding never ranked, each size on its prefix (TypeScript twin)', () => {
  checkRanks(referenceKernels);
});

test('ranks by hand: the kernels evaluation uses give the same ranks', () => {
  checkRanks(getKernels());
});

/** Rank of every user's held-out item, brute force: float64 scores of the model's hidden state, item 0 left out. */
function bruteForceRanks(model: FmrlRec, split: Split, which: 'valid' | 'test', maxLen: number): Int32Array {
  const { dims } = model.config;
  const d = model.width;
  const table = model.itemTable();
  const numUsers = split.train.length;
  const ranks = new Int32Array(numUsers * dims.length);
  for (let u = 0; u < numUsers; u++) {
    const history = evalHistory(split, u, which);
    const inputs = Int32Array.from(history.subarray(Math.max(0, history.length - maxLen)));
    const batch: PackedBatch = {
      size: 1,
      offsets: Int32Array.from([0, inputs.length]),
      inputs,
      targets: new Int32Array(inputs.length),
      users: Int32Array.from([u]),
    };
    const h = model.lastHiddenStates(batch, table);
    const target = which === 'valid' ? split.validTarget[u] : split.testTarget[u];
    dims.forEach((m, k) => {
      const score = (item: number) => {
        let s = 0;
        for (let j = 0; j < m; j++) s += h[j] * table[item * d + j];
        return s;
      };
      const mine = score(target);
      let rank = 1;
      for (let item = 1; item < model.numRows; item++) if (item !== target && score(item) >= mine) rank++;
      ranks[u * dims.length + k] = rank;
    });
  }
  return ranks;
}

test("evaluate(): every size's metrics equal those of a brute-force ranking of the held-out items", () => {
  const ds = generateSyntheticDataset({ numUsers: 60, numItems: 80, seed: 3 });
  const split = leaveOneOut(ds);
  const model = new FmrlRec(
    {
      dims: [8, 16],
      numItems: ds.numItems,
      featureDim: 0,
      itemIdEmbedding: true,
      numBlocks: 1,
      dropout: 0,
      layerNormEps: 1e-5,
      rMin: 0,
      rMax: 0.1,
    },
    null,
    getKernels(),
  );
  model.init(11);
  const maxLen = 6; // shorter than most histories, so truncation matters
  for (const which of ['valid', 'test'] as const) {
    const got = evaluate(model, split, which, { batchSize: 16, maxLen, excludeHistory: false, progress: false });
    const want = metricsFromRanks(bruteForceRanks(model, split, which, maxLen), split.train.length, 2);
    assert.deepEqual(Object.keys(got), ['8', '16']);
    for (const name of Object.keys(want[0])) {
      assert.ok(Math.abs(got['8'][name] - want[0][name]) <= 1e-12, `${which} size 8 ${name}`);
      assert.ok(Math.abs(got['16'][name] - want[1][name]) <= 1e-12, `${which} size 16 ${name}`);
    }
  }
});
