/**
 * The live routes on the embedded store, through HTTP: a user's stored-state
 * recommendations equal POST /v1/recommend with the user's whole history to
 * 1e-5 at every size (each size is the prefix of the full-width state), within
 * the window and past it (where both read the last maxLen items, not the
 * unbounded stream); an unknown user gets the empty-history answer, flagged;
 * events are idempotent by id, all or nothing, and bad ones get 400 naming the
 * field. Then the CLI: acknowledged events survive SIGKILL, and a second
 * process on the same folder is refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_FILE, WEIGHTS_FILE } from '../src/deploy/format';
import { exportAllSizes } from '../src/deploy/export';
import { DEFAULT_SERVER_OPTIONS, RecommendServer } from '../src/serve/http-server';
import { DEFAULT_LIVE_OPTIONS, LiveService, modelFingerprint } from '../src/serve/live';
import { loadModelFolder } from '../src/serve/model-folder';
import { openEmbeddedStore } from '../src/store/embedded';
import type { LiveStore } from '../src/store/types';
import { maxAbsDiff, tempDir, tinyModel, tinySource } from './deploy-fixtures';
import { ServeProcess, startServe } from './serve-process';

const MAX_LEN = 6;
const tiny = tinyModel();
const dir = tempDir('live');
exportAllSizes(tinySource(tiny, MAX_LEN), dir);
const model = loadModelFolder(dir);
const { engine } = model;
const asin = (id: number) => model.catalogue.item(id)!.asin;
const stateDir = tempDir('live-state');

let store: LiveStore;
const started: ServeProcess[] = [];
let server: RecommendServer;
let base = '';

before(async () => {
  store = await openEmbeddedStore(stateDir, { modelFingerprint: modelFingerprint(model) });
  const live = new LiveService(engine, model.catalogue, store, { ...DEFAULT_LIVE_OPTIONS, maxEvents: 20 });
  server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0, live });
  base = `http://127.0.0.1:${(await server.listen()).port}`;
});

after(async () => {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await server?.close();
  await store?.close().catch(() => undefined); // closed already by the CLI test
});

interface Item {
  id: number;
  asin: string;
  title: string;
  score: number;
}

async function call(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

const postJson = (url: string, body: unknown) =>
  call(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

let nextEvent = 0;
/** Send items (ids) as events of a user; returns the answer. */
function sendEvents(user: string, items: number[], at = base) {
  return postJson(`${at}/v1/events`, { events: items.map((i) => ({ id: `ev-${nextEvent++}`, user, item: asin(i), ts: 1700000000 + nextEvent })) });
}

/** Same items, same order, scores within 1e-5 (an order may differ only between scores that close). */
function assertSameRanking(actual: Item[], expected: Item[], where: string): void {
  assert.equal(actual.length, expected.length, where);
  const expectedScore = new Map(expected.map((e) => [e.id, e.score]));
  actual.forEach((a, i) => {
    assert.ok(expectedScore.has(a.id), `${where}: item ${a.id} is not in the expected list`);
    assert.ok(Math.abs(a.score - expectedScore.get(a.id)!) <= 1e-5, `${where}: item ${a.id} scores ${a.score}, expected ${expectedScore.get(a.id)}`);
    assert.ok(Math.abs(a.score - expected[i].score) <= 1e-5, `${where}: rank ${i}`);
    assert.equal(a.asin, asin(a.id));
  });
}

/** GET the user's recommendations and POST /v1/recommend with the whole history: equal at every size, with and without exclusion. */
async function assertLikeFullHistory(user: string, history: number[], at = base): Promise<void> {
  for (const size of engine.sizes) {
    for (const exclude of [false, true]) {
      const got = await call(`${at}/v1/users/${user}/recommendations?k=${engine.numItems}&size=${size}&exclude_history=${exclude}`);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual([got.body.user, got.body.known_user, got.body.history_length, got.body.size], [user, history.length > 0, history.length, size]);
      const expected = await postJson(`${at}/v1/recommend`, { history: history.map(asin), k: engine.numItems, size, exclude_history: exclude });
      assertSameRanking(got.body.items, expected.body.items, `${user} after ${history.length} events, size ${size}, exclude ${exclude}`);
    }
  }
}

test("live: within the window, a user's recommendations equal POST /v1/recommend with the whole history at every size", async () => {
  const history: number[] = [];
  for (const batch of [[3, 17], [5], [3, 29]]) {
    assert.deepEqual((await sendEvents('within-1', batch)).body, { applied: batch.length, duplicates: 0 });
    history.push(...batch);
    await assertLikeFullHistory('within-1', history);
  }
  assert.ok(history.length < MAX_LEN);
});

test('live: past the window, the state reads the last maxLen items like POST /v1/recommend (not the unbounded stream)', async () => {
  const history: number[] = [];
  for (const batch of [[1], [2, 3, 4, 5, 6], [7], [8, 9, 10, 11], [12, 13, 14, 15]]) {
    await sendEvents('past-1', batch);
    history.push(...batch);
    await assertLikeFullHistory('past-1', history);
  }
  // The two choices differ here, so the comparison above tells them apart.
  const stream = engine.startStream();
  for (const item of history) engine.push(stream, item);
  const windowed = engine.userVector(history);
  assert.ok(maxAbsDiff(engine.streamVector(stream), windowed) > 1e-3, 'the unbounded stream should differ from the window on this history');
  const got = await call(`${base}/v1/users/past-1/recommendations?k=1`);
  const streamTop = engine.rank(engine.streamVector(stream), engine.width, { k: 1 })[0];
  assert.ok(Math.abs(got.body.items[0].score - streamTop.score) > 1e-4 || got.body.items[0].id !== streamTop.id);
});

test('live: an unknown user gets the empty-history recommendation, flagged', async () => {
  const got = await call(`${base}/v1/users/nobody@example.com/recommendations?k=5&size=8`);
  assert.equal(got.status, 200);
  assert.deepEqual([got.body.user, got.body.known_user, got.body.history_length, got.body.size], ['nobody@example.com', false, 0, 8]);
  const expected = await postJson(`${base}/v1/recommend`, { history: [], k: 5, size: 8 });
  assertSameRanking(got.body.items, expected.body.items, 'unknown user');
});

test('live: the funnel and exclude_history answer as POST /v1/recommend does', async () => {
  const history = [4, 8, 15, 16, 23];
  await sendEvents('funnel-1', history);
  const got = await call(`${base}/v1/users/funnel-1/recommendations?k=5&size=16&exclude_history=true&funnel=4:12`);
  const expected = await postJson(`${base}/v1/recommend`, {
    history: history.map(asin),
    k: 5,
    size: 16,
    exclude_history: true,
    funnel: { size: 4, shortlist: 12 },
  });
  assertSameRanking(got.body.items, expected.body.items, 'funnel');
  assert.ok(got.body.items.every((i: Item) => !history.includes(i.id)));
});

test('live: events are idempotent by id and all or nothing; a bad request is 400 naming the field', async () => {
  const events = [
    { id: 'i1', user: 'd1', item: asin(1) },
    { id: 'i2', user: 'd1', item: asin(2), ts: 1700000000 },
  ];
  assert.deepEqual((await postJson(`${base}/v1/events`, { events })).body, { applied: 2, duplicates: 0 });
  assert.deepEqual((await postJson(`${base}/v1/events`, { events })).body, { applied: 0, duplicates: 2 });
  assert.deepEqual(
    (await postJson(`${base}/v1/events`, { events: [events[0], { id: 'i3', user: 'd1', item: '3' }, { id: 'i3', user: 'd1', item: asin(3) }] })).body,
    { applied: 1, duplicates: 2 },
  );
  await assertLikeFullHistory('d1', [1, 2, 3]);

  const mixed = await postJson(`${base}/v1/events`, {
    events: [
      { id: 'i4', user: 'd1', item: asin(4) },
      { id: 'i5', user: 'd2', item: 'B000NOPE' },
    ],
  });
  assert.deepEqual([mixed.status, mixed.body.field], [400, 'events[1].item']);
  assert.match(mixed.body.error, /must name an item of the model/);
  assert.equal((await call(`${base}/v1/users/d1/recommendations`)).body.history_length, 3, 'nothing of the refused batch applied');
  assert.equal((await call(`${base}/v1/users/d2/recommendations`)).body.known_user, false);

  const ok = { id: 'j1', user: 'd3', item: asin(1) };
  const bad: [unknown, string][] = [
    ['[', 'body'],
    [[ok], 'body'],
    [{}, 'events'],
    [{ events: [] }, 'events'],
    [{ events: [ok], extra: 1 }, 'extra'],
    [{ events: Array.from({ length: 21 }, (_, i) => ({ ...ok, id: `j${i}` })) }, 'events'],
    [{ events: [ok, 'x'] }, 'events[1]'],
    [{ events: [{ ...ok, id: 'has space' }] }, 'events[0].id'],
    [{ events: [{ ...ok, id: '' }] }, 'events[0].id'],
    [{ events: [{ ...ok, user: 'u'.repeat(129) }] }, 'events[0].user'],
    [{ events: [{ ...ok, user: 7 }] }, 'events[0].user'],
    [{ events: [{ ...ok, item: 3 }] }, 'events[0].item'],
    [{ events: [{ ...ok, item: '0' }] }, 'events[0].item'],
    [{ events: [{ ...ok, ts: 'yesterday' }] }, 'events[0].ts'],
    [{ events: [{ ...ok, when: 1 }] }, 'events[0].when'],
  ];
  for (const [body, field] of bad) {
    const res = await postJson(`${base}/v1/events`, body);
    assert.deepEqual([res.status, res.body.field], [400, field], JSON.stringify(body).slice(0, 80));
  }
  assert.equal((await call(`${base}/v1/users/d3/recommendations`)).body.known_user, false);
  const user = (q: string, id = 'd1') => call(`${base}/v1/users/${id}/recommendations?${q}`);
  const badQueries: [string, string, string?][] = [
    ['k=0', 'k'],
    ['k=1001', 'k'],
    ['k=2.5', 'k'],
    ['size=5', 'size'],
    ['size=32', 'size'],
    ['exclude_history=yes', 'exclude_history'],
    ['funnel=3:10', 'funnel'],
    ['funnel=16:2', 'funnel'],
    ['size=8&funnel=16:20', 'funnel'],
    ['funnel=4', 'funnel'],
    ['k=1&k=2', 'k'],
    ['colour=red', 'colour'],
    ['', 'id', 'a%20b'],
    ['', 'id', '%E0%A4%A'],
    ['', 'id', 'x'.repeat(129)],
  ];
  for (const [q, field, id] of badQueries) {
    const res = await user(q, id);
    assert.deepEqual([res.status, res.body.field], [400, field], `${id ?? 'd1'}?${q}`);
  }
  assert.equal((await fetch(`${base}/v1/events`)).status, 405);
  assert.equal((await fetch(`${base}/v1/users/d1/recommendations`, { method: 'POST', body: '{}' })).status, 405);
  assert.equal((await fetch(`${base}/v1/users/d1/history`)).status, 404);
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /fmrlrec_requests_total\{route="\/v1\/users\/:id\/recommendations",status="200"\}/);
  assert.match(metrics, /fmrlrec_requests_total\{route="\/v1\/events",status="400"\}/);
});

test('live: the model fingerprint ignores appended items and tells other weights apart', () => {
  const copy = tempDir('live-copy');
  fs.cpSync(dir, copy, { recursive: true });
  const folder = path.join(copy, 'size-16');
  const config = JSON.parse(fs.readFileSync(path.join(folder, CONFIG_FILE), 'utf8'));
  config.model.numItems += 1; // as "fmrlrec items add" leaves it (with items.json and the item table grown)
  fs.writeFileSync(path.join(folder, CONFIG_FILE), JSON.stringify(config));
  const fingerprint = modelFingerprint(model);
  assert.equal(modelFingerprint({ ...model, dir: copy }), fingerprint);
  const weights = fs.readFileSync(path.join(folder, WEIGHTS_FILE));
  weights[weights.length - 1] ^= 1;
  fs.writeFileSync(path.join(folder, WEIGHTS_FILE), weights);
  assert.notEqual(modelFingerprint({ ...model, dir: copy }), fingerprint);
});

test('live: a store that fails answers 503 with Retry-After, not 500', async () => {
  const lost = await openEmbeddedStore(tempDir('live-lost'), { modelFingerprint: modelFingerprint(model) });
  await lost.close(); // its database is gone: every statement fails
  const live = new LiveService(engine, model.catalogue, lost);
  const down = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0, live });
  const at = `http://127.0.0.1:${(await down.listen()).port}`;
  try {
    const events = await fetch(`${at}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ id: 'x1', user: 'A', item: asin(1) }] }),
    });
    assert.equal(events.status, 503);
    assert.equal(events.headers.get('retry-after'), '1');
    assert.match(((await events.json()) as { error: string }).error, /^the store is unavailable; try again/);
    const read = await fetch(`${at}/v1/users/A/recommendations`);
    assert.equal(read.status, 503);
  } finally {
    await down.close();
  }
});

/** `fmrlrec serve` on the embedded store in `state`. */
async function startCli(state: string): Promise<ServeProcess> {
  const p = await startServe(['--model', dir, '--state', state]);
  started.push(p);
  return p;
}

test('live CLI: acknowledged events survive SIGKILL; a second process on the same folder is refused', async () => {
  await server.close();
  await store.close(); // the CLI reopens the same folder
  const first = await startCli(stateDir);
  assert.ok(first.base, first.stderr());
  assert.match(first.stderr(), new RegExp(`store: embedded store in ${stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const second = await startCli(stateDir);
  assert.equal(second.base, null);
  assert.equal(await second.exited, 1);
  assert.match(
    second.stderr(),
    new RegExp(`is in use by process ${first.child.pid}: the embedded store serves one process \\(for several replicas, use --store postgres://\\.\\.\\.\\)`),
  );
  assert.ok(!second.stderr().includes('    at '), 'one line, no stack trace');

  const history = [9, 8, 7, 6, 5, 4, 3];
  const acked: number[] = [];
  for (let i = 0; i < history.length; i++) {
    const res = await sendEvents('killed-1', [history[i]], first.base!);
    assert.deepEqual(res.body, { applied: 1, duplicates: 0 });
    acked.push(history[i]);
  }
  first.child.kill('SIGKILL');
  await first.exited;

  const again = await startCli(stateDir);
  assert.ok(again.base, again.stderr());
  await assertLikeFullHistory('killed-1', acked, again.base!);
  await assertLikeFullHistory('d1', [1, 2, 3], again.base!);
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0, again.stderr());
});
