/**
 * The live service's load benchmark (bench/live.ts), run briefly: the table's
 * shape, every acknowledged event (seeding included) found in the store, the
 * PostgreSQL schema dropped after; a bad option is one line. The PostgreSQL
 * case is skipped with the reason when no server answers (a failure in CI).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { exportAllSizes } from '../src/deploy/export';
import { tempDir, tinyModel, tinySourceWithPrior } from './deploy-fixtures';
import { onTestServer, postgresUnavailable, TEST_PG_URL } from './pg-fixtures';

const BENCH = path.join(__dirname, '..', 'bench', 'live.js');
const run = promisify(execFile);

/** A short run: 500 synthetic items, 40 users seeded with 5 events each, 1 s per size, no warm-up. */
async function liveBench(args: string[]): Promise<{ stdout: string; stderr: string; pid: number }> {
  const child = run(process.execPath, [BENCH, '--items', '500', '--users', '40', '--duration', '1', '--warmup', '0', '--connections', '8', ...args], {
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const pid = child.child.pid!;
  const { stdout, stderr } = await child;
  return { stdout, stderr, pid };
}

/** The table's rows as cells (header and rule left out). */
function tableRows(stdout: string): string[][] {
  const lines = stdout.split('\n').filter((l) => l.startsWith('|'));
  assert.deepEqual(
    lines[0]
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
    ['configuration', 'size', 'count prior', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'events acknowledged', 'events lost'],
  );
  return lines.slice(2).map((l) =>
    l
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim()),
  );
}

/** Every row: its configuration, size and count prior (yes/no), a count of requests per second, latencies, no error, no event lost. */
function assertRows(rows: string[][], expected: [string, number, string][]): void {
  assert.deepEqual(
    rows.map((r) => [r[0], Number(r[1]), r[2]]),
    expected,
  );
  for (const [, , , rps, p50, p99, errors, acknowledged, lost] of rows) {
    assert.ok(Number(rps) > 0, `req/s ${rps}`);
    assert.ok(Number(p50) >= 0 && Number(p99) >= Number(p50), `p50 ${p50}, p99 ${p99}`);
    assert.equal(Number(errors), 0);
    assert.ok(Number.isInteger(Number(acknowledged)));
    assert.equal(Number(lost), 0);
  }
}

/** The "acknowledged so far, stored, lost" lines: at least the seeded events acknowledged, all stored. */
function assertLedger(stderr: string, seeded: number): void {
  const lines = [...stderr.matchAll(/([0-9]+) events acknowledged so far, ([0-9]+) stored, ([0-9]+) lost/g)];
  assert.ok(lines.length > 0, stderr);
  for (const [, acknowledged, stored, lost] of lines) {
    assert.ok(Number(acknowledged) >= seeded, `${acknowledged} acknowledged`);
    assert.ok(Number(stored) >= Number(acknowledged));
    assert.equal(Number(lost), 0);
  }
}

let pgUnavailable: string | null = 'not checked';
before(async () => {
  pgUnavailable = await postgresUnavailable();
});

test('bench live: the embedded store under the mixed load, every acknowledged event stored', async () => {
  const { stdout, stderr } = await liveBench(['--configs', 'embedded']);
  assertRows(tableRows(stdout), [
    ['embedded', 64, 'no'],
    ['embedded', 256, 'no'],
  ]);
  assertLedger(stderr, 40 * 5);
  assert.match(stdout, /- embedded, size 64: >= 1500 req\/s with p99 <= 25 ms, no error, no event lost: (pass|FAIL) \(/);
  assert.match(stdout, /- PostgreSQL, 2 replicas, size 64: .*: not measured/);
  assert.match(stdout, /- every acknowledged event stored: pass/);
});

test('bench live: PostgreSQL with two replicas, its schema dropped after', async (t) => {
  if (pgUnavailable) {
    t.skip(pgUnavailable);
    return;
  }
  const { stdout, stderr, pid } = await liveBench(['--configs', 'postgres-2', '--sizes', '64', '--pg', TEST_PG_URL]);
  assertRows(tableRows(stdout), [['PostgreSQL, 2 replicas', 64, 'no']]);
  assertLedger(stderr, 40 * 5);
  const { rows } = await onTestServer((c) => c.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`fmrlrec_bench_live_${pid}_%`]));
  assert.deepEqual(rows, []);
});

test('bench live: a model with a count prior is measured with it, then as the network alone, every acknowledged event stored', async () => {
  const model = tempDir('bench-live-prior');
  exportAllSizes(tinySourceWithPrior(tinyModel(), 6), model);
  const { stdout, stderr } = await liveBench(['--configs', 'embedded', '--model', model, '--sizes', '16']);
  assertRows(tableRows(stdout), [
    ['embedded', 16, 'yes'],
    ['embedded', 16, 'no'],
  ]);
  assertLedger(stderr, 40 * 5);
  assert.match(stderr, /embedded, count prior: seeded 40 users/);
});

test('bench live: a bad option is one line', async () => {
  await assert.rejects(run(process.execPath, [BENCH, '--configs', 'embedded,mysql']), (err: { code: number; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.equal(err.stderr, 'bench live: --configs: unknown configuration "mysql" (configurations: embedded, postgres-1, postgres-2)\n');
    return true;
  });
});
