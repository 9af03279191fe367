/**
 * Load benchmark of the recommendation service (`npm run bench -- serve`, or
 * `node dist/bench/serve.js` after `npm run build`):
 *
 * 1. HTTP load: `fmrlrec serve` in a child process, autocannon in this one
 *    (32 connections), POST /v1/recommend with real users' histories (their
 *    test inputs, as ASINs, cycled), top 10, one run per size: req/s, p50, p99,
 *    and the server's CPU time per request (from its /metrics), which tells
 *    the server's own capacity when the load generator shares the cores.
 *    A model with a count prior is also served without it (a copy of the
 *    export with the prior removed: the network alone), size by size in the
 *    same run, so the prior's cost per request is measured against a baseline.
 * 2. The MRL funnel, in process: for the same users at the largest size, the
 *    exhaustive top 10 against the funnel's (shortlist with a small size,
 *    rerank with the largest): recall of the exhaustive top 10 and speed-up of
 *    ranking the catalogue.
 *
 * Options: see HELP below (--help).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import autocannon from 'autocannon';
import { parseFlags } from '../src/cli/args';
import { readP5Dataset } from '../src/data/p5';
import { exportAllSizes, exportSourceOf } from '../src/deploy/export';
import { INDEX_FILE, MANIFEST_FILE, SizeManifest } from '../src/deploy/format';
import { loadTrainedRun } from '../src/run/trained-run';
import { getKernels } from '../src/kernels';
import { loadRunConfig } from '../src/run/run-config';
import { funnelRank } from '../src/serve/funnel';
import { loadModelFolder } from '../src/serve/model-folder';
import { UserError } from '../src/util/errors';
import { networkAloneCopy } from './network-alone';
import { ROOT } from './paths';

const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface LoadResult {
  size: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Served with the model's count prior (false: the network alone). */
  countPrior: boolean;
  requests: number;
  errors: number;
  non2xx: number;
  /** The server's CPU time per answered request (from its /metrics). */
  serverCpuMsPerRequest: number;
}
interface FunnelResult {
  shortlistSize: number;
  shortlist: number;
  recallAt10: number;
  speedup: number;
  exhaustiveMs: number;
  funnelMs: number;
}

const HELP = `Usage: npm run bench -- serve [options]   (or node dist/bench/serve.js [options])

Load benchmark of "fmrlrec serve" (autocannon, POST /v1/recommend with real
users' histories, top 10, one run per size) and of the MRL funnel. A model with
a count prior is loaded with it and, as the baseline, without it (the network
alone), one after the other at each size.

  --model <dir>        an every-size export ("fmrlrec export --size all")
  --run <dir>          or a run folder, exported to a temporary folder (default runs/beauty)
  --data <dir>         P5 folder the histories come from (default: the run's dataset)
  --sizes <list>       sizes to load, "max" for the largest        (default 16,64,256,max)
  --duration <s>       seconds of load per size                     (default 10)
  --connections <n>    concurrent connections                       (default 32)
  --users <n>          distinct histories cycled through            (default 2000)
  --json <file>        also write the results as JSON
`;

/** The options (the CLI's parser: a bad flag is one line pointing at --help). */
function options(): {
  help?: boolean;
  model?: string;
  run?: string;
  data?: string;
  sizes: string;
  duration: string;
  connections: string;
  users: string;
  json?: string;
} {
  const { values } = parseFlags(
    'npm run bench -- serve',
    process.argv.slice(2).filter((a) => a !== 'serve'),
    {
      model: { type: 'string' },
      run: { type: 'string' },
      data: { type: 'string' },
      sizes: { type: 'string', default: '16,64,256,max' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '32' },
      users: { type: 'string', default: '2000' },
      json: { type: 'string' },
    },
  );
  return values as ReturnType<typeof options>;
}

/** The every-size export to serve, and the run it came from. */
async function modelFolder(opts: ReturnType<typeof options>): Promise<{ dir: string; run: string | null }> {
  if (opts.model) {
    if (!fs.existsSync(path.join(opts.model, INDEX_FILE))) throw new UserError(`--model ${opts.model}: expected a folder made by "fmrlrec export --size all"`);
    const index = JSON.parse(fs.readFileSync(path.join(opts.model, INDEX_FILE), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(opts.model, index.sizes[0].folder, MANIFEST_FILE), 'utf8')) as SizeManifest;
    return { dir: opts.model, run: fs.existsSync(manifest.source.run) ? manifest.source.run : null };
  }
  const run = opts.run ?? path.join(ROOT, 'runs', 'beauty');
  if (!fs.existsSync(run)) throw new UserError(`no run at ${run}: pass --run <run folder> or --model <every-size export>`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-bench-serve-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  exportAllSizes(exportSourceOf(await loadTrainedRun(run, { kern: getKernels() })), dir, { force: true });
  return { dir, run };
}

/** Users' test inputs (training sequence + validation item, last maxLen) as ASIN lists, every k-th user. */
function histories(dataDir: string, count: number, maxLen: number): { asins: string[][]; ids: number[][] } {
  const ds = readP5Dataset(dataDir);
  const step = Math.max(1, Math.floor(ds.sequences.length / count));
  const ids: number[][] = [];
  for (let u = 0; u < ds.sequences.length && ids.length < count; u += step) {
    const seq = Array.from(ds.sequences[u]);
    ids.push(seq.slice(0, -1).slice(-maxLen)); // drop the test target
  }
  return { ids, asins: ids.map((h) => h.map((i) => ds.itemIds[i])) };
}

/** Start `fmrlrec serve` on a free port; resolves with its port and a stop function. */
function startServer(modelDir: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', modelDir, '--port', '0', '--quiet', '--store', 'none'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let started = false;
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const m = /http:\/\/127\.0\.0\.1:([0-9]+)/.exec(stderr);
      if (m && !started) {
        started = true;
        resolve({
          port: Number(m[1]),
          stop: () =>
            new Promise((done) => {
              child.on('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`fmrlrec serve exited (${code}): ${stderr}`)));
  });
}

/** The server's CPU seconds and answered recommend requests so far, from its /metrics. */
async function serverCounters(port: number): Promise<{ cpu: number; answered: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    cpu: value(/^process_cpu_seconds_total ([0-9.e+-]+)$/m),
    answered: value(/^fmrlrec_requests_total\{route="\/v1\/recommend",status="200"\} ([0-9]+)$/m),
  };
}

async function load(port: number, bodies: string[], connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: bodies.map((body) => ({ method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body })),
  });
}

function measureFunnel(modelDir: string, users: number[][], sizes: readonly number[]): FunnelResult[] {
  const { engine } = loadModelFolder(modelDir);
  const d = engine.width;
  const vectors = users.map((h) => engine.userVector(h, d));
  const time = (fn: () => void): number => {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  let exhaustive: number[][] = [];
  const exhaustiveMs =
    time(() => {
      exhaustive = vectors.map((u) => engine.rank(u, d, { k: 10 }).map((r) => r.id));
    }) / users.length;
  const results: FunnelResult[] = [];
  for (const shortlistSize of sizes.filter((m) => m < d && m >= 16 && m <= 64)) {
    for (const shortlist of [100, 200, 500]) {
      let found = 0;
      const funnelMs =
        time(() => {
          vectors.forEach((u, i) => {
            const top = funnelRank(engine, u, { shortlistSize, shortlist, size: d, k: 10 });
            const truth = new Set(exhaustive[i]);
            for (const r of top) if (truth.has(r.id)) found++;
          });
        }) / users.length;
      results.push({ shortlistSize, shortlist, recallAt10: found / (10 * users.length), speedup: exhaustiveMs / funnelMs, exhaustiveMs, funnelMs });
    }
  }
  return results;
}

async function main(): Promise<void> {
  const opts = options();
  if (opts.help) {
    process.stdout.write(HELP);
    return;
  }
  const duration = Number(opts.duration);
  const connections = Number(opts.connections);
  const { dir, run } = await modelFolder(opts);
  const dataDir = opts.data ?? (run ? (loadRunConfig(run).dataset as { path?: string }).path : undefined);
  if (!dataDir) throw new UserError("pass --data <P5 folder> for the users' histories");
  const { engine, config } = loadModelFolder(dir);
  const sizes = opts
    .sizes!.split(',')
    .map((s) => (s === 'max' ? engine.width : Number(s)))
    .filter((m, i, all) => engine.servesSize(m) && all.indexOf(m) === i);
  const users = histories(dataDir, Number(opts.users), config.maxLen);
  console.log(
    `model ${dir}: ${config.dataset}, ${engine.numItems} items, sizes ${engine.sizes.join(', ')}; ${users.ids.length} users' histories; ` +
      `${connections} connections, ${duration} s per size; ${os.cpus().length} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );

  // With a count prior, the network alone is the baseline, loaded right after at each size.
  const variants = [{ countPrior: engine.countPrior !== null, dir }];
  if (engine.countPrior) variants.push({ countPrior: false, dir: networkAloneCopy(dir) });
  const servers = await Promise.all(variants.map((v) => startServer(v.dir)));
  const loads: LoadResult[] = [];
  try {
    const warmUp = users.asins.slice(0, 50).map((h) => JSON.stringify({ history: h, k: 10 }));
    for (const server of servers) await load(server.port, warmUp, connections, 2);
    for (const size of sizes) {
      const bodies = users.asins.map((h) => JSON.stringify({ history: h, k: 10, size }));
      for (const [v, server] of servers.entries()) {
        const before = await serverCounters(server.port);
        const r = await load(server.port, bodies, connections, duration);
        const after = await serverCounters(server.port);
        const serverCpuMsPerRequest = (1000 * (after.cpu - before.cpu)) / Math.max(1, after.answered - before.answered);
        loads.push({
          size,
          countPrior: variants[v].countPrior,
          requestsPerSecond: r.requests.average,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          requests: r.requests.total,
          errors: r.errors,
          non2xx: r.non2xx,
          serverCpuMsPerRequest,
        });
        console.log(
          `size ${size}${variants[v].countPrior ? ', count prior' : engine.countPrior ? ', network alone' : ''}: ${r.requests.average.toFixed(0)} req/s, ` +
            `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (${r.requests.total} requests, ${r.errors} errors, ${r.non2xx} non-2xx); ` +
            `server CPU ${serverCpuMsPerRequest.toFixed(3)} ms per request`,
        );
      }
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
  const funnel = measureFunnel(dir, users.ids, engine.sizes);

  console.log('\n| size | count prior | req/s | p50 ms | p99 ms | requests | errors | server CPU ms/request |\n|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const l of loads) {
    console.log(
      `| ${l.size} | ${l.countPrior ? 'yes' : 'no'} | ${l.requestsPerSecond.toFixed(0)} | ${l.p50Ms} | ${l.p99Ms} | ${l.requests} | ${l.errors + l.non2xx} | ` +
        `${l.serverCpuMsPerRequest.toFixed(3)} |`,
    );
  }
  console.log(
    `\nMRL funnel at size ${engine.width} (one user at a time, plain TypeScript engine; exhaustive ranking ${funnel[0]?.exhaustiveMs.toFixed(2)} ms per user):`,
  );
  console.log('| shortlist size | shortlist | recall of exhaustive top 10 | ranking speed-up |\n|---:|---:|---:|---:|');
  for (const f of funnel) console.log(`| ${f.shortlistSize} | ${f.shortlist} | ${f.recallAt10.toFixed(3)} | ${f.speedup.toFixed(2)}x |`);
  if (opts.json)
    fs.writeFileSync(
      opts.json,
      JSON.stringify({ model: dir, dataset: config.dataset, connections, duration, loadavg: os.loadavg(), loads, funnel }, null, 2) + '\n',
    );
}

main().catch((err) => {
  process.stderr.write(`bench serve: ${err instanceof UserError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
