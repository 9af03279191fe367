/**
 * The serving load benchmark (bench/serve.ts), run briefly on a tiny export:
 * a model with a count prior is loaded with it and, as the baseline, without
 * it, at every size in the same run; every request is answered; a model
 * without a prior is loaded once.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeP5Dataset } from '../src/data/p5';
import { exportAllSizes } from '../src/deploy/export';
import { tempDir, tinyModel, tinySource, tinySourceWithPrior } from './deploy-fixtures';

const BENCH = path.join(__dirname, '..', 'bench', 'serve.js');
const run = promisify(execFile);

const tiny = tinyModel(); // sizes 4, 8, 16; 40 items
const data = tempDir('bench-serve-data');
writeP5Dataset(tiny.dataset, data);

/** The table's rows as [size, count prior, errors], after checking its header and that each row served requests. */
async function benchRows(model: string): Promise<[number, string, number][]> {
  const { stdout } = await run(
    process.execPath,
    [BENCH, '--model', model, '--data', data, '--sizes', '4,max', '--duration', '1', '--users', '20', '--connections', '4'],
    { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  // The load table: the first block of table lines (the funnel's table follows).
  const all = stdout.split('\n');
  const start = all.findIndex((l) => l.startsWith('|'));
  const end = all.findIndex((l, i) => i > start && !l.startsWith('|'));
  const lines = all.slice(start, end);
  const cells = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  assert.deepEqual(cells(lines[0]), ['size', 'count prior', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'errors', 'server CPU ms/request']);
  const rows = lines.slice(2).map(cells);
  for (const r of rows) assert.ok(Number(r[5]) > 0 && Number(r[2]) > 0, `no request answered: ${r.join(' | ')}`);
  return rows.map((r) => [Number(r[0]), r[1], Number(r[6])]);
}

test('bench serve: a model with a count prior is served with it and without it at each size, in one run, every request answered', async () => {
  const model = tempDir('bench-serve-prior');
  exportAllSizes(tinySourceWithPrior(tiny, 6), model);
  assert.deepEqual(await benchRows(model), [
    [4, 'yes', 0],
    [4, 'no', 0],
    [16, 'yes', 0],
    [16, 'no', 0],
  ]);
});

test('bench serve: a model without a count prior is served once per size', async () => {
  const model = tempDir('bench-serve-network');
  exportAllSizes(tinySource(tiny, 6), model);
  assert.deepEqual(await benchRows(model), [
    [4, 'no', 0],
    [16, 'no', 0],
  ]);
});
