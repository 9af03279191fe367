/**
 * The count prior's fit: at β = 0 the ranks are the plain evaluation's; at
 * every β they are the pessimistic rank over the model's scores plus
 * β · log(1 + count), counts by the definition (./plain-counts.ts); the rule
 * and β are the validation argmax; train fits it, eval reproduces it,
 * fit-counts refits or removes it, and wrong flags are one line.
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
import { pessimisticRank } from '../src/eval/baselines';
import { BETA_GRID, evaluateWithCountPrior, fitCountPrior, priorRanks } from '../src/eval/count-prior-fit';
import { countRule, type CountRule } from '../src/model/count-prior';
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

const REACH = { window: 3, context: 3 };

test('count prior at β = 0 ranks every target as the plain evaluation does', () => {
  const { split, model } = setting();
  const k = model.config.dims.length;
  for (const which of ['valid', 'test'] as const) {
    const plain = rankTargets(model, split, which, { ...OPTIONS, excludeHistory: false });
    const blended = priorRanks(
      model,
      split,
      which,
      ['followers'],
      REACH,
      model.config.dims.map(() => [0]),
      OPTIONS,
    );
    assert.deepEqual(blended, plain, which);
    assert.equal(plain.length, split.train.length * k);
  }
});

/**
 * Check priorRanks on `model`, both rules at once and a different β grid per
 * size, against the pessimistic rank over the scores by the definition;
 * returns how many ranks the counts moved.
 */
function checkAgainstDefinition(model: FmrlRec, split: Split): number {
  const dims = model.config.dims;
  const rules: CountRule[] = ['followers', 'neighbours'];
  const grid = dims.map((_, s) => [0, 0.5 * (s + 1), 3]);
  const g = 3;
  const reach = { window: 2, context: 3 };
  const e = model.itemTable();
  const d = model.width;
  const n1 = model.numRows;
  let changed = 0;
  for (const which of ['valid', 'test'] as const) {
    const ranks = priorRanks(model, split, which, rules, reach, grid, OPTIONS);
    for (const batch of evalBatches(split, which, { batchSize: OPTIONS.batchSize, maxLen: OPTIONS.maxLen })) {
      const hidden = model.lastHiddenStates(batch, e);
      batch.users.forEach((u, row) => {
        const target = evalTarget(split, u, which);
        rules.forEach((rule, r) => {
          const counts = plainNeighbourScores(split, which, countRule(rule, reach), evalHistory(split, u, which), n1 - 1);
          dims.forEach((m, s) => {
            // The model's float32 score, as the kernels compute it.
            const z = new Float32Array(n1);
            model.kern.sgemm(false, true, 1, n1, m, 1, hidden.subarray(row * d, (row + 1) * d), d, e, d, 0, z, n1);
            grid[s].forEach((beta, q) => {
              const scores = Float64Array.from(z, (v, i) => (i === 0 ? -Infinity : v + beta * Math.log1p(counts[i])));
              const expected = pessimisticRank(scores, target);
              const at = ((u * rules.length + r) * dims.length + s) * g;
              assert.equal(ranks[at + q], expected, `${which} ${rule} user ${u} size ${m} β ${beta}`);
              if (q > 0 && ranks[at + q] !== ranks[at]) changed++;
            });
          });
        });
      });
    }
  }
  return changed;
}

test('count prior: every rank, under both rules, is the pessimistic rank over the model score plus β · log(1 + count), counts by the definition', () => {
  const { split, model } = setting();
  assert.ok(checkAgainstDefinition(model, split) > 0, 'the counts move some targets');
});

test('count prior: ties count against the target (every item has the same vector)', () => {
  const { split, model } = setting();
  const ids = model.params.value('item_ids.weight');
  const d = model.width;
  for (let i = 2; i < model.numRows; i++) ids.copyWithin(i * d, d, 2 * d);
  assert.ok(checkAgainstDefinition(model, split) > 0, 'the counts move some targets');
  const plain = priorRanks(
    model,
    split,
    'valid',
    ['followers'],
    REACH,
    model.config.dims.map(() => [0]),
    OPTIONS,
  );
  assert.ok(
    plain.every((rank) => rank === model.config.numItems),
    'at β = 0 every item ties with the target: the last place',
  );
});

test('count prior fit: the rule is the best at the largest size, β the best of the grid at each size, as evaluateWithCountPrior ranks', () => {
  const { split, model } = setting();
  const fit = fitCountPrior(model, split, ['followers', 'neighbours'], REACH, OPTIONS);
  const best = (rule: CountRule, size: string) => Math.max(...fit.validNdcgByBeta[rule]![size]);
  assert.deepEqual(Object.keys(fit.validNdcgByBeta), ['followers', 'neighbours']);
  const other = fit.rule === 'followers' ? 'neighbours' : 'followers';
  assert.ok(best(fit.rule, '16') >= best(other, '16'), 'the chosen rule is the better one at the largest size');
  if (fit.rule === 'neighbours') assert.ok(best('neighbours', '16') > best('followers', '16'), 'a tie goes to the earlier rule');
  for (const [size, ndcg] of Object.entries(fit.validNdcgByBeta[fit.rule]!)) {
    assert.equal(ndcg.length, BETA_GRID.length);
    assert.equal(fit.beta[size], BETA_GRID[ndcg.indexOf(Math.max(...ndcg))], `size ${size}: the smaller β of the best`);
    assert.equal(fit.valid[size]['NDCG@10'], Math.max(...ndcg));
  }
  assert.deepEqual(Object.keys(fit.beta), ['4', '8', '16']);
  assert.deepEqual(evaluateWithCountPrior(model, split, 'valid', fit, OPTIONS), fit.valid);
  const single = fitCountPrior(model, split, ['neighbours'], REACH, OPTIONS);
  assert.equal(single.rule, 'neighbours');
  assert.deepEqual(Object.keys(single.validNdcgByBeta), ['neighbours']);
});

test('CLI: train fits the count prior, eval reproduces every figure, fit-counts refits or removes it; wrong flags are one line', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-prior-'));
  try {
    const data = path.join(root, 'data');
    writeP5Dataset(generateSyntheticDataset({ numUsers: 120, numItems: 50, seed: 5 }), data);
    const run = path.join(root, 'run');
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const train = cli(['train', '--data', data, '--out', run, '--features', 'id', '--width', '16', '--epochs', '1', '--batch-size', '32', '--no-progress']);
    assert.equal(train.status, 0, train.stderr);
    assert.match(train.stderr, /count prior: (followers|neighbours) \(chosen on validation from followers, neighbours\), β per size 8: [\d.]+, 16: [\d.]+/);
    assert.match(train.stdout, /with the count prior: (followers|neighbours)/);
    const read = (file: string) => JSON.parse(fs.readFileSync(path.join(run, file), 'utf8'));
    const metrics = read('metrics.json');
    const prior = read('count-prior.json');
    assert.deepEqual(metrics.count_prior, { rule: prior.rule, window: 3, context: 3, beta: prior.beta });
    assert.deepEqual(metrics.valid, prior.valid);
    assert.deepEqual(Object.keys(metrics.network_test), ['8', '16']);
    assert.deepEqual(read('run.json').countPrior, { rules: ['followers', 'neighbours'], reach: { window: 3, context: 3 } });
    assert.match(fs.readFileSync(path.join(run, 'metrics.md'), 'utf8'), /## Test, the network alone/);

    const evaluated = cli(['eval', '--run', run, '--no-progress']);
    assert.equal(evaluated.status, 0, evaluated.stderr);
    assert.match(evaluated.stderr, /matches .*metrics.json \(largest difference 0.00e\+0\)/);
    assert.match(evaluated.stdout, /with the count prior/);

    const refit = cli(['fit-counts', '--run', run, '--counts', 'neighbours', '--count-window', '2', '--no-progress']);
    assert.equal(refit.status, 0, refit.stderr);
    assert.equal(read('count-prior.json').rule, 'neighbours');
    assert.deepEqual(read('metrics.json').network_test, metrics.network_test, 'the network alone is unchanged');
    assert.deepEqual(read('metrics.json').count_prior.window, 2);
    assert.equal(cli(['eval', '--run', run, '--no-progress']).status, 0);

    const removed = cli(['fit-counts', '--run', run, '--counts', 'none', '--no-progress']);
    assert.equal(removed.status, 0, removed.stderr);
    assert.ok(!fs.existsSync(path.join(run, 'count-prior.json')));
    const plain = read('metrics.json');
    assert.equal(plain.count_prior, undefined);
    assert.deepEqual(plain.test, metrics.network_test);
    assert.equal(read('run.json').countPrior, null);
    assert.match(cli(['eval', '--run', run, '--no-progress']).stderr, /matches/);

    for (const [args, pattern] of [
      [['fit-counts', '--run', run, '--counts', 'popularity'], /--counts takes followers and\/or neighbours joined by ",", or none \(got "popularity"\)/],
      [['fit-counts', '--run', run, '--counts', 'none', '--count-window', '2'], /need a count prior/],
      [['fit-counts', '--run', run, '--count-context', '11'], /count-context/],
      [['fit-counts', '--run', path.join(root, 'nothing')], /no metrics.json|not a run folder/],
    ] as const) {
      const bad = cli([...args]);
      assert.equal(bad.status, 1, args.join(' '));
      assert.match(bad.stderr, pattern);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
