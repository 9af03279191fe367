/**
 * Counting baselines: ranks worked out by hand on a three-user dataset, for
 * the validation and the test targets (whose counts include the validation
 * items), the fast ranks against one pass over every item's score on a
 * synthetic dataset, and the CLI on a dataset folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { leaveOneOut, writeP5Dataset } from '../src/data';
import type { Dataset } from '../src/data/types';
import { generateSyntheticDataset } from '../src/data/synthetic';
import { evalHistory, evalTarget } from '../src/data/split';
import { baselineRanks, evaluateBaselines, itemCounts, pessimisticRank, transitionCounts } from '../src/eval/baselines';

const CLI = path.resolve(__dirname, '../src/cli/main.js');

// Users A [1 2 | 3 | 4], B [1 2 | 1 | 3], C [3 1 | 2 | 2]: training | validation | test.
const DATASET: Dataset = {
  name: 'hand',
  numItems: 4,
  sequences: [Int32Array.of(1, 2, 3, 4), Int32Array.of(1, 2, 1, 3), Int32Array.of(3, 1, 2, 2)],
  userIds: ['A', 'B', 'C'],
  itemIds: ['', 'i1', 'i2', 'i3', 'i4'],
  items: [null, null, null, null, null],
};

/** MRR@5 of three users whose ranks are all within 5: the mean of 1/rank. */
const mrr = (ranks: number[]) => ranks.reduce((s, r) => s + 1 / r, 0) / ranks.length;

test('pessimistic rank: ties count against the target, padding (index 0) is never ranked', () => {
  assert.equal(pessimisticRank(Float64Array.of(9, 1, 1, 1), 2), 3);
  assert.equal(pessimisticRank(Float64Array.of(9, 5, 1, 3), 1), 1);
  assert.equal(pessimisticRank(Float64Array.of(9, 0, 0, 0), 3), 3);
});

test('popularity and transitions rank the targets as counted by hand', () => {
  const split = leaveOneOut(DATASET);
  const valid = evaluateBaselines(split, DATASET.numItems, 'valid');
  const test = evaluateBaselines(split, DATASET.numItems, 'test');
  // Validation counts (histories [1 2], [1 2], [3 1]): 1:3, 2:2, 3:1, 4:0; transitions 1→2 twice, 3→1.
  // Popularity ranks the targets 3, 1, 2 at 3, 1, 2; transitions: A and B end at 2 (no
  // followers: as popularity), C ends at 1, whose follower 2 is C's target: rank 1.
  assert.ok(Math.abs(valid.metrics.popularity['MRR@5'] - mrr([3, 1, 2])) < 1e-12);
  assert.ok(Math.abs(valid.metrics.transitions['MRR@5'] - mrr([3, 1, 1])) < 1e-12);
  assert.ok(Math.abs(valid.metrics.transitions['NDCG@10'] - (1 / Math.log2(4) + 2) / 3) < 1e-12);
  // Test counts (histories [1 2 3], [1 2 1], [3 1 2]): 1:4, 2:3, 3:2, 4:0; transitions 1→2 ×3,
  // 2→3, 2→1, 3→1. Popularity: targets 4, 3, 2 at 4, 3, 2. Transitions: A ends at 3 (follower 1),
  // target 4 at 4; B ends at 1 (follower 2), target 3 at 3; C ends at 2 (followers 3 and 1,
  // once each, above the rest), target 2 at 3.
  assert.ok(Math.abs(test.metrics.popularity['MRR@5'] - mrr([4, 3, 2])) < 1e-12);
  assert.ok(Math.abs(test.metrics.transitions['MRR@5'] - mrr([4, 3, 3])) < 1e-12);
  assert.equal(test.metrics.transitions['Recall@5'], 1);
  assert.equal(test.metrics.transitions['Recall@10'], 1);
  // Only C's validation target (2, after 1) followed the last item in some history.
  assert.ok(Math.abs(valid.targetsSeenAfterLastItem - 1 / 3) < 1e-12);
  assert.equal(test.targetsSeenAfterLastItem, 0);
});

test("baseline ranks equal the pessimistic rank over every item's score (the plain definition), for validation and test", () => {
  const dataset = generateSyntheticDataset({ numUsers: 300, numItems: 60, seed: 11 });
  const split = leaveOneOut(dataset);
  for (const which of ['valid', 'test'] as const) {
    const counts = itemCounts(split, dataset.numItems, which);
    const next = transitionCounts(split, which);
    const weight = Math.max(...counts) + 1;
    const { ranks, seen } = baselineRanks(split, dataset.numItems, which);
    let followedLast = 0;
    for (let u = 0; u < split.train.length; u++) {
      const target = evalTarget(split, u, which);
      const history = evalHistory(split, u, which);
      const followers = next.get(history[history.length - 1]);
      const scores = Float64Array.from(counts);
      if (followers) for (const [item, n] of followers) scores[item] += n * weight;
      if (followers?.has(target)) followedLast++;
      assert.equal(ranks[u * 2], pessimisticRank(counts, target), `${which} popularity, user ${u}`);
      assert.equal(ranks[u * 2 + 1], pessimisticRank(scores, target), `${which} transitions, user ${u}`);
    }
    assert.equal(seen, followedLast);
    assert.ok(seen > 0 && seen < split.train.length, 'the data has targets on both sides');
  }
});

test('CLI: fmrlrec baselines prints both baselines for validation and test; a missing folder is a one-line error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-baselines-'));
  writeP5Dataset(DATASET, dir);
  const r = spawnSync(process.execPath, [CLI, 'baselines', '--data', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.users, 3);
  assert.ok(Math.abs(out.test.metrics.transitions['MRR@5'] - mrr([4, 3, 3])) < 1e-12);
  const table = spawnSync(process.execPath, [CLI, 'baselines', '--data', dir], { encoding: 'utf8' });
  assert.match(table.stdout, /Validation[\s\S]*\| transitions \|[\s\S]*Test[\s\S]*\| popularity \|/);
  const missing = spawnSync(process.execPath, [CLI, 'baselines', '--data', path.join(dir, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  fs.rmSync(dir, { recursive: true, force: true });
});
