/**
 * README.md's "Use it as a library" example, run as written: its code block is
 * compiled to CommonJS and run in a child process where `fmrlrec` resolves to
 * this package (a node_modules link to the repository, whose main is the built
 * dist/src/index.js).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..');

/** The first ```ts block after the heading `heading` in README.md. */
function readmeBlock(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README.md has no "${heading}" section`);
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(start));
  assert.ok(block, `no ts code block under "${heading}"`);
  return block[1];
}

test('README "Use it as a library": train → slice → recommend runs as written', () => {
  const code = readmeBlock('## Use it as a library');
  assert.match(code, /from 'fmrlrec'/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-readme-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'fmrlrec'), 'dir');
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  fs.writeFileSync(path.join(dir, 'example.js'), js);
  const run = spawnSync(process.execPath, ['example.js'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.match(lines[0], /^epoch 1: validation NDCG@10 0\.\d{4}$/);
  assert.match(lines[1], /^epoch 2: validation NDCG@10 0\.\d{4}$/);
  assert.match(lines[2], /^size 16: \d+ of \d+ parameters$/);
  assert.equal(lines.length, 3 + 5, run.stdout);
  for (const line of lines.slice(3)) assert.match(line, /^\S+ {2}-?\d+\.\d{3} {2}\S/);
});
