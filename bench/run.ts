/**
 * fmrlrec benchmarks: `npm run bench -- <command> [options]` (after `npm run build`).
 *
 *   train     training throughput, peak memory, floor, breakdown; PyTorch baseline and ratios
 *   eval      full-ranking evaluation of every size vs the baseline's validation pass
 *   kernels   kernel GFLOP/s on the hot shapes (bench/kernels.ts)
 *   scaling   catalogue 10k/100k/1M and sequence length 50/200/1000 at D = 256
 *   check     identical mathematics: project vs PyTorch losses from the same weights
 *   profile   JavaScript CPU profile of training steps (V8 --cpu-prof), top functions
 *   serve, coldstart, live  stand-alone scripts with their own options (bench/serve.ts, bench/coldstart.ts, bench/live.ts)
 *   all       train (with check), eval, kernels, scaling
 *
 * docs/performance.md lists the options and the figures they gave.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { UserError } from '../src/util/errors';
import { checkCommand } from './check';
import { TRAIN_CONFIGS } from './configs';
import { beautyDir } from './data';
import { BenchArgs, flagBool, flagNumber, flagString, parseBenchArgs } from './options';
import { log, table } from './output';
import { setBaselineEnv } from './torch';
import { reportResult, runWorker, setKeepHeap } from './worker';
import { evalCommand, evalWorker, EvalSpec } from './eval';
import { scalingCommand } from './scaling';
import { printBreakdown, trainCommand, trainWorker, TrainSpec, TrainWorkerResult } from './train';

const HELP = `usage: npm run bench -- <command> [options]

commands:
  train     [--configs paper,d256,default] [--steps 50] [--warmup 2] [--repeats 1]
            [--baseline-steps 10] [--baseline-repeats 1] [--profile-steps 10] [--json] [--no-baseline] [--no-check]
  eval      [--config paper] [--eval-batch 512] [--baseline-batches 8] [--no-baseline]
  kernels   (runs dist/bench/kernels.js)
  serve     (runs dist/bench/serve.js with the remaining options; see its --help)
  coldstart (runs dist/bench/coldstart.js with the remaining options; see its --help)
  live      (runs dist/bench/live.js with the remaining options; see its --help)
  scaling   [--scaling-steps 5] [--batch 32] [--feature-dim 512] [--grid] [--negatives 512] [--item-ids]
  check     [--check-config paper] [--check-steps 20] [--check-lr <constant lr>]
  profile   [--config paper] [--steps 10]
  all       everything above (train with --json)
common:     [--data <Beauty folder>] [--python <python3 with torch>] [--threads N] [--seed 42]
            [--baseline-env K=V,...] (environment for the PyTorch baseline, e.g. OMP_WAIT_POLICY=PASSIVE)
            [--keep-heap] (diagnostic: glibc keeps freed large blocks, so fresh arrays do not page-fault)
`;

/** Run a stand-alone benchmark script of this folder (dist/bench/<name>.js) with the given arguments. */
function scriptCommand(name: string, argv: string[] = []): void {
  const script = path.join(__dirname, `${name}.js`);
  const res = spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit' });
  // The script has said why on stderr: one more line, no stack.
  if (res.status !== 0) throw new UserError(`${name} benchmark failed (exit ${res.status ?? res.signal})`);
}

/** V8 CPU profile of a few training steps: self time per JavaScript function (native calls count to the caller's "(program)" or the API function). */
function profileCommand(args: BenchArgs): void {
  const name = flagString(args, 'config', 'paper');
  const c = TRAIN_CONFIGS[name];
  if (!c) throw new UserError(`unknown configuration ${name}`);
  const steps = flagNumber(args, 'steps', 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-cpuprof-'));
  const r = runWorker<TrainWorkerResult>(
    'train',
    {
      config: c,
      dataDir: beautyDir(args),
      warmup: 2,
      steps,
      profileSteps: steps,
      seed: 42,
      threads: flagNumber(args, 'threads', 0),
      measurePeak: false,
    } satisfies TrainSpec,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'],
  );
  printBreakdown(r);
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return;
  const prof = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    if (!n) return;
    const f = n.callFrame;
    const wrapper = f.url.endsWith('/bench/profile.js');
    const key = wrapper
      ? 'native kernel calls (self time of the timing wrapper)'
      : `${f.functionName || '(anonymous)'} ${f.url ? `${path.relative(process.cwd(), f.url.replace('file://', ''))}:${f.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.log(
    `\nV8 CPU profile of the whole worker (setup, ${2 + 2 * steps} steps): self time by function (main thread; native kernels appear under the JS function that called them):`,
  );
  console.log(
    table(
      ['function', 'self ms', 'share'],
      top.map(([k, v]) => [k, (v / 1000).toFixed(0), `${((100 * v) / total).toFixed(1)}%`]),
    ),
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === 'worker') {
    const spec = JSON.parse(fs.readFileSync(argv[2], 'utf8'));
    if (argv[1] === 'train') reportResult(trainWorker(spec as TrainSpec));
    else if (argv[1] === 'eval') reportResult(evalWorker(spec as EvalSpec));
    else throw new Error(`unknown worker ${argv[1]}`);
    return;
  }
  if (argv[0] === 'serve' || argv[0] === 'coldstart' || argv[0] === 'live') {
    // bench/serve.ts, bench/coldstart.ts and bench/live.ts have their own options (and --help), parsed there.
    scriptCommand(argv[0], argv.slice(1));
    return;
  }
  const args = parseBenchArgs(argv);
  const command = args.positional[0];
  if (!command || flagBool(args, 'help')) {
    process.stdout.write(HELP);
    return;
  }
  setKeepHeap(flagBool(args, 'keep-heap'));
  setBaselineEnv(flagString(args, 'baseline-env', ''));
  const started = Date.now();
  switch (command) {
    case 'train':
      trainCommand(args);
      if (!flagBool(args, 'no-check') && !flagBool(args, 'no-baseline')) checkCommand(args);
      break;
    case 'eval':
      evalCommand(args);
      break;
    case 'kernels':
      scriptCommand('kernels');
      break;
    case 'scaling':
      scalingCommand(args);
      break;
    case 'check':
      checkCommand(args);
      break;
    case 'profile':
      profileCommand(args);
      break;
    case 'all':
      args.values.json = true;
      trainCommand(args);
      if (!flagBool(args, 'no-check') && !flagBool(args, 'no-baseline')) checkCommand(args);
      evalCommand(args);
      scriptCommand('kernels');
      scalingCommand(args);
      break;
    default:
      throw new UserError(`unknown command ${command}\n${HELP}`);
  }
  log(`bench ${command}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? (error instanceof UserError ? error.message : error.stack) : String(error)}\n`);
  process.exitCode = 1;
}
