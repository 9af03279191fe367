/**
 * Count blend: at β = 0 the ranks are the plain evaluation's; at every β they
 * are the pessimistic rank over the model's scores plus β · log(1 + count),
 * counts by the baselines' definition written out here; β is chosen on
 * validation; the CLI writes its report and refuses a wrong rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { leaveOneOut, writeP5Dataset } from '../src/data';
import { evalBatches } from '../src/data/batches';
import { evalHistory, evalTarget } from '../src/data/split';
import { generateSyntheticDataset } from '../src/data/synthetic';
import { neighbourRules, pessimisticRank } from '../src/eval/baselines';
import { BLEND_GRID, blendedRanks, evaluateCountBlend } from '../src/eval/count-blend';
import { rankTargets } from '../src/eval/evaluate';
import type { Split } from '../src/data/types';
import type { FmrlRec } from '../src/model/fmrlrec';
import { plainNeighbourScores } from './plain-counts';
import { smallIdModel } from './small-model';

const CLI = path.resolve(__dirname, '../src/cli/main.js');
const OPTIONS = { batchSize: 64, maxLen: 50, progress: false };

function setting() {
  const dataset = generateSyntheticDataset({ numUsers: 150, numItems: 50, seed: 21 });
  const split = leaveOneOut(dataset);
  const model = smallIdModel(dataset.numItems, [4, 8, 16], 3);
  return { dataset, split, model };
}

test('count blend at β = 0 ranks every target as the plain evaluation does', () => {
  const { split, model } = setting();
  const k = model.config.dims.length;
  for (const which of ['valid', 'test'] as const) {
    const plain = rankTargets(model, split, which, { ...OPTIONS, excludeHistory: false });
    const blended = blendedRanks(model, split, which, 'followers', { window: 3, context: 3 }, [0], OPTIONS);
    assert.deepEqual(blended, plain, which);
    assert.equal(plain.length, split.train.length * k);
  }
});

/** Check blendedRanks on `model` against the pessimistic rank over the scores by the definition; returns how many ranks the counts moved. */
function checkAgainstDefinition(model: FmrlRec, split: Split): number {
  const dims = model.config.dims;
  const grid = [0, 0.5, 3];
  const reach = { window: 2, context: 3 };
  const e = model.itemTable();
  const d = model.width;
  const n1 = model.numRows;
  let changed = 0;
  for (const [which, rule] of [
    ['valid', 'followers'],
    ['test', 'neighbours'],
  ] as const) {
    const ranks = blendedRanks(model, split, which, rule, reach, grid, OPTIONS);
    for (const batch of evalBatches(split, which, { batchSize: OPTIONS.batchSize, maxLen: OPTIONS.maxLen })) {
      const hidden = model.lastHiddenStates(batch, e);
      batch.users.forEach((u, row) => {
        const counts = plainNeighbourScores(split, which, neighbourRules(reach)[rule], evalHistory(split, u, which), n1 - 1);
        const target = evalTarget(split, u, which);
        dims.forEach((m, s) => {
          // The model's float32 score, as the kernels compute it.
          const z = new Float32Array(n1);
          model.kern.sgemm(false, true, 1, n1, m, 1, hidden.subarray(row * d, (row + 1) * d), d, e, d, 0, z, n1);
          grid.forEach((beta, q) => {
            const scores = Float64Array.from(z, (v, i) => (i === 0 ? -Infinity : v + beta * Math.log1p(counts[i])));
            const expected = pessimisticRank(scores, target);
            const got = ranks[(u * dims.length + s) * grid.length + q];
            assert.equal(got, expected, `${which} ${rule} user ${u} size ${m} β ${beta}`);
            if (q > 0 && got !== ranks[(u * dims.length + s) * grid.length]) changed++;
          });
        });
      });
    }
  }
  return changed;
}

test('count blend: every rank is the pessimistic rank over the model score plus β · log(1 + count), counts by the definition', () => {
  const { split, model } = setting();
  assert.ok(checkAgainstDefinition(model, split) > 0, 'the counts move some targets');
});

test('count blend: ties count against the target (every item has the same vector)', () => {
  const { split, model } = setting();
  const ids = model.params.value('item_ids.weight');
  const d = model.width;
  for (let i = 2; i < model.numRows; i++) ids.copyWithin(i * d, d, 2 * d);
  assert.ok(checkAgainstDefinition(model, split) > 0, 'the counts move some targets');
  const plain = blendedRanks(model, split, 'valid', 'followers', { window: 3, context: 3 }, [0], OPTIONS);
  assert.ok(
    plain.every((rank) => rank === model.config.numItems),
    'at β = 0 every item ties with the target: the last place',
  );
});

test('count blend: β is the grid value with the best validation NDCG@10 at each size', () => {
  const { split, model } = setting();
  const report = evaluateCountBlend(model, split, 'followers', OPTIONS);
  for (const [size, ndcg] of Object.entries(report.validNdcgByBeta)) {
    assert.equal(ndcg.length, BLEND_GRID.length);
    const best = Math.max(...ndcg);
    assert.equal(report.beta[size], BLEND_GRID[ndcg.indexOf(best)], `size ${size}`);
    assert.equal(report.valid[size]['NDCG@10'], best);
    assert.ok(report.test[size]['NDCG@10'] >= 0);
  }
  assert.deepEqual(Object.keys(report.beta), ['4', '8', '16']);
});

test('CLI: eval --count-blend followers writes its report; a wrong rule or --exclude-history with it is one line', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-blend-'));
  try {
    const data = path.join(root, 'data');
    writeP5Dataset(generateSyntheticDataset({ numUsers: 120, numItems: 50, seed: 5 }), data);
    const run = path.join(root, 'run');
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const train = cli(['train', '--data', data, '--out', run, '--features', 'id', '--width', '16', '--epochs', '1', '--batch-size', '32', '--no-progress']);
    assert.equal(train.status, 0, train.stderr);
    const r = cli(['eval', '--run', run, '--count-blend', 'followers', '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /β chosen on validation: 8: [\d.]+, 16: [\d.]+/);
    assert.match(r.stdout, /\| 16 \|/);
    const saved = JSON.parse(fs.readFileSync(path.join(run, 'metrics-count-blend-followers.json'), 'utf8'));
    assert.equal(saved.rule, 'followers');
    assert.deepEqual(Object.keys(saved.test), ['8', '16']);
    for (const [args, pattern] of [
      [['eval', '--run', run, '--count-blend', 'popularity'], /--count-blend takes followers or neighbours \(got "popularity"\)/],
      [['eval', '--run', run, '--count-blend', 'followers', '--exclude-history'], /do not combine/],
    ] as const) {
      const bad = cli([...args]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, pattern);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
