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
import { BASELINES, baselineRanks, evaluateBaselines, itemCounts, neighbourRules, pessimisticRank } from '../src/eval/baselines';
import { plainNeighbourScores } from './plain-counts';

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

test('followers and neighbours rank the validation targets as counted by hand', () => {
  const split = leaveOneOut(DATASET);
  const valid = evaluateBaselines(split, DATASET.numItems, 'valid');
  // Pairs within three steps of [1 2], [1 2], [3 1] (one step apart: weight 4): 1→2 twice, 3→1.
  // Followers of A's and B's last items (2, weight 4; 1, weight 2): item 2 scores 2·4·2 = 16. A's
  // target 3 is unscored, behind 2 and the more popular 1: rank 3. B's target 1 is unscored and
  // the most popular: behind 2 only, rank 2. C's last items 1 and 3 give 2 (4·8) and 1 (2·4): its target 2 is first.
  assert.ok(Math.abs(valid.metrics.followers['MRR@5'] - mrr([3, 2, 1])) < 1e-12);
  // Both ways, 2 also counts 1, and 1 counts 3: A scores 1 (32), 2 (16), 3 (8), target 3 at 3;
  // B's target 1 is first (32); C's target 2 is first (32, against 3 at 16 and 1 at 8).
  assert.ok(Math.abs(valid.metrics.neighbours['MRR@5'] - mrr([3, 1, 1])) < 1e-12);
  // Test histories [1 2 3], [1 2 1], [3 1 2]: pairs one step apart weigh 4, two steps 2, so 1 is
  // followed by 2 (12), 3 (2) and itself (2); 2 by 3 (4) and 1 (4); 3 by 1 (4) and 2 (2). With the
  // last three items weighted 4, 2, 1: A scores 1 (26), 2 (20), 3 (10), and its target 4 comes
  // last of all (rank 4); B scores 2 (60), 1 and 3 (18 each, 1 the more popular): target 3 at 3;
  // C scores 2 (26), 1 (24), 3 (20): target 2 first.
  const test = evaluateBaselines(split, DATASET.numItems, 'test');
  assert.ok(Math.abs(test.metrics.followers['MRR@5'] - mrr([4, 3, 1])) < 1e-12);
});

test("baseline ranks equal the pessimistic rank over every item's score (the plain definition), for validation and test", () => {
  const dataset = generateSyntheticDataset({ numUsers: 200, numItems: 60, seed: 11 });
  const split = leaveOneOut(dataset);
  const k = BASELINES.length;
  for (const [which, reach] of [
    ['valid', { window: 3, context: 3 }],
    ['test', { window: 2, context: 4 }],
  ] as const) {
    const counts = itemCounts(split, dataset.numItems, which);
    const weight = Math.max(...counts) + 1;
    const { ranks, seen } = baselineRanks(split, dataset.numItems, which, reach);
    let followedLast = 0;
    for (let u = 0; u < split.train.length; u++) {
      const target = evalTarget(split, u, which);
      const history = evalHistory(split, u, which);
      assert.equal(ranks[u * k], pessimisticRank(counts, target), `${which} popularity, user ${u}`);
      for (const [name, rule] of Object.entries(neighbourRules(reach))) {
        const plain = plainNeighbourScores(split, which, rule, history, dataset.numItems);
        const scores = counts.map((c, item) => c + plain[item] * weight);
        const b = BASELINES.indexOf(name as (typeof BASELINES)[number]);
        assert.equal(ranks[u * k + b], pessimisticRank(scores, target), `${which} ${name}, user ${u}`);
        if (name === 'transitions' && scores[target] >= weight) followedLast++;
      }
    }
    assert.equal(seen, followedLast);
    assert.ok(seen > 0 && seen < split.train.length, 'the data has targets on both sides');
  }
});

test('CLI: fmrlrec baselines prints every baseline for validation and test; a missing folder is a one-line error', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-baselines-'));
  writeP5Dataset(DATASET, dir);
  const r = spawnSync(process.execPath, [CLI, 'baselines', '--data', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.users, 3);
  assert.ok(Math.abs(out.test.metrics.transitions['MRR@5'] - mrr([4, 3, 3])) < 1e-12);
  const table = spawnSync(process.execPath, [CLI, 'baselines', '--data', dir], { encoding: 'utf8' });
  assert.match(table.stdout, /Validation[\s\S]*\| transitions \|[\s\S]*\| neighbours \|[\s\S]*Test[\s\S]*\| popularity \|[\s\S]*\| followers \|/);
  // --window 1 --context 1 makes followers the transitions rule.
  const near = JSON.parse(
    spawnSync(process.execPath, [CLI, 'baselines', '--data', dir, '--json', '--window', '1', '--context', '1'], { encoding: 'utf8' }).stdout,
  );
  assert.deepEqual(near.reach, { window: 1, context: 1 });
  assert.deepEqual(near.test.metrics.followers, near.test.metrics.transitions);
  const wide = spawnSync(process.execPath, [CLI, 'baselines', '--data', dir, '--window', '11'], { encoding: 'utf8' });
  assert.equal(wide.status, 1);
  assert.match(wide.stderr, /--window must be <= 10/);
  const missing = spawnSync(process.execPath, [CLI, 'baselines', '--data', path.join(dir, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  fs.rmSync(dir, { recursive: true, force: true });
});
