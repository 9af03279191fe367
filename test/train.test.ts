/**
 * Training: a resumed run continues exactly like an uninterrupted one; the CLI
 * trains, writes the output contract, re-evaluates to the same metrics, resumes
 * after a kill, and reports user mistakes as one line without a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticDataset, leaveOneOut, writeP5Dataset } from '../src/data';
import { getKernels } from '../src/kernels';
import { doublingLadder } from '../src/model/config';
import { FmrlRec } from '../src/model/fmrlrec';
import { parseFeatures } from '../src/cli/train';
import { attributeFeatures } from '../src/features';
import { ATTRIBUTE_EMBEDDING, ITEM_ID_EMBEDDING } from '../src/model/layers/item-table';
import { DEFAULT_MODEL, DEFAULT_TRAIN } from '../src/run/defaults';
import { prepareRun } from '../src/run/prepare';
import { featureLabel, type FeatureConfig, type RunConfig } from '../src/run/run-config';
import { BEST_FILE, CHECKPOINT_FILE, trainModel, TrainConfig } from '../src/train/trainer';
import { UserError } from '../src/util/errors';
import { safetensorsValueCount } from '../src/util/safetensors-file';
import { smallIdModel } from './small-model';

const CLI = path.resolve(__dirname, '../src/cli/main.js');

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const SMALL_TRAIN: TrainConfig = { ...DEFAULT_TRAIN, epochs: 3, batchSize: 32, lr: 3e-3, warmupSteps: 5, patience: 10, evalBatchSize: 128 };

function smallModel(numItems: number): FmrlRec {
  return smallIdModel(numItems, doublingLadder(16), SMALL_TRAIN.seed);
}

test('a run interrupted after an epoch and resumed ends with the same weights as an uninterrupted one', () => {
  const ds = generateSyntheticDataset({ numUsers: 150, numItems: 60, seed: 3 });
  const split = leaveOneOut(ds);
  const quiet = { progress: false, log: () => {} };

  const straight = smallModel(ds.numItems);
  trainModel(straight, split, SMALL_TRAIN, { ...quiet, runDir: tempDir('fmrlrec-straight-'), resume: false });

  const dir = tempDir('fmrlrec-resumed-');
  const first = smallModel(ds.numItems);
  const partial = trainModel(first, split, SMALL_TRAIN, { ...quiet, runDir: dir, resume: false, timeLimitSeconds: 1e-9 });
  assert.equal(partial.state.epoch, 1, 'the time limit stops after the first epoch');
  const resumed = smallModel(ds.numItems);
  const final = trainModel(resumed, split, SMALL_TRAIN, { ...quiet, runDir: dir, resume: true });
  assert.equal(final.state.epoch, 3);
  assert.deepEqual(resumed.params.values, straight.params.values);
});

test('in memory (no runDir): nothing is written, onEpoch sees every epoch, and the best parameters equal those of a run folder', () => {
  const ds = generateSyntheticDataset({ numUsers: 150, numItems: 60, seed: 3 });
  const split = leaveOneOut(ds);
  const onDisk = smallModel(ds.numItems);
  const dir = tempDir('fmrlrec-ondisk-');
  const saved = trainModel(onDisk, split, SMALL_TRAIN, { runDir: dir });
  const inMemory = smallModel(ds.numItems);
  const cwd = fs.readdirSync(process.cwd());
  const epochs: { epoch: number; best: boolean; ndcg: number }[] = [];
  const result = trainModel(inMemory, split, SMALL_TRAIN, { onEpoch: (e) => epochs.push({ epoch: e.epoch, best: e.best, ndcg: e.valid['16']['NDCG@10'] }) });
  assert.deepEqual(fs.readdirSync(process.cwd()), cwd);
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.deepEqual(
    epochs.map((e) => e.ndcg),
    saved.state.history.map((h) => h.validNdcg10),
  );
  assert.equal(epochs.filter((e) => e.best).at(-1)?.epoch, saved.state.bestEpoch);
  assert.deepEqual(result.bestValid, saved.bestValid);
  assert.deepEqual(inMemory.params.values, onDisk.params.values);
  assert.throws(() => trainModel(smallModel(ds.numItems), split, SMALL_TRAIN, { resume: true }), /runDir/);
});

test('embeddingLrScale sets the rate of the embedding tables alone: at 0 the item-ID table keeps its initial values, the other weights move', () => {
  const ds = generateSyntheticDataset({ numUsers: 150, numItems: 60, seed: 3 });
  const split = leaveOneOut(ds);
  const model = smallModel(ds.numItems);
  const before = Float32Array.from(model.params.values);
  trainModel(model, split, { ...SMALL_TRAIN, epochs: 1, embeddingLrScale: 0 }, { progress: false });
  const table = model.params.specs.find((spec) => spec.name === ITEM_ID_EMBEDDING);
  assert.ok(table, 'the small model has an item-ID table');
  const moved = (from: number, to: number) => model.params.values.subarray(from, to).some((x, i) => x !== before[from + i]);
  assert.equal(moved(table.offset, table.offset + table.size), false, 'the item-ID table is unchanged');
  assert.ok(moved(0, table.offset) || moved(table.offset + table.size, before.length), 'the other parameters are trained');
});

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: train writes metrics.json in the contract shape, eval reproduces it to 1e-6', () => {
  const data = tempDir('fmrlrec-cli-data-');
  writeP5Dataset(generateSyntheticDataset({ numUsers: 200, numItems: 80, seed: 5 }), data);
  const run = path.join(tempDir('fmrlrec-cli-run-'), 'run');
  const train = runCli(['train', '--data', data, '--out', run, '--features', 'id', '--width', '32', '--epochs', '2', '--batch-size', '32', '--no-progress']);
  assert.equal(train.status, 0, train.stderr);
  const metrics = JSON.parse(fs.readFileSync(path.join(run, 'metrics.json'), 'utf8'));
  assert.deepEqual(Object.keys(metrics).sort(), [
    'best_epoch',
    'count_prior',
    'dataset',
    'dims',
    'features',
    'network_test',
    'network_valid',
    'parameters',
    'test',
    'train_seconds',
    'valid',
  ]);
  assert.equal(metrics.parameters, safetensorsValueCount(path.join(run, BEST_FILE)), 'parameters counts the values of best.safetensors');
  assert.deepEqual(metrics.dims, [8, 16, 32]);
  assert.equal(metrics.features, 'id');
  for (const split of ['valid', 'test', 'network_valid', 'network_test']) {
    assert.deepEqual(Object.keys(metrics[split]), ['8', '16', '32']);
    for (const k of [5, 10, 20, 50]) {
      for (const name of ['Recall', 'NDCG', 'MRR']) assert.equal(typeof metrics[split]['32'][`${name}@${k}`], 'number');
    }
  }
  assert.match(train.stdout, /\| 32 \|/);
  const evaluated = runCli(['eval', '--run', run, '--no-progress', '--json']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stderr, /matches .*metrics\.json/);
  const again = JSON.parse(evaluated.stdout);
  for (const split of ['valid', 'test', 'network_valid', 'network_test']) {
    for (const size of ['8', '16', '32']) {
      for (const [name, value] of Object.entries(metrics[split][size])) {
        assert.ok(Math.abs((value as number) - again[split][size][name]) <= 1e-6, `${split} ${size} ${name}`);
      }
    }
  }
});

test('CLI: a training killed mid-run continues with --resume', async () => {
  const data = tempDir('fmrlrec-kill-data-');
  writeP5Dataset(generateSyntheticDataset({ numUsers: 400, numItems: 100, seed: 6 }), data);
  const run = path.join(tempDir('fmrlrec-kill-run-'), 'run');
  const args = ['train', '--data', data, '--out', run, '--features', 'id', '--width', '32', '--epochs', '6', '--batch-size', '16', '--no-progress'];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
  const checkpoint = path.join(run, CHECKPOINT_FILE);
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(checkpoint) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  assert.ok(fs.existsSync(checkpoint), 'a checkpoint was written before the kill');
  assert.ok(!fs.existsSync(path.join(run, 'metrics.json')), 'the run was killed before it finished');
  const again = runCli(['train', '--data', data, '--out', run, '--features', 'id', '--no-progress']);
  assert.equal(again.status, 1, 'a second train into the same folder without --resume is refused');
  assert.match(again.stderr, /--resume/);
  const resumed = runCli(['train', '--out', run, '--resume', '--no-progress']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming after epoch [1-9]/);
  assert.ok(fs.existsSync(path.join(run, 'metrics.json')));
  // No temporary files are left behind by the atomic writes.
  assert.deepEqual(
    fs.readdirSync(run).filter((f) => f.includes('.tmp')),
    [],
  );
});

test('--features: any combination of text, attr, words and id; attr gives the model the attribute rows and a vector per attribute', async () => {
  const cache = tempDir('fmrlrec-cache-');
  const parse = (f: string | undefined): Pick<FeatureConfig, 'text' | 'attributes' | 'titleWords' | 'itemIds'> => {
    const { text, attributes, titleWords, itemIds } = parseFeatures(f, undefined, cache);
    return { text, attributes, titleWords, itemIds };
  };
  assert.deepEqual(parse(undefined), { text: 'use', attributes: true, titleWords: true, itemIds: true });
  assert.deepEqual(parse('id+attr+text'), { text: 'use', attributes: true, titleWords: undefined, itemIds: true });
  assert.deepEqual(parse('attr'), { text: null, attributes: true, titleWords: undefined, itemIds: false });
  assert.deepEqual(parse('words+id'), { text: null, attributes: undefined, titleWords: true, itemIds: true });
  const features = parseFeatures('attr+id', undefined, cache);
  assert.equal(featureLabel(features), 'attr+id');
  const config: RunConfig = {
    version: 1,
    dataset: { kind: 'synthetic', users: 60, items: 40, seed: 3, name: 'tiny' },
    features,
    model: { ...DEFAULT_MODEL, dims: doublingLadder(16) },
    train: DEFAULT_TRAIN,
  };
  const prepared = await prepareRun(config, { kern: getKernels() });
  const expected = attributeFeatures(prepared.dataset.items);
  assert.ok(expected.dim > 0);
  assert.equal(prepared.featureDim, 0);
  assert.deepEqual(prepared.model.attributes, expected);
  assert.deepEqual(prepared.model.params.specs.find((s) => s.name === ATTRIBUTE_EMBEDDING)?.shape, [expected.dim, 16]);
  assert.ok(prepared.model.params.has(ITEM_ID_EMBEDDING));

  // A dataset without item metadata shares no attribute: the model simply has no attribute table.
  const bare = tempDir('fmrlrec-bare-');
  const synthetic = generateSyntheticDataset({ numUsers: 60, numItems: 40, seed: 3 });
  writeP5Dataset({ ...synthetic, items: synthetic.items.map(() => null) }, bare);
  const withoutMeta = await prepareRun(
    {
      ...config,
      dataset: { kind: 'p5', path: bare, name: 'bare' },
      features: parseFeatures('attr+words+id', undefined, cache),
    },
    { kern: getKernels() },
  );
  assert.equal(withoutMeta.model.attributes, null);
  assert.ok(!withoutMeta.model.params.has(ATTRIBUTE_EMBEDDING));
  assert.equal(featureLabel(withoutMeta.usedFeatures), 'id', 'metrics.json names only what was used');
  assert.deepEqual(withoutMeta.notes, [
    'no brand or category is shared by two items: training without brand/category vectors',
    'no title word is shared by two items: training without title-word vectors',
  ]);
});

test('a dataset whose items all have the same text trains without the text part, and says so', async () => {
  const bare = tempDir('fmrlrec-untitled-');
  const synthetic = generateSyntheticDataset({ numUsers: 60, numItems: 40, seed: 3 });
  // Every item "Untitled Item" (as Amazon Clothing here), and one user k-core filtering left with 2 items.
  const sequences = [...synthetic.sequences, Int32Array.of(1, 2)];
  writeP5Dataset({ ...synthetic, sequences, userIds: [...synthetic.userIds, 'short'], items: synthetic.items.map(() => null) }, bare);
  const prepareUntitled = (features: string) =>
    prepareRun(
      {
        version: 1,
        dataset: { kind: 'p5', path: bare, name: 'untitled' },
        features: parseFeatures(features, undefined, tempDir('fmrlrec-cache-')),
        model: { ...DEFAULT_MODEL, dims: doublingLadder(16) },
        train: DEFAULT_TRAIN,
      },
      { kern: getKernels() },
    );
  const prepared = await prepareUntitled('text+id');
  assert.equal(prepared.featureDim, 0, 'no constant text feature');
  assert.equal(prepared.usedFeatures.text, null);
  assert.equal(featureLabel(prepared.usedFeatures), 'id');
  assert.equal(prepared.dataset.sequences.length, 60, 'the 2-item user is dropped');
  assert.deepEqual(prepared.notes, [
    'dropped 1 user with fewer than 3 items (leave-one-out needs 3)',
    'every item has the same text ("Untitled Item"): training without the text part',
  ]);
  // Text alone (the paper's method) leaves nothing to train on: a user error that names the way out.
  const textOnly = await prepareUntitled('text').catch((e: unknown) => e);
  assert.ok(textOnly instanceof UserError, String(textOnly));
  assert.match(textOnly.message, /dataset untitled: none of the features asked for is usable \(every item has the same text.*--features text\+id/);
});

test('CLI: user mistakes give one clear line and a non-zero exit, never a stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--data', '/nonexistent/beauty', '--out', path.join(tempDir('fmrlrec-bad-'), 'r')], /nonexistent.*(not found|does not exist|no such|missing)/i],
    [['train', '--out', 'x'], /--data is required/],
    [['train', '--data', '.', '--out', 'x', '--lr', 'fast'], /--lr must be a number/],
    [['train', '--data', '.', '--out', 'x', '--features', 'images'], /--features takes text, attr, words, id joined by "\+"/],
    [['train', '--data', '.', '--out', 'x', '--features', 'id+id'], /each at most once/],
    [['train', '--data', '.', '--out', 'x', '--images', '.'], /--images needs --image-model/],
    [['train', '--data', '.', '--out', 'x', '--r-min', '0.5', '--r-max', '0.2'], /--r-min must be below --r-max \(got 0.5 and 0.2\)/],
    [['train', '--data', '.', '--out', 'x', '--embedding-lr-scale=-1'], /--embedding-lr-scale must be >= 0/],
    [['train', '--data', '.', '--out', 'x', '--future-targets', '11'], /--future-targets must be <= 10/],
    [['train', '--data', '.', '--out', 'x', '--future-targets', '3', '--loss', 'sampled'], /future targets work with the full softmax only/],
    [['train', '--data', '.', '--out', 'x', '--history-negatives', '1', '--loss', 'sampled'], /history negatives work with the full softmax only/],
    [['train', '--bogus'], /bogus/],
    [['eval', '--run', '/nonexistent/run'], /not a run folder/],
    [['frobnicate'], /unknown command/],
  ];
  for (const [args, pattern] of cases) {
    const r = runCli(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
  }
});
