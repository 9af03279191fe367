/**
 * The browser demo builds in `npm test`: web/main.ts typechecks against the DOM
 * library (web/tsconfig.json), and web/build.mjs bundles it for the browser —
 * alone, and with an exported model copied beside it — into a temporary folder;
 * a folder that is not an exported size is refused in one line. (Clicking
 * through the built page is test/browser.test.ts, which needs chromium.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportSize } from '../src/deploy/export';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const BUILD = path.join(ROOT, 'web', 'build.mjs');

function run(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

test('web demo: web/main.ts typechecks (tsc -p web/tsconfig.json)', { timeout: 120_000 }, () => {
  const res = run([TSC, '-p', path.join(ROOT, 'web', 'tsconfig.json')]);
  assert.equal(res.status, 0, `tsc -p web/tsconfig.json failed:\n${res.stdout}${res.stderr}`);
});

test('web demo: the bundle builds for the browser, with and without a model', { timeout: 120_000 }, () => {
  const dir = tempDir('web');
  const site = path.join(dir, 'site');
  const bare = run([BUILD, '--out', site]);
  assert.equal(bare.status, 0, `node web/build.mjs failed:\n${bare.stdout}${bare.stderr}`);
  const files = fs.readdirSync(site);
  assert.ok(files.includes('app.js') && files.includes('index.html'), `the page and its bundle are written (${files.join(', ')})`);
  const bundle = fs.readFileSync(path.join(site, 'app.js'), 'utf8');
  assert.ok(bundle.length > 1000, 'app.js holds the bundled demo');
  assert.doesNotMatch(bundle, /\brequire\(/, 'the browser bundle needs no Node module');
  assert.match(fs.readFileSync(path.join(site, 'index.html'), 'utf8'), /app\.js/, 'the page loads the bundle');

  const modelDir = path.join(dir, 'model');
  exportSize(tinySource(tinyModel({ dims: [4, 8] })), 8, modelDir);
  const withModel = path.join(dir, 'site-with-model');
  const built = run([BUILD, '--model', modelDir, '--out', withModel]);
  assert.equal(built.status, 0, `node web/build.mjs --model failed:\n${built.stdout}${built.stderr}`);
  const copied = fs.readdirSync(path.join(withModel, 'model'));
  assert.ok(copied.includes('config.json') && copied.some((f) => f.endsWith('.safetensors')), `the model is copied beside the page (${copied.join(', ')})`);
  for (const file of copied) {
    assert.ok(fs.readFileSync(path.join(withModel, 'model', file)).equals(fs.readFileSync(path.join(modelDir, file))), `${file} is the exported file`);
  }

  const refused = run([BUILD, '--model', dir, '--out', path.join(dir, 'refused')]);
  assert.notEqual(refused.status, 0, 'a folder that is not an exported size is refused');
  assert.equal(refused.stderr.trim().split('\n').length, 1, `one line, no stack trace:\n${refused.stderr}`);
  assert.ok(refused.stderr.includes(dir), `the message names the folder:\n${refused.stderr}`);
});
