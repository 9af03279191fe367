/**
 * The method text and the code agree on its sections: every reference of the
 * form "docs/method.md §N" (or §N.M) in the sources, tests, benchmarks, web
 * page, native kernels, scripts and documentation names a numbered heading of
 * docs/method.md, and no reference to the former method file (named SPEC, in
 * the shared folder, which is not part of the repository) is left.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const METHOD_FILE = path.join('docs', 'method.md');
/** Folders (and files) of the repository whose text is scanned. */
const SCANNED = ['src', 'test', 'bench', 'web', 'native', 'docs', 'scripts', 'README.md'];
/** Text files among them, by extension. */
const TEXT_FILE = /\.(ts|js|mjs|cc|h|py|md|html|css|sh|gyp|json|txt)$/;
/** A section reference: § then a number such as 4 or 4.2. */
const SECTION = /§\s*(\d+(?:\.\d+)*)/g;
/** A reference to the former method file: its name followed by ".md" or a section sign. */
const FORMER_REFERENCE = new RegExp(['\\bS', 'PEC(?:\\.md|\\s*§)'].join(''));

/** Every text file under the scanned paths, relative to the repository root. */
function scannedFiles(): string[] {
  const files: string[] = [];
  const visit = (rel: string): void => {
    const full = path.join(ROOT, rel);
    if (!fs.existsSync(full)) return;
    if (fs.statSync(full).isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) {
        if (name === 'node_modules' || name.startsWith('.')) continue;
        visit(path.join(rel, name));
      }
    } else if (TEXT_FILE.test(rel)) {
      files.push(rel);
    }
  };
  SCANNED.forEach(visit);
  return files;
}

/** Section numbers of docs/method.md's headings ("## 4. The model" gives "4", "### 4.2 Item table" gives "4.2"). */
function methodSections(): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, METHOD_FILE), 'utf8');
  return new Set(Array.from(text.matchAll(/^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s/gm), (m) => m[1]));
}

/**
 * Section references with their places: in docs/method.md every §N (it refers
 * to itself); elsewhere every §N on a line from a mention of method.md to the
 * line's end (so "docs/method.md §4 scores, §5 loss" gives 4 and 5).
 */
function sectionReferences(file: string, text: string): { section: string; where: string }[] {
  const refs: { section: string; where: string }[] = [];
  text.split('\n').forEach((line, i) => {
    const start = file === METHOD_FILE ? 0 : line.indexOf('method.md');
    if (start < 0) return;
    for (const m of line.slice(start).matchAll(SECTION)) refs.push({ section: m[1], where: `${file}:${i + 1}` });
  });
  return refs;
}

test('docs/method.md has the numbered sections 1 to 7 that the code cites', () => {
  const sections = methodSections();
  for (let n = 1; n <= 7; n++) assert.ok(sections.has(String(n)), `docs/method.md has no heading "## ${n}."`);
});

test('every docs/method.md §N reference names a section of docs/method.md', () => {
  const sections = methodSections();
  const files = scannedFiles();
  const refs = files.flatMap((file) => sectionReferences(file, fs.readFileSync(path.join(ROOT, file), 'utf8')));
  assert.ok(refs.filter((r) => !r.where.startsWith(METHOD_FILE)).length >= 20, `only ${refs.length} references found: is the scan looking in the right place?`);
  const broken = refs.filter((r) => !sections.has(r.section)).map((r) => `${r.where}: §${r.section}`);
  assert.deepEqual(broken, [], `references to sections docs/method.md does not have (headings: ${[...sections].join(', ')})`);
});

test('no reference to the former method file is left', () => {
  const left = scannedFiles().flatMap((file) =>
    fs
      .readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .map((line, i) => (FORMER_REFERENCE.test(line) ? `${file}:${i + 1}: ${line.trim()}` : null))
      .filter((s): s is string => s !== null),
  );
  assert.deepEqual(left, [], 'point these at docs/method.md §N instead');
});
