/**
 * The store contract, run against both implementations (the embedded PGlite
 * store and PostgreSQL): events apply once by id, a batch is all or nothing,
 * concurrent batches for one user serialise in commit order (two connections
 * on PostgreSQL), added items come back in seq order, migrations run once
 * even when two replicas start together, a store of another model is refused,
 * and the embedded folder serves one process. Also: a user state's bytes
 * round-trip.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { exportAllSizes } from '../src/deploy/export';
import { loadModelFolder } from '../src/serve/model-folder';
import { openEmbeddedStore } from '../src/store/embedded';
import { openPostgresStore } from '../src/store/postgres';
import type { AdvanceStates, LiveEvent, LiveStore, PairIncrement } from '../src/store/types';
import { advanceUserStates, decodeUserState, encodeUserState } from '../src/store/user-state';
import { UserError } from '../src/util/errors';
import { dropSchema, onTestServer, postgresUnavailable, schemaUrl, testSchema } from './pg-fixtures';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';

const MODEL = 'model-a';

/** A state that is the user's items joined: shows the order events were applied in, and any lost update. */
const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array(0)).toString('utf8');
const joinItems: AdvanceStates = (updates) => ({
  states: updates.map((u) => Buffer.from(text(u.prior?.state) + u.events.map((e) => `${e.item};`).join(''))),
  pairs: [],
});
/** Advances every state to one byte and adds `pairs`. */
const addingPairs =
  (pairs: PairIncrement[]): AdvanceStates =>
  (updates) => ({ states: updates.map(() => new Uint8Array(1)), pairs });

const ev = (id: string, user: string, item: string, ts: number | null = null): LiveEvent => ({ id, user, item, ts });

/** What a contract run needs: the store, and a second handle on the same data (another connection, or the same store). */
interface Subject {
  store: LiveStore;
  second: LiveStore;
}

function contract(name: string, open: () => Promise<Subject | string>, close: (s: Subject) => Promise<void>): void {
  describe(name, () => {
    let subject: Subject | string = 'not opened';
    before(async () => {
      subject = await open();
    });
    after(async () => {
      if (typeof subject !== 'string') await close(subject);
    });
    const it = (title: string, fn: (s: Subject) => Promise<void>) =>
      test(title, async (t) => {
        if (typeof subject === 'string') {
          t.skip(subject);
          return;
        }
        await fn(subject);
      });

    it('an event is applied once: a repeated id, later or in the same batch, is a duplicate', async ({ store }) => {
      assert.deepEqual(await store.readUser('u1'), null);
      const first = await store.applyEvents([ev('e1', 'u1', 'a', 1700000000), ev('e2', 'u1', 'b'), ev('e1', 'u1', 'a', 1700000000)], joinItems);
      assert.equal(first.applied, 2);
      assert.equal(first.duplicates, 1);
      const u1 = await store.readUser('u1');
      assert.equal(u1?.length, 2);
      assert.equal(u1?.version, 1);
      assert.equal(text(u1?.state), 'a;b;');
      const again = await store.applyEvents([ev('e2', 'u1', 'b'), ev('e3', 'u1', 'c')], joinItems);
      assert.deepEqual([again.applied, again.duplicates], [1, 1]);
      assert.deepEqual(
        again.users.map((u) => [u.id, u.length, u.version, text(u.state)]),
        [['u1', 3, 2, 'a;b;c;']],
      );
      assert.deepEqual(await store.readHistory('u1'), [ev('e1', 'u1', 'a', 1700000000), ev('e2', 'u1', 'b'), ev('e3', 'u1', 'c')]);
      const none = await store.applyEvents([ev('e3', 'u1', 'c')], () => assert.fail('nothing new: no state to advance'));
      assert.deepEqual([none.applied, none.duplicates, none.users], [0, 1, []]);
      assert.equal((await store.readUser('u1'))?.version, 2);
    });

    it('a batch is all or nothing', async ({ store }) => {
      const batch = [ev('f1', 'u2', 'a'), ev('f2', 'u3', 'b')];
      await assert.rejects(
        store.applyEvents(batch, () => {
          throw new Error('advance failed');
        }),
        /advance failed/,
      );
      assert.equal(await store.readUser('u2'), null);
      assert.deepEqual(await store.readHistory('u3'), []);
      await assert.rejects(
        store.applyEvents(batch, (updates) => ({ states: updates.map(() => new Uint8Array(1)).slice(1), pairs: [] })),
        /1 states for 2 users/,
      );
      const applied = await store.applyEvents(batch, joinItems);
      assert.deepEqual([applied.applied, applied.duplicates], [2, 0]);
      assert.equal(text((await store.readUser('u3'))?.state), 'b;');
    });

    it('pair counts: each applied batch adds its pairs in its own transaction, summed per pair; a failed batch adds none', async ({ store, second }) => {
      const pair = (first: string, second: string, weight: number): PairIncrement => ({ first, second, weight });
      const sorted = (rows: PairIncrement[]) => rows.map((r) => [r.first, r.second, r.weight]).sort((a, b) => String(a).localeCompare(String(b)));
      assert.deepEqual(await store.readPairCounts(['px']), []);
      await store.applyEvents([ev('p1', 'pu1', 'px')], addingPairs([pair('px', 'py', 1), pair('px', 'pz', 2), pair('px', 'py', 0.5), pair('pw', 'px', 4)]));
      assert.deepEqual(sorted(await second.readPairCounts(['px', 'nothing'])), [
        ['px', 'py', 1.5],
        ['px', 'pz', 2],
      ]);
      await assert.rejects(
        store.applyEvents([ev('p2', 'pu1', 'px'), ev('p3', 'pu2', 'px')], () => ({ states: [new Uint8Array(1)], pairs: [pair('px', 'py', 100)] })),
      );
      const none = await store.applyEvents([ev('p1', 'pu1', 'px')], addingPairs([pair('px', 'py', 100)]));
      assert.equal(none.applied, 0, 'a batch of duplicates advances nothing and adds no pair');
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? store : second).applyEvents([ev(`pc${i}`, `pcu${i % 3}`, 'px')], addingPairs([pair('px', 'py', 1), pair('pq', 'px', 1)])),
        ),
      );
      assert.deepEqual(sorted(await store.readPairCounts(['px', 'pq'])), [
        ['pq', 'px', 20],
        ['px', 'py', 21.5],
        ['px', 'pz', 2],
      ]);
      assert.deepEqual(await store.readPairCounts([]), []);
    });

    it('concurrent batches (committed together by the embedded store) each get their own result; one failing fails no other', async ({ store }) => {
      const refuseBad: AdvanceStates = (updates) => {
        if (updates.some((u) => u.events.some((e) => e.item === 'bad'))) throw new Error('a bad item');
        return joinItems(updates);
      };
      // The first batch starts a commit at once; the others wait for it and are committed together.
      const [first, bad, repeat, later] = await Promise.allSettled([
        store.applyEvents([ev('g1', 'gu', 'a')], refuseBad),
        store.applyEvents([ev('g2', 'gv', 'bad'), ev('g3', 'gu', 'b')], refuseBad),
        store.applyEvents([ev('g4', 'gu', 'c'), ev('g1', 'gu', 'a')], refuseBad),
        store.applyEvents([ev('g5', 'gv', 'd'), ev('g4', 'gu', 'c')], refuseBad),
      ]);
      assert.equal(bad.status, 'rejected');
      assert.match(String((bad as PromiseRejectedResult).reason), /a bad item/);
      const done = [first, repeat, later].map((r) => {
        assert.equal(r.status, 'fulfilled', String((r as PromiseRejectedResult).reason));
        return (r as PromiseFulfilledResult<{ applied: number; duplicates: number }>).value;
      });
      // g1, g4 and g5 applied once each (which batch applied a repeated id depends on commit order), g1 and g4 repeated once each.
      assert.deepEqual([done.reduce((s, r) => s + r.applied, 0), done.reduce((s, r) => s + r.duplicates, 0)], [3, 2]);
      const history = await store.readHistory('gu');
      assert.deepEqual(history.map((e) => e.id).sort(), ['g1', 'g4']);
      assert.equal(text((await store.readUser('gu'))?.state), history.map((e) => `${e.item};`).join(''));
      assert.equal(text((await store.readUser('gv'))?.state), 'd;');
    });

    it('reads that go to the database while batches commit are answered (no read waits behind a commit that waits for it)', async ({ store }) => {
      const reads = Array.from({ length: 40 }, (_, i) => `nobody-${i}`); // not in any cache: each read is a statement
      const work = Promise.all([
        ...Array.from({ length: 12 }, (_, b) => store.applyEvents([ev(`r${b}`, `ru${b % 3}`, `i${b}`)], joinItems)),
        ...reads.map((id) => store.readUser(id)),
      ]);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('reads and commits still waiting after 30 s')), 30_000)));
      try {
        const results = await Promise.race([work, timeout]);
        assert.deepEqual(
          results.slice(12),
          reads.map(() => null),
        );
      } finally {
        clearTimeout(timer);
      }
      assert.equal((await store.readHistory('ru0')).length, 4);
    });

    it('concurrent batches on one user serialise: none lost, none twice, the state follows commit order', async ({ store, second }) => {
      const batches: LiveEvent[][] = [];
      for (let b = 0; b < 24; b++) {
        // Two users in opposite orders, and each batch sent twice (a retry racing the original).
        const x = ev(`c${b}x`, 'cx', `x${b}`);
        const y = ev(`c${b}y`, 'cy', `y${b}`);
        batches.push(b % 2 === 0 ? [x, y] : [y, x]);
      }
      const results = await Promise.all(
        batches.flatMap((batch, b) => [
          (b % 2 === 0 ? store : second).applyEvents(batch, joinItems),
          (b % 2 === 0 ? second : store).applyEvents(batch, joinItems),
        ]),
      );
      assert.equal(
        results.reduce((s, r) => s + r.applied, 0),
        48,
      );
      assert.equal(
        results.reduce((s, r) => s + r.duplicates, 0),
        48,
      );
      for (const user of ['cx', 'cy']) {
        const history = await store.readHistory(user);
        assert.equal(history.length, 24);
        assert.equal(new Set(history.map((e) => e.id)).size, 24);
        const row = await second.readUser(user);
        assert.equal(row?.length, 24);
        assert.equal(text(row?.state), history.map((e) => `${e.item};`).join(''), 'each batch advanced the state the previous commit wrote');
      }
    });

    it('added items: seq in commit order, full-width vectors, an ASIN stored once', async ({ store, second }) => {
      const vec = (v: number) => Float32Array.from([v, -v, v / 3, 1e-7]);
      const added = await store.addItems([
        { asin: 'NEW1', title: 'first', vector: vec(1) },
        { asin: 'NEW2', title: 'second', vector: vec(2) },
      ]);
      assert.ok(added[0].seq < added[1].seq);
      const later = await second.addItems([{ asin: 'NEW3', title: 'third', vector: vec(3) }]);
      const all = await second.itemsAfter(0);
      assert.deepEqual(
        all.map((i) => [i.asin, i.title, Array.from(i.vector)]),
        [1, 2, 3].map((v) => [`NEW${v}`, ['first', 'second', 'third'][v - 1], Array.from(vec(v))]),
      );
      assert.deepEqual(
        (await store.itemsAfter(added[1].seq)).map((i) => i.seq),
        [later[0].seq],
      );
      await assert.rejects(
        store.addItems([{ asin: 'NEW2', title: 'again', vector: vec(4) }]),
        (err: Error) => err instanceof UserError && /NEW2 is already stored/.test(err.message),
      );
      await assert.rejects(
        store.addItems([
          { asin: 'NEW4', title: 'x', vector: vec(4) },
          { asin: 'NEW4', title: 'y', vector: vec(4) },
        ]),
        /NEW4 is given twice/,
      );
      assert.equal((await store.itemsAfter(later[0].seq)).length, 0);
    });
  });
}

const dir = tempDir('store');
contract(
  'embedded store',
  async () => {
    const store = await openEmbeddedStore(dir, { modelFingerprint: MODEL });
    return { store, second: store };
  },
  async ({ store }) => {
    await store.close();
    // The folder serves one process; it reopens with its data; another model is refused.
    const reopened = await openEmbeddedStore(dir, { modelFingerprint: MODEL });
    await assert.rejects(
      openEmbeddedStore(dir, { modelFingerprint: MODEL }),
      new RegExp(`in use by process ${process.pid}: the embedded store serves one process`),
    );
    assert.equal((await reopened.readUser('u1'))?.length, 3);
    // The pair counts it keeps in memory are read back at open.
    assert.deepEqual(await reopened.readPairCounts(['pq']), [{ first: 'pq', second: 'px', weight: 20 }]);
    await reopened.close();
    await assert.rejects(openEmbeddedStore(dir, { modelFingerprint: 'model-b' }), /holds user states of another model \(model model-a, this one is model-b\)/);
  },
);

const schema = testSchema('store');
contract(
  'PostgreSQL store',
  async () => {
    const reason = await postgresUnavailable();
    if (reason) return reason;
    // Two replicas starting together on a fresh schema: the migrations run once.
    const [store, second] = await Promise.all([0, 1].map(() => openPostgresStore(schemaUrl(schema), { modelFingerprint: MODEL })));
    const steps = await onTestServer((c) => c.query('SELECT version FROM schema_migrations ORDER BY version'), schema);
    assert.deepEqual(
      steps.rows.map((r) => r.version),
      [1, 2, 3, 4],
    );
    return { store, second };
  },
  async ({ store, second }) => {
    await Promise.all([store.close(), second.close()]);
    await assert.rejects(openPostgresStore(schemaUrl(schema), { modelFingerprint: 'model-b' }), /holds user states of another model/);
    await dropSchema(schema);
  },
);

test('PostgreSQL store: a bad URL or an unreachable server is a one-line error', async () => {
  await assert.rejects(
    openPostgresStore('mysql://x', { modelFingerprint: MODEL }),
    (err: Error) =>
      err instanceof UserError && err.code === 'bad-store-url' && /a PostgreSQL URL starts with postgres:\/\/ \(got "mysql:\/\/\.\.\."\)/.test(err.message),
  );
  await assert.rejects(openPostgresStore('postgres://h/db?schema=Bad-Name', { modelFingerprint: MODEL }), /schema "Bad-Name" must be lower-case/);
  await assert.rejects(
    openPostgresStore('postgres://nobody:secret@127.0.0.1:1/db', { modelFingerprint: MODEL }),
    (err: Error) =>
      err instanceof UserError &&
      /cannot open the PostgreSQL store postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/db/.test(err.message) &&
      !err.message.includes('secret'),
  );
});

test('user state: advanced by the engine, its bytes round-trip; another width is refused', () => {
  const modelDir = tempDir('state');
  exportAllSizes(tinySource(tinyModel(), 4), modelDir);
  const { engine } = loadModelFolder(modelDir);
  const [inWindow, past] = advanceUserStates(
    engine,
    [null, null],
    [
      [3, 1, 3],
      [5, 6, 7, 8, 9, 5],
    ],
  );
  assert.ok(inWindow.stream && !past.stream);
  assert.deepEqual(Array.from(inWindow.seen), [1, 3]);
  assert.deepEqual(Array.from(past.recent), [7, 8, 9, 5]);
  for (const state of [inWindow, past]) {
    const bytes = encodeUserState(state);
    const back = decodeUserState(bytes, engine);
    assert.deepEqual(encodeUserState(back), bytes);
    assert.deepEqual(back.vector, state.vector);
    assert.deepEqual(back.stream?.hRe, state.stream?.hRe);
  }
  const narrower = loadModelFolder(path.join(modelDir, 'size-8')).engine;
  assert.throws(() => decodeUserState(encodeUserState(past), narrower), /width 16; this model's is 8/);
});
