/**
 * Replicas: two `fmrlrec serve` processes on one PostgreSQL schema.
 * - The same users' events go alternately and concurrently to both (retries
 *   racing their originals included): each event is applied once, and every
 *   user's recommendations, from either replica, equal a single-process replay
 *   of the committed events in commit order, at every size.
 * - One replica is killed with SIGKILL under load: no acknowledged event is
 *   lost, and every user's state is the replay of its committed events.
 * Skipped with the reason when no PostgreSQL answers (a failure in CI).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportAllSizes } from '../src/deploy/export';
import { loadModelFolder } from '../src/serve/model-folder';
import { recommend } from '../src/serve/recommender';
import { advanceUserStates, UserState } from '../src/store/user-state';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';
import { dropSchema, onTestServer, postgresUnavailable, schemaUrl, testSchema } from './pg-fixtures';
import { ServeProcess, startServe } from './serve-process';

const MAX_LEN = 6;
const tiny = tinyModel({ seed: 11 });
const dir = tempDir('replicas');
exportAllSizes(tinySource(tiny, MAX_LEN), dir);
const model = loadModelFolder(dir);
const { engine, catalogue } = model;
const asin = (id: number) => catalogue.item(id)!.asin;
const schema = testSchema('replicas');
const started: ServeProcess[] = [];

let unavailable: string | null = 'not checked';
before(async () => {
  unavailable = await postgresUnavailable();
});
after(async () => {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  if (!unavailable) await dropSchema(schema);
});

async function replica(): Promise<ServeProcess & { base: string }> {
  const p = await startServe(['--model', dir, '--store', schemaUrl(schema)]);
  started.push(p);
  assert.ok(p.base, p.stderr());
  return { ...p, base: p.base! };
}

interface Event {
  id: string;
  user: string;
  item: string;
}

/** POST events; the answer, or null when the connection failed (not acknowledged). */
async function send(base: string, events: Event[]): Promise<{ applied: number; duplicates: number } | null> {
  try {
    const res = await fetch(`${base}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    const body = (await res.json()) as { applied: number; duplicates: number };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return null;
  }
}

/** The committed events, per user in the order they were applied (position). */
async function committed(): Promise<Map<string, { ids: string[]; items: number[] }>> {
  const { rows } = await onTestServer((c) => c.query('SELECT id, user_id, position, item FROM events ORDER BY user_id, position'), schema);
  const byUser = new Map<string, { ids: string[]; items: number[] }>();
  for (const r of rows) {
    const u = byUser.get(r.user_id) ?? { ids: [], items: [] };
    assert.equal(r.position, u.ids.length, `user ${r.user_id}: positions are 0, 1, 2, ...`);
    u.ids.push(r.id);
    u.items.push(catalogue.resolve(r.item)!);
    byUser.set(r.user_id, u);
  }
  return byUser;
}

/**
 * A user's recommendations from a replica equal, at every size, those of the
 * committed events replayed one by one in one process, and POST /v1/recommend's
 * with that history.
 */
async function assertReplayed(base: string, user: string, items: number[]): Promise<void> {
  let state: UserState | null = null;
  for (const item of items) state = advanceUserStates(engine, [state], [[item]])[0];
  for (const size of engine.sizes) {
    const res = await fetch(`${base}/v1/users/${user}/recommendations?k=${engine.numItems}&size=${size}`);
    const got = (await res.json()) as { history_length: number; items: { id: number; score: number }[] };
    assert.equal(got.history_length, items.length);
    const replayed = engine.rankBatch(state!.vector!.slice(0, size), size, [engine.numItems], [null])[0];
    const direct = recommend(engine, catalogue, { history: items, k: engine.numItems, size }).items;
    for (const [what, expected] of [
      ['the replay', replayed],
      ['POST /v1/recommend', direct],
    ] as const) {
      assert.equal(got.items.length, expected.length);
      const scoreOf = new Map(expected.map((e) => [e.id, e.score]));
      got.items.forEach((g, i) => {
        // Same order, except between scores within 1e-5 of each other.
        assert.ok(Math.abs(g.score - expected[i].score) <= 1e-5, `${user}, size ${size}, rank ${i}: ${g.score} vs ${what} ${expected[i].score}`);
        assert.ok(Math.abs(g.score - scoreOf.get(g.id)!) <= 1e-5, `${user}, size ${size}: item ${g.id} vs ${what}`);
      });
    }
  }
}

const itemOf = (user: number, n: number) => asin(1 + ((user * 7 + n * 13) % engine.numItems));

test('replicas: events sent alternately and concurrently to two replicas apply once, in commit order', async (t) => {
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const [{ base: a }, { base: b }] = await Promise.all([replica(), replica()]);
  const users = Array.from({ length: 6 }, (_, u) => `r${u}`);
  let applied = 0;
  let duplicates = 0;
  const requests: Promise<{ applied: number; duplicates: number } | null>[] = [];
  for (let round = 0; round < 10; round++) {
    const toA = users.map((user, u) => ({ id: `a${round}-${user}`, user, item: itemOf(u, 2 * round) }));
    const toB = users.map((user, u) => ({ id: `b${round}-${user}`, user, item: itemOf(u, 2 * round + 1) })).reverse();
    const batch = [send(round % 2 === 0 ? a : b, toA), send(round % 2 === 0 ? b : a, toB)];
    if (round % 3 === 0) batch.push(send(round % 2 === 0 ? b : a, toA)); // a retry racing its original
    requests.push(...batch);
    if (round % 2 === 1) {
      for (const r of await Promise.all(requests.splice(0))) {
        assert.ok(r);
        applied += r.applied;
        duplicates += r.duplicates;
      }
    }
  }
  assert.equal(applied, users.length * 20);
  assert.equal(duplicates, users.length * 4);
  const history = await committed();
  for (const user of users) {
    const h = history.get(user)!;
    assert.equal(h.ids.length, 20);
    assert.equal(new Set(h.ids).size, 20);
    await assertReplayed(a, user, h.items);
    await assertReplayed(b, user, h.items);
  }
});

test('replicas: a replica killed with SIGKILL under load loses no acknowledged event', async (t) => {
  if (unavailable) {
    t.skip(unavailable);
    return;
  }
  const [victim, survivor] = await Promise.all([replica(), replica()]);
  const [a, b] = [victim.base, survivor.base];
  const users = Array.from({ length: 8 }, (_, u) => `k${u}`);
  const acked = new Set<string>();
  let next = 0;
  let killed = false;
  let stop = false;
  // Eight clients, each sending 1-3 events per request to both replicas in turn; a
  // request that fails (the replica died) is retried on the survivor, as a load balancer would.
  const client = async (c: number) => {
    for (let r = 0; !stop; r++) {
      const events = Array.from({ length: 1 + ((c + r) % 3) }, () => {
        const n = next++;
        const u = (n * 5 + c) % users.length;
        return { id: `k-${n}`, user: users[u], item: itemOf(u, n) };
      });
      let answer = await send(r % 2 === 0 && !killed ? a : b, events);
      if (!answer) answer = await send(b, events);
      assert.ok(answer, 'the surviving replica answers');
      for (const e of events) acked.add(e.id);
    }
  };
  let failure: unknown = null;
  const clients = Array.from({ length: 8 }, (_, c) =>
    client(c).catch((err) => {
      failure = failure ?? err;
      stop = true;
    }),
  );
  const deadline = Date.now() + 120_000;
  const waitFor = async (done: () => boolean) => {
    while (!done() && !failure && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  await waitFor(() => acked.size >= 150);
  victim.child.kill('SIGKILL');
  killed = true;
  const atKill = acked.size;
  await waitFor(() => acked.size >= atKill + 100);
  stop = true;
  await Promise.all(clients);
  if (failure) throw failure;
  assert.ok(acked.size >= atKill + 100, 'the load went on after the kill');
  assert.equal(await victim.exited, null);

  const history = await committed();
  const stored = new Set([...users].flatMap((u) => history.get(u)?.ids ?? []));
  const lost = [...acked].filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], 'acknowledged events missing after the kill');
  assert.equal(stored.size, acked.size, 'every event sent was acknowledged (the failed requests were retried)');
  for (const user of users) await assertReplayed(b, user, history.get(user)!.items);
});
