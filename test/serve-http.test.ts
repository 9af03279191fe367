/**
 * HTTP service tests on a tiny exported model: the recommend route answers
 * like the library, any size per request, errors name the field, unknown items
 * are reported, bodies are size-limited, metrics are Prometheus text, and a
 * closing server finishes the requests in flight; the CLI drains on SIGTERM;
 * `fmrlrec recommend --json` and the service give the same body on the edge
 * cases (an empty history, a history of unknown items).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { exportAllSizes } from '../src/deploy/export';
import { DEFAULT_SERVER_OPTIONS, RecommendServer } from '../src/serve/http-server';
import { loadModelFolder } from '../src/serve/model-folder';
import { parseRecommendRequest, recommend } from '../src/serve/recommender';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';

const tiny = tinyModel();
const dir = tempDir('http');
exportAllSizes(tinySource(tiny), dir);
const model = loadModelFolder(dir);
const asin = (id: number) => model.catalogue.item(id)!.asin;
const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');

async function withServer(fn: (base: string, server: RecommendServer) => Promise<void>, maxBodyBytes = 4096): Promise<void> {
  const server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0, maxBodyBytes });
  const address = await server.listen();
  try {
    await fn(`http://127.0.0.1:${address.port}`, server);
  } finally {
    await server.close();
  }
}

/** The parsed JSON body of a response. */
async function json(res: Response): Promise<any> {
  return res.json();
}

function post(base: string, body: unknown) {
  return fetch(`${base}/v1/recommend`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('serve: POST /v1/recommend answers like the library, at any size of an every-size export', async () => {
  await withServer(async (base) => {
    const history = Array.from(tiny.dataset.sequences[4]).map(asin);
    for (const size of [4, 8, 16]) {
      const body = { history, k: 5, size, exclude_history: true };
      const res = await post(base, body);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const expected = recommend(model.engine, model.catalogue, parseRecommendRequest(body, model.engine));
      assert.deepEqual(await json(res), JSON.parse(JSON.stringify(expected)));
    }
    const unknown = await json(await post(base, { history: [...history, 'B000NOPE', 999], k: 2 }));
    assert.equal(unknown.size, 16);
    assert.equal(unknown.items.length, 2);
    assert.deepEqual(unknown.unknown, { history: ['B000NOPE', 999] });
    assert.equal(unknown.history_used, Math.min(history.length, model.engine.maxLen));
  });
});

test('serve: bad requests get 400 naming the field; limits, unknown routes and methods', async () => {
  await withServer(async (base) => {
    const cases: [unknown, string][] = [
      ['{"history": [', 'body'],
      ['', 'body'],
      [{ history: ['a'], k: -1 }, 'k'],
      [{ history: ['a'], size: 5 }, 'size'],
      [{ k: 3 }, 'history'],
    ];
    for (const [body, field] of cases) {
      const res = await post(base, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = await json(res);
      assert.equal(error.field, field);
      assert.equal(typeof error.error, 'string');
    }
    const big = await post(base, { history: Array.from({ length: 2000 }, () => 'B00000000X') });
    assert.equal(big.status, 413);
    assert.equal((await json(big)).field, 'body');
    assert.equal((await fetch(`${base}/v1/recommend`)).status, 405);
    assert.equal((await fetch(`${base}/nothing`)).status, 404);
    const item = await fetch(`${base}/v1/items/3`);
    assert.deepEqual(await json(item), model.catalogue.item(3));
    assert.deepEqual(await json(await fetch(`${base}/v1/items/${encodeURIComponent(asin(7))}`)), model.catalogue.item(7));
    assert.equal((await fetch(`${base}/v1/items/%E0%A4%A`)).status, 400);
    const missing = await fetch(`${base}/v1/items/0`);
    assert.equal(missing.status, 404);
    assert.equal((await json(missing)).field, 'id');
    assert.deepEqual(await json(await fetch(`${base}/healthz`)), { status: 'ok', dataset: tiny.dataset.name, sizes: [4, 8, 16], items: tiny.dataset.numItems });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^# HELP fmrlrec_model_info/m);
    assert.match(metrics, /fmrlrec_requests_total\{route="\/v1\/recommend",status="400"\} 5/);
    assert.match(metrics, /fmrlrec_request_duration_seconds_count\{route="\/v1\/recommend"\} 7/);
    assert.match(metrics, /fmrlrec_requests_in_flight 1/);
    assert.match(metrics, /^process_cpu_seconds_total [0-9.e-]+$/m);
  });
});

test('serve: close() lets a request in flight finish, then stops', async () => {
  const server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0 });
  const { port } = await server.listen();
  const body = JSON.stringify({ history: [1, 2, 3], k: 3 });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/v1/recommend', method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, 10)); // in flight: headers and part of the body sent
    setTimeout(() => {
      closed = server.close();
      setTimeout(() => req.end(body.slice(10)), 100);
    }, 100);
  });
  let closed: Promise<void> | null = null;
  const { status, text } = await answer;
  assert.equal(status, 200);
  assert.equal(JSON.parse(text).items.length, 3);
  await closed;
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});

test('serve: the CLI serves, and on SIGTERM drains and exits 0', async () => {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', dir, '--port', '0', '--store', 'none'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (c) => {
      stderr += c;
      const m = /http:\/\/127\.0\.0\.1:([0-9]+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
  });
  const res = await post(`http://127.0.0.1:${port}`, { history: [asin(1)], k: 2, size: 8 });
  assert.equal((await json(res)).size, 8);
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGTERM: finishing requests in flight\nstopped/);
});

/** `fmrlrec recommend --json` on the test model: its parsed stdout and its stderr. */
/**
 * `fmrlrec recommend --json` in a child process, awaited without blocking this
 * process: the server under test lives here and must keep serving (a blocked
 * event loop lets its keep-alive timer close the client's pooled connection).
 */
async function cliRecommend(history: string): Promise<{ body: any; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'recommend', '--model', dir, '--history', history, '--k', '4', '--json']);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(status, 0, stderr);
  return { body: JSON.parse(stdout), stderr };
}

test('serve and the CLI agree on an empty history and on a history of unknown items, and flag both', async () => {
  const noHistory = model.engine.rank(model.engine.userVector([]), model.engine.width, { k: 4 }).map((r) => r.id);
  await withServer(async (base) => {
    const empty = await json(await post(base, { history: [], k: 4 }));
    assert.equal(empty.history_used, 0);
    assert.equal(empty.unknown, undefined);
    assert.deepEqual(
      empty.items.map((item: { id: number }) => item.id),
      noHistory,
    );
    const cliEmpty = await cliRecommend('');
    assert.deepEqual(cliEmpty.body, empty);
    assert.match(cliEmpty.stderr, /the history is empty: these are the recommendations for a user with no history/);

    const unknown = await json(await post(base, { history: ['B000NOPE', 'B000GONE'], k: 4 }));
    assert.equal(unknown.history_used, 0);
    assert.deepEqual(unknown.unknown, { history: ['B000NOPE', 'B000GONE'] });
    assert.deepEqual(
      unknown.items.map((item: { id: number }) => item.id),
      noHistory,
    );
    const cliUnknown = await cliRecommend('B000NOPE,B000GONE');
    assert.deepEqual(cliUnknown.body, unknown);
    assert.match(cliUnknown.stderr, /not in the catalogue, ignored: B000NOPE, B000GONE/);
    assert.match(cliUnknown.stderr, /no item of the history is in the catalogue: these are the recommendations for a user with no history/);

    const known = await cliRecommend(`${asin(2)},${asin(3)}`);
    assert.equal(known.body.history_used, 2);
    assert.deepEqual(known.body, await json(await post(base, { history: [asin(2), asin(3)], k: 4 })));
    assert.equal(known.stderr, '');
  });
});
