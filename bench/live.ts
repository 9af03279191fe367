/**
 * Load benchmark of the live service (`npm run bench -- live`, or
 * `node dist/bench/live.js` after `npm run build`):
 *
 * For each configuration (the embedded store in a temporary folder;
 * PostgreSQL with one replica; PostgreSQL with two replicas, each in a schema
 * of its own, dropped at the end) and each size:
 * 1. start `fmrlrec serve --quiet` on the store (one or two processes);
 * 2. the first time, seed the known users: a few events each, POST /v1/events;
 * 3. a mixed load from autocannon in this process: 90% GET
 *    /v1/users/:id/recommendations?k=10&size=<m> for a random known user, 10%
 *    POST /v1/events with one event (a fresh id, a random known user, a random
 *    item); with two replicas the client is the load balancer: connection i
 *    goes to replica i mod 2 (keep-alive, so each connection stays on its replica);
 * 4. stop the servers (SIGTERM: the requests in flight finish), open the store
 *    and look up every event acknowledged so far in this configuration
 *    (seeding, warm-up and load): one missing is an event lost.
 * A model with a count prior is measured twice per configuration: with its
 * prior, then as the network alone (bench/network-alone.ts), so the prior's
 * cost (a pair-count read per recommendation, a pair-count write per commit)
 * is measured against a baseline in the same run.
 * The table gives req/s, p50/p99, errors (non-2xx, socket errors, timeouts,
 * answers of the wrong shape), events acknowledged during the load and events
 * lost, and the targets with pass or fail (for the model as given). The exit
 * status is 1 when an event is lost.
 *
 * Options: see HELP below (--help).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { numberFlag, parseFlags } from '../src/cli/args';
import { exportAllSizes } from '../src/deploy/export';
import { INDEX_FILE } from '../src/deploy/format';
import { getKernels } from '../src/kernels';
import { FmrlRec } from '../src/model/fmrlrec';
import { DEFAULT_MODEL } from '../src/run/defaults';
import { modelFingerprint } from '../src/serve/live';
import { LoadedModel, loadModelFolder } from '../src/serve/model-folder';
import { openStore, StoreLocation } from '../src/store';
import { UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';
import { randomFeatures } from './data';
import { log, table } from './output';
import { networkAloneCopy } from './network-alone';
import { RESULTS_DIR, ROOT } from './paths';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

const HELP = `Usage: npm run bench -- live [options]   (or node dist/bench/live.js [options])

Load benchmark of the live service: "fmrlrec serve" on the embedded store and
on PostgreSQL with 1 and 2 replicas, a mixed load from autocannon (90% GET
/v1/users/:id/recommendations for known users, 10% POST /v1/events with one new
event), then every acknowledged event looked up in the store. A model with a
count prior is also measured without it (the network alone), configuration by
configuration; the targets are checked on the model as given.

  --model <dir>        an every-size export ("fmrlrec export --size all"); default: a model
                       with the default shapes (D = 256, sizes 8..256) and initial weights
                       over a synthetic catalogue of --items items, exported to a temporary folder
  --items <n>          the synthetic catalogue's items          (default 12101, Beauty's)
  --configs <list>     embedded, postgres-1, postgres-2         (default all three; without a
                       PostgreSQL server the postgres ones are skipped, saying why)
  --pg <url>           the PostgreSQL server (a schema of its own per configuration, dropped after)
                       (default FMRLREC_TEST_PG or postgres://postgres@127.0.0.1:5432/test)
  --sizes <list>       sizes to load; one the model lacks is replaced by the largest size
                       below it, saying so                       (default 64,256)
  --duration <s>       seconds of measured load per configuration and size   (default 10)
  --warmup <s>         seconds of the same load before each measurement, not counted (default 2)
  --connections <n>    concurrent connections                    (default 32)
  --users <n>          known users, seeded before the load      (default 1000)
  --seed-events <n>    events per known user seeded              (default 5)
  --event-share <x>    share of the requests that are events     (default 0.1)
  --json               also write the results to bench/results/live.json
`;

/** The configurations: which store, how many replicas. */
const CONFIGURATIONS = {
  embedded: { label: 'embedded', replicas: 1, postgres: false },
  'postgres-1': { label: 'PostgreSQL, 1 replica', replicas: 1, postgres: true },
  'postgres-2': { label: 'PostgreSQL, 2 replicas', replicas: 2, postgres: true },
} as const;
type ConfigurationName = keyof typeof CONFIGURATIONS;

/** The targets of issue 15 (this 2-core machine). */
const TARGETS: readonly Target[] = [
  { configuration: 'embedded', size: 64, minRequestsPerSecond: 1500, maxP99Ms: 25 },
  { configuration: 'postgres-2', size: 64, minRequestsPerSecond: 1000, maxP99Ms: 50 },
];

/** A throughput and tail-latency target for one configuration and size. */
interface Target {
  configuration: ConfigurationName;
  size: number;
  minRequestsPerSecond: number;
  maxP99Ms: number;
}

/** The checked options. */
interface Options {
  model: string | null;
  items: number;
  configs: ConfigurationName[];
  /** Whether --configs was given (then a missing PostgreSQL is an error, not a skip). */
  configsGiven: boolean;
  pg: string;
  sizes: number[];
  duration: number;
  warmup: number;
  connections: number;
  users: number;
  seedEvents: number;
  eventShare: number;
  json: boolean;
  help: boolean;
}

/** One measured configuration and size. */
export interface LiveLoadRow {
  configuration: ConfigurationName;
  replicas: number;
  size: number;
  /** Served with the model's count prior (false: the network alone). */
  countPrior: boolean;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Answered requests of the measured load. */
  requests: number;
  /** Non-2xx answers, socket errors, timeouts and 200 answers of the wrong shape. */
  errors: number;
  /** Events acknowledged (200, "applied": 1) during the measured load. */
  eventsAcknowledged: number;
  /** Events acknowledged in this configuration so far (seeding, warm-ups, loads) that the store lacks. */
  eventsLost: number;
}

/** Parse and check the command line (the CLI's parser: a bad flag is one line pointing at --help). */
function parseOptions(argv: string[]): Options {
  const { values: v } = parseFlags('npm run bench -- live', argv, {
    model: { type: 'string' },
    items: { type: 'string' },
    configs: { type: 'string' },
    pg: { type: 'string' },
    sizes: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    users: { type: 'string' },
    'seed-events': { type: 'string' },
    'event-share': { type: 'string' },
    json: { type: 'boolean' },
  });
  const configs = ((v.configs as string | undefined) ?? Object.keys(CONFIGURATIONS).join(',')).split(',').map((c) => c.trim());
  for (const c of configs) {
    if (!(c in CONFIGURATIONS)) throw new UserError(`--configs: unknown configuration "${c}" (configurations: ${Object.keys(CONFIGURATIONS).join(', ')})`);
  }
  const sizes = ((v.sizes as string | undefined) ?? '64,256').split(',').map((s) => Number(s.trim()));
  if (sizes.some((m) => !Number.isInteger(m) || m < 1))
    throw new UserError(`--sizes must be a comma-separated list of positive integers (got "${String(v.sizes)}")`);
  return {
    model: (v.model as string | undefined) ?? null,
    items: numberFlag(v, 'items', 12101, { min: 20, integer: true }),
    configs: [...new Set(configs)] as ConfigurationName[],
    configsGiven: v.configs !== undefined,
    pg: (v.pg as string | undefined) ?? process.env.FMRLREC_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
    sizes,
    duration: numberFlag(v, 'duration', 10, { min: 1, integer: true }),
    warmup: numberFlag(v, 'warmup', 2, { min: 0, integer: true }),
    connections: numberFlag(v, 'connections', 32, { min: 1, integer: true }),
    users: numberFlag(v, 'users', 1000, { min: 1, integer: true }),
    seedEvents: numberFlag(v, 'seed-events', 5, { min: 1, integer: true }),
    eventShare: numberFlag(v, 'event-share', 0.1, { min: 0, max: 1 }),
    json: v.json === true,
    help: v.help === true,
  };
}

/**
 * Export a model with the project's default shapes (width 256, sizes 8..256,
 * item ids) and its initial weights over a synthetic catalogue of `items`
 * items to `dir`. A request costs the same with trained weights: the work
 * depends on the shapes, not on the values.
 */
function exportSyntheticModel(items: number, dir: string): void {
  const featureDim = 512;
  const features = randomFeatures(items + 1, [featureDim], 42);
  const model = new FmrlRec(
    {
      dims: DEFAULT_MODEL.dims,
      numItems: items,
      featureDim,
      itemIdEmbedding: true,
      numBlocks: DEFAULT_MODEL.numBlocks,
      dropout: DEFAULT_MODEL.dropout,
      layerNormEps: DEFAULT_MODEL.layerNormEps,
      rMin: DEFAULT_MODEL.rMin,
      rMax: DEFAULT_MODEL.rMax,
    },
    features,
    getKernels(),
  );
  model.init(42);
  const itemIds = Array.from({ length: items + 1 }, (_, id) => (id === 0 ? '' : `SYN${String(id).padStart(6, '0')}`));
  exportAllSizes(
    {
      model,
      dataset: { name: 'synthetic', numItems: items, itemIds, items: itemIds.map((asin, id) => (id === 0 ? null : { asin, title: `synthetic item ${id}` })) },
      features: `random:${featureDim}+id`,
      maxLen: 50,
      metrics: null,
      run: 'bench/live.ts (initial weights, not trained)',
      bestEpoch: null,
    },
    dir,
  );
}

/** The model folder to serve: --model, or a synthetic one in a temporary folder. */
function modelFolder(opts: Options): string {
  if (opts.model) {
    if (!fs.existsSync(path.join(opts.model, INDEX_FILE))) throw new UserError(`--model ${opts.model}: expected a folder made by "fmrlrec export --size all"`);
    return opts.model;
  }
  const dir = temporaryFolder('fmrlrec-bench-live-model-');
  log(`exporting a synthetic model (${opts.items} items, sizes ${DEFAULT_MODEL.dims.join(', ')}, initial weights) to ${dir}`);
  exportSyntheticModel(opts.items, dir);
  return dir;
}

/** A fresh temporary folder, removed when this process exits. */
function temporaryFolder(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The sizes to load: each requested size the model serves, else the largest it serves below it (or its smallest), saying so. */
function servedSizes(requested: readonly number[], model: LoadedModel): number[] {
  const { engine } = model;
  const sizes: number[] = [];
  for (const m of requested) {
    let size = m;
    if (!engine.servesSize(m)) {
      const below = engine.sizes.filter((s) => s < m);
      size = below.length > 0 ? below[below.length - 1] : engine.sizes[0];
      log(`size ${m}: the model serves sizes ${engine.sizes.join(', ')}; loading size ${size} instead`);
    }
    if (!sizes.includes(size)) sizes.push(size);
  }
  return sizes;
}

/** A running `fmrlrec serve`. */
interface Replica {
  /** http://127.0.0.1:<port> */
  base: string;
  child: ChildProcess;
  stderr: () => string;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Start `fmrlrec serve --model <dir> <store flags> --port 0 --quiet`; resolves once it listens. */
function startReplica(modelDir: string, storeArgs: string[]): Promise<Replica> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', modelDir, ...storeArgs, '--port', '0', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fmrlrec serve did not listen within 120 s: ${stderr}`));
    }, 120_000);
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const m = /on (http:\/\/127\.0\.0\.1:[0-9]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve({ base: m[1], child, stderr: () => stderr });
      }
    });
    child.on('exit', (code, signal) => {
      running.delete(child);
      clearTimeout(timer);
      reject(new Error(`fmrlrec serve exited (${code ?? signal}): ${stderr}`));
    });
  });
}

/** SIGTERM (the requests in flight finish) and wait for the exit; SIGKILL after 60 s. */
async function stopReplica(replica: Replica): Promise<void> {
  const { child } = replica;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

/** What a connection's request in flight is: the id of the event it sends, or null for a recommendation. */
interface ConnectionContext {
  event?: string | null;
}

/**
 * The mixed workload's requests, and its ledger: every event id sent and
 * acknowledged. Event ids are unique for the whole run.
 */
class Workload {
  private readonly rng = new Rng(42);
  private nextEvent = 0;
  /** Event ids acknowledged (200 with "applied": 1) since the configuration started. */
  readonly acknowledged = new Set<string>();

  constructor(
    private readonly users: readonly string[],
    private readonly asins: readonly string[],
    private readonly eventShare: number,
  ) {}

  /** One new event for a random known user and a random item. */
  event(): { id: string; user: string; item: string; ts: number } {
    return {
      id: `ev${this.nextEvent++}`,
      user: this.users[this.rng.int(this.users.length)],
      item: this.asins[this.rng.int(this.asins.length)],
      ts: Math.floor(Date.now() / 1000),
    };
  }

  /** Seed every known user with `perUser` events, in requests of up to 500 events spread over the replicas. */
  async seed(replicas: readonly Replica[], perUser: number): Promise<void> {
    const events = this.users.flatMap((user) => Array.from({ length: perUser }, () => ({ ...this.event(), user })));
    for (let start = 0, r = 0; start < events.length; start += 500, r++) {
      const batch = events.slice(start, start + 500);
      const res = await fetch(`${replicas[r % replicas.length].base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events: batch }),
      });
      const body = (await res.json()) as { applied?: number };
      if (res.status !== 200 || body.applied !== batch.length) throw new Error(`seeding: ${res.status} ${JSON.stringify(body)}`);
      for (const e of batch) this.acknowledged.add(e.id);
    }
  }

  /**
   * Run the mix for `duration` seconds against the replicas (connection i on
   * replica i mod n). Returns autocannon's result, the events acknowledged and
   * the 200 answers of the wrong shape.
   */
  async load(
    replicas: readonly Replica[],
    size: number,
    connections: number,
    duration: number,
  ): Promise<{ result: autocannon.Result; acknowledged: number; wrong: number }> {
    let acknowledged = 0;
    let wrong = 0;
    const recommendations = `recommendations?k=10&size=${size}`;
    const result = await autocannon({
      // autocannon spreads connections over an array of URLs (connection i on URL i mod n); its types only say string.
      url: replicas.map((r) => r.base) as unknown as string,
      connections,
      duration,
      requests: [
        {
          // autocannon keeps one request in flight per connection: the context
          // (per connection) says what the answer it gets next is for.
          setupRequest: (req, context) => {
            const connection = context as ConnectionContext;
            if (this.rng.uniform() < this.eventShare) {
              const event = this.event();
              connection.event = event.id;
              return { ...req, method: 'POST', path: '/v1/events', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [event] }) };
            }
            connection.event = null;
            return { ...req, method: 'GET', path: `/v1/users/${this.users[this.rng.int(this.users.length)]}/${recommendations}` };
          },
          onResponse: (status, body, context) => {
            const { event } = context as ConnectionContext;
            if (status !== 200) return; // counted by autocannon as non-2xx
            if (typeof event === 'string') {
              if (/"applied":\s*1\b/.test(body)) {
                this.acknowledged.add(event);
                acknowledged++;
              } else {
                wrong++;
              }
            } else if (!body.includes('"known_user":true')) {
              wrong++;
            }
          },
        },
      ],
    });
    return { result, acknowledged, wrong };
  }
}

/** Where a configuration's store is, and how to clean it up. */
interface StorePlace {
  location: StoreLocation;
  /** The `fmrlrec serve` flags. */
  args: string[];
  remove: () => Promise<void>;
}

/** A fresh store for a configuration: a temporary folder, or a new schema on the PostgreSQL server. */
function storePlace(name: ConfigurationName, pgUrl: string): StorePlace {
  if (!CONFIGURATIONS[name].postgres) {
    const dir = temporaryFolder('fmrlrec-bench-live-state-');
    return { location: { kind: 'embedded', dir }, args: ['--state', dir], remove: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `fmrlrec_bench_live_${process.pid}_${name.replace('-', '_')}`;
  const url = new URL(pgUrl);
  url.searchParams.set('schema', schema);
  return {
    location: { kind: 'postgres', url: url.toString() },
    args: ['--store', url.toString()],
    remove: () => onServer(pgUrl, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined),
  };
}

/** Run `fn` with a connection to the PostgreSQL server. */
async function onServer<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Null when the PostgreSQL server answers, else why not. */
async function postgresUnavailable(url: string): Promise<string | null> {
  try {
    await onServer(url, (c) => c.query('SELECT 1'));
    return null;
  } catch (err) {
    return `PostgreSQL at ${url} does not answer (${(err as Error).message}); pass --pg <url> or set FMRLREC_TEST_PG`;
  }
}

/** The acknowledged events the store lacks (read through the store's interface, with the servers stopped). */
async function eventsLost(
  place: StorePlace,
  model: LoadedModel,
  users: readonly string[],
  acknowledged: ReadonlySet<string>,
): Promise<{ lost: number; stored: number }> {
  const store = await openStore(place.location, { modelFingerprint: modelFingerprint(model) });
  try {
    const stored = new Set<string>();
    for (const user of users) for (const e of await store.readHistory(user)) stored.add(e.id);
    let lost = 0;
    for (const id of acknowledged) if (!stored.has(id)) lost++;
    return { lost, stored: stored.size };
  } finally {
    await store.close();
  }
}

/** Measure one configuration at every size: a fresh store, servers restarted for each size. */
async function runConfiguration(
  name: ConfigurationName,
  opts: Options,
  modelDir: string,
  model: LoadedModel,
  sizes: readonly number[],
): Promise<LiveLoadRow[]> {
  const countPrior = model.engine.countPrior !== null;
  const label = `${name}${countPrior ? ', count prior' : ''}`;
  const { replicas: count } = CONFIGURATIONS[name];
  const users = Array.from({ length: opts.users }, (_, u) => `user${u}`);
  const asins = Array.from({ length: model.engine.numItems }, (_, i) => model.catalogue.item(i + 1)?.asin || String(i + 1));
  const workload = new Workload(users, asins, opts.eventShare);
  const place = storePlace(name, opts.pg);
  const rows: LiveLoadRow[] = [];
  try {
    for (const [i, size] of sizes.entries()) {
      const replicas: Replica[] = [];
      try {
        replicas.push(...(await Promise.all(Array.from({ length: count }, () => startReplica(modelDir, place.args)))));
        if (i === 0) {
          const started = Date.now();
          await workload.seed(replicas, opts.seedEvents);
          log(`${label}: seeded ${users.length} users with ${opts.seedEvents} events each in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        }
        if (opts.warmup > 0) await workload.load(replicas, size, opts.connections, opts.warmup);
        const { result: r, acknowledged, wrong } = await workload.load(replicas, size, opts.connections, opts.duration);
        rows.push({
          configuration: name,
          replicas: count,
          size,
          countPrior,
          requestsPerSecond: r.requests.total / r.duration,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          requests: r.requests.total,
          errors: r.errors + r.non2xx + wrong,
          eventsAcknowledged: acknowledged,
          eventsLost: 0,
        });
      } finally {
        await Promise.all(replicas.map(stopReplica));
      }
      const { lost, stored } = await eventsLost(place, model, users, workload.acknowledged);
      const row = rows[rows.length - 1];
      row.eventsLost = lost;
      log(
        `${label}, size ${size}: ${row.requestsPerSecond.toFixed(0)} req/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.errors} errors; ` +
          `${workload.acknowledged.size} events acknowledged so far, ${stored} stored, ${lost} lost`,
      );
    }
  } finally {
    await place.remove();
  }
  return rows;
}

/** A target's verdict against the rows: pass, fail, or not measured. */
function verdict(target: Target, rows: readonly LiveLoadRow[], withPrior: boolean): { row: LiveLoadRow | null; pass: boolean | null } {
  const row = rows.find((r) => r.configuration === target.configuration && r.size === target.size && r.countPrior === withPrior) ?? null;
  if (!row) return { row, pass: null };
  return { row, pass: row.requestsPerSecond >= target.minRequestsPerSecond && row.p99Ms <= target.maxP99Ms && row.errors === 0 && row.eventsLost === 0 };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  let configs = opts.configs;
  const skipped: string[] = [];
  if (configs.some((c) => CONFIGURATIONS[c].postgres)) {
    const reason = await postgresUnavailable(opts.pg);
    if (reason && opts.configsGiven) throw new UserError(reason);
    if (reason) {
      const postgres = configs.filter((c) => CONFIGURATIONS[c].postgres);
      skipped.push(`${postgres.join(', ')} skipped: ${reason}`);
      configs = configs.filter((c) => !CONFIGURATIONS[c].postgres);
    }
  }
  const modelDir = modelFolder(opts);
  const model = loadModelFolder(modelDir);
  const withPrior = model.engine.countPrior !== null;
  // With a count prior, the network alone is the baseline, measured right after in each configuration.
  const variants = [{ dir: modelDir, model }];
  if (withPrior) {
    const alone = networkAloneCopy(modelDir);
    variants.push({ dir: alone, model: loadModelFolder(alone) });
  }
  const sizes = servedSizes(opts.sizes, model);
  const header =
    `model ${opts.model ?? 'synthetic (initial weights)'}: ${model.config.dataset}, ${model.engine.numItems} items, sizes ${model.engine.sizes.join(', ')}; ` +
    `${opts.users} known users seeded with ${opts.seedEvents} events each; ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s per size, ` +
    `${Math.round(100 * opts.eventShare)}% events; ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`;
  log(header);
  for (const line of skipped) log(line);

  const rows: LiveLoadRow[] = [];
  for (const name of configs) {
    for (const v of variants) rows.push(...(await runConfiguration(name, opts, v.dir, v.model, sizes)));
  }

  console.log(`\n${header}\n`);
  console.log(
    table(
      ['configuration', 'size', 'count prior', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'events acknowledged', 'events lost'],
      rows.map((r) => [
        CONFIGURATIONS[r.configuration].label,
        r.size,
        r.countPrior ? 'yes' : 'no',
        r.requestsPerSecond.toFixed(0),
        r.p50Ms,
        r.p99Ms,
        r.errors,
        r.eventsAcknowledged,
        r.eventsLost,
      ]),
    ),
  );
  for (const line of skipped) console.log(line);
  console.log('\ntargets:');
  const verdicts = TARGETS.map((t) => ({ target: t, ...verdict(t, rows, withPrior) }));
  for (const { target: t, row, pass } of verdicts) {
    const what = `${CONFIGURATIONS[t.configuration].label}, size ${t.size}: >= ${t.minRequestsPerSecond} req/s with p99 <= ${t.maxP99Ms} ms, no error, no event lost`;
    console.log(
      `- ${what}: ${pass === null ? 'not measured' : `${pass ? 'pass' : 'FAIL'} (${row!.requestsPerSecond.toFixed(0)} req/s, p99 ${row!.p99Ms} ms)`}`,
    );
  }
  const lost = rows.reduce((n, r) => n + r.eventsLost, 0);
  console.log(`- every acknowledged event stored: ${lost === 0 ? 'pass' : `FAIL (${lost} lost)`}`);
  if (opts.json) {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, 'live.json');
    fs.writeFileSync(
      file,
      JSON.stringify(
        {
          model: opts.model ?? 'synthetic (initial weights)',
          dataset: model.config.dataset,
          items: model.engine.numItems,
          options: { ...opts, model: undefined, help: undefined },
          cores: os.cpus().length,
          loadavg: os.loadavg(),
          rows,
          skipped,
          targets: verdicts.map(({ target, pass }) => ({ ...target, pass })),
        },
        null,
        2,
      ) + '\n',
    );
    log(`wrote ${file}`);
  }
  if (lost > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench live: ${err instanceof UserError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
