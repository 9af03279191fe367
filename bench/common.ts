/**
 * Shared pieces of the benchmarks: options, the machine and whether it is quiet,
 * datasets and random features, FLOP counts (the arithmetic floor), peak RSS,
 * child processes (one per measured configuration, so peak RSS is per
 * configuration) and the PyTorch baseline (bench/reference/fmrlrec_torch.py).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { readP5Dataset } from '../src/data/p5';
import { leaveOneOut } from '../src/data/split';
import type { PackedBatch, Split } from '../src/data/types';
import type { Kernels } from '../src/kernels/types';
import { doublingLadder } from '../src/model/config';
import { DEFAULT_MODEL, DEFAULT_TRAIN, DEFAULT_WIDTH } from '../src/run/defaults';
import { UserError } from '../src/util/errors';
import { Rng } from '../src/util/rng';

/** Repository root (dist/bench/common.js → ../..). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const TORCH_SCRIPT = path.join(ROOT, 'bench', 'reference', 'fmrlrec_torch.py');

// ---------------------------------------------------------------------------
// Options

/** Parsed command line: positional words and --flags (value or true). */
export interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--') && !BOOLEAN_FLAGS.has(a.slice(2))) flags.set(a.slice(2), argv[++i]);
      else flags.set(a.slice(2), true);
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

const BOOLEAN_FLAGS = new Set(['json', 'no-baseline', 'no-check', 'quick', 'grid', 'help', 'profile', 'keep-heap']);

export function flagNumber(args: Args, name: string, fallback: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isFinite(n)) throw new UserError(`--${name} needs a number`);
  return n;
}

export function flagString(args: Args, name: string, fallback: string): string {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  if (v === true) throw new UserError(`--${name} needs a value`);
  return v;
}

export function flagBool(args: Args, name: string): boolean {
  return args.flags.has(name);
}

// ---------------------------------------------------------------------------
// The machine

export interface MachineInfo {
  description: string;
  cpu: string;
  cores: number;
  simd: string;
  memoryGb: number;
  node: string;
}

export function machineInfo(kern?: Kernels): MachineInfo {
  const cpus = os.cpus();
  const cpu = cpus[0]?.model.trim() ?? 'unknown CPU';
  let simd = '';
  try {
    const flags = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(/\s+/) ?? [];
    simd = ['avx512f', 'avx512_bf16', 'avx512_vnni', 'avx2', 'fma'].filter((f) => flags.includes(f)).join(' ');
  } catch {
    simd = 'unknown';
  }
  const memoryGb = os.totalmem() / 2 ** 30;
  const kernels = kern ? `, kernels ${kern.name} × ${kern.threads()} threads` : '';
  return {
    description: `${cpu}, ${cpus.length} cores (${simd || 'no AVX'}), ${memoryGb.toFixed(0)} GB, ${os.platform()} ${os.release()}, Node ${process.version}${kernels}`,
    cpu, cores: cpus.length, simd, memoryGb, node: process.version,
  };
}

/** CPU use of the whole machine over `ms` (fraction of all cores busy) and the busiest other processes. */
export function machineLoad(ms = 1000): { busy: number; top: string[] } {
  const read = () => {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = line[3] + (line[4] ?? 0);
    const total = line.reduce((a, b) => a + b, 0);
    return { idle, total };
  };
  const procTimes = () => {
    const out = new Map<number, { name: string; ticks: number }>();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        const fields = stat.slice(close + 2).split(' ');
        out.set(Number(d), { name, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // process ended
      }
    }
    return out;
  };
  try {
    const a = read();
    const pa = procTimes();
    const until = Date.now() + ms;
    while (Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    const b = read();
    const pb = procTimes();
    const busy = 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
    const hz = 100;
    const top: string[] = [];
    for (const [pid, p] of pb) {
      const before = pa.get(pid);
      if (!before || pid === process.pid) continue;
      const pct = ((p.ticks - before.ticks) / hz / (ms / 1000)) * 100;
      if (pct >= 5) top.push(`${p.name}(${pid}) ${pct.toFixed(0)}%`);
    }
    return { busy, top };
  } catch {
    return { busy: NaN, top: [] };
  }
}

/** GFLOP/s of short 2048³ sgemm probes taken by quietCheck (the machine's speed as this run sees it). */
const probes: number[] = [];

function probeGflops(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getKernels } = require('../src/kernels') as typeof import('../src/kernels');
  return measurePeak(getKernels(), 2048, 0.6);
}

/**
 * Quiet = less than 10% of one core busy by other processes, and a short sgemm
 * probe within 15% of the fastest probe of this run: in a VM, a busy neighbour
 * on the host slows the cores without showing in /proc.
 */
export function quietCheck(label: string): boolean {
  const { busy, top } = machineLoad();
  const cores = os.cpus().length;
  const coresBusy = busy * cores;
  const idle = coresBusy < 0.1;
  const probe = probeGflops();
  probes.push(probe);
  const best = Math.max(...probes);
  const steady = probe >= 0.85 * best;
  const quiet = idle && steady;
  const text = Number.isNaN(busy) ? 'unknown' : `${coresBusy.toFixed(2)} of ${cores} cores busy`;
  log(`machine load ${label}: ${text}${top.length ? ` (${top.join(', ')})` : ''}, sgemm probe ${probe.toFixed(0)} GFLOP/s` +
    `${quiet ? ' — quiet' : idle ? ` — NOT steady (probe ${(100 * probe / best).toFixed(0)}% of this run's best): timings are void` : ' — NOT quiet: timings are void'}`);
  return quiet;
}

/** One line on how steady the machine's speed was over this run's probes, and whether that voids the run. */
export function stabilityNote(): { line: string; steady: boolean } {
  if (probes.length === 0) return { line: 'no speed probes taken', steady: true };
  const lo = Math.min(...probes);
  const hi = Math.max(...probes);
  const steady = lo >= 0.85 * hi;
  return {
    line: `sgemm probes over the run: ${lo.toFixed(0)}–${hi.toFixed(0)} GFLOP/s (${probes.length} probes)` +
      (steady ? '' : ' — the machine\'s speed varied by more than 15%: timings are void'),
    steady,
  };
}

// ---------------------------------------------------------------------------
// Output

/** Progress and diagnostics go to stderr; tables and results to stdout. */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 1) + '-' : '-'.repeat(w + 1) + ':')).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Peak resident set size of this process in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

// ---------------------------------------------------------------------------
// Configurations

/** One benchmarked training configuration. */
export interface BenchConfig {
  name: string;
  /** What it is, for the tables. */
  title: string;
  dims: number[];
  batch: number;
  maxLen: number;
  /** Width of the frozen item features (random unit-norm rows). */
  featureDim: number;
  /** Unit-norm blocks the feature row is made of (paper: [1024 text ; 1024 image]). */
  featureBlocks: number[];
  itemIds: boolean;
  dropout: number;
  numBlocks: number;
  /** Where the data comes from: Beauty, or a synthetic catalogue. */
  data: { kind: 'beauty' } | { kind: 'synthetic'; users: number; items: number; length: number };
}

export const PAPER: BenchConfig = {
  name: 'paper', title: 'paper: D=1024 (8..1024), batch 32, 2048-d features',
  dims: doublingLadder(1024), batch: 32, maxLen: 50, featureDim: 2048, featureBlocks: [1024, 1024],
  itemIds: false, dropout: 0.6, numBlocks: 1, data: { kind: 'beauty' },
};

export const D256: BenchConfig = {
  ...PAPER, name: 'd256', title: 'D=256 (8..256), batch 32, 2048-d features', dims: doublingLadder(256),
};

/**
 * The project's default model and batch (src/run/defaults.ts): D = 256, batch 128,
 * 512-d text features (the built-in encoder's width) + item IDs. The default
 * features' brand, category and title-word vectors are left out: the PyTorch
 * mirror this is compared with has none.
 */
export const DEFAULT: BenchConfig = {
  ...PAPER, name: 'default', title: `default: D=${DEFAULT_WIDTH}, batch ${DEFAULT_TRAIN.batchSize}, 512-d text + item IDs`,
  dims: DEFAULT_MODEL.dims, batch: DEFAULT_TRAIN.batchSize, featureDim: 512, featureBlocks: [512], itemIds: true,
  dropout: DEFAULT_MODEL.dropout, numBlocks: DEFAULT_MODEL.numBlocks,
};

/** A small configuration for quick runs of the identical-mathematics check while developing. */
export const SMALL: BenchConfig = {
  ...PAPER, name: 'small', title: 'small: D=64 (8..64), batch 16, 256-d features', dims: doublingLadder(64), batch: 16,
  featureDim: 256, featureBlocks: [128, 128],
};

export const TRAIN_CONFIGS: Record<string, BenchConfig> = { paper: PAPER, d256: D256, default: DEFAULT, small: SMALL };

// ---------------------------------------------------------------------------
// Data

export function beautyDir(args?: Args): string {
  const fromFlag = args ? flagString(args, 'data', '') : '';
  if (fromFlag) return fromFlag;
  const base = process.env.FMRLREC_DATA_DIR || path.resolve(ROOT, '..', 'shared', 'data');
  return path.join(base, 'beauty');
}

export interface BenchData {
  numItems: number;
  split: Split;
  users: number;
  /** Human label of the data. */
  label: string;
}

/** Beauty (P5 layout) or a synthetic catalogue of fixed-length sequences. */
export function loadBenchData(config: BenchConfig, dataDir: string): BenchData {
  if (config.data.kind === 'beauty') {
    if (!fs.existsSync(path.join(dataDir, 'sequential_data.txt'))) {
      throw new UserError(`no Beauty data at ${dataDir} (set FMRLREC_DATA_DIR or pass --data <folder>)`);
    }
    const ds = readP5Dataset(dataDir, 'beauty');
    return { numItems: ds.numItems, split: leaveOneOut(ds), users: ds.sequences.length, label: `Beauty (${ds.sequences.length} users, ${ds.numItems} items)` };
  }
  const { users, items, length } = config.data;
  // Every user has a training sequence of exactly `length` items (+ validation and test):
  // the worst case for a window of `length`, T = batch × length rows per step.
  const rng = new Rng(7);
  const train: Int32Array[] = [];
  const validTarget = new Int32Array(users);
  const testTarget = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    const seq = new Int32Array(length);
    for (let i = 0; i < length; i++) seq[i] = 1 + rng.int(items);
    train.push(seq);
    validTarget[u] = 1 + rng.int(items);
    testTarget[u] = 1 + rng.int(items);
  }
  return { numItems: items, split: { train, validTarget, testTarget }, users, label: `synthetic (${users} users × ${length} items, catalogue ${items})` };
}

/**
 * Random item features: (N+1)×F, row 0 zeros, each row the concatenation of
 * unit-norm blocks (paper: 1024-d text and 1024-d image vectors, both
 * L2-normalised as docs/method.md §3 says).
 */
export function randomFeatures(n1: number, blocks: number[], seed: number): Float32Array {
  const f = blocks.reduce((a, b) => a + b, 0);
  const out = new Float32Array(n1 * f);
  const rng = new Rng(seed);
  for (let r = 1; r < n1; r++) {
    let o = r * f;
    for (const w of blocks) {
      let ss = 0;
      for (let j = 0; j < w; j++) {
        // Uniform(−1, 1) is cheaper than a normal and just as good for timing and for the check.
        const v = 2 * rng.uniform() - 1;
        out[o + j] = v;
        ss += v * v;
      }
      const s = 1 / Math.sqrt(ss);
      for (let j = 0; j < w; j++) out[o + j] *= s;
      o += w;
    }
  }
  return out;
}

/** The reference's batch layout: left-padded [B, L] tokens and labels (docs/method.md §5; dataloader/lru.py). */
export function paddedBatch(batch: PackedBatch, maxLen: number, tokens: Int32Array, labels: Int32Array, base: number): void {
  for (let b = 0; b < batch.size; b++) {
    const r0 = batch.offsets[b];
    const len = batch.offsets[b + 1] - r0;
    const o = base + b * maxLen + (maxLen - len);
    for (let i = 0; i < len; i++) {
      tokens[o + i] = batch.inputs[r0 + i];
      labels[o + i] = batch.targets[r0 + i];
    }
  }
}

// ---------------------------------------------------------------------------
// Arithmetic floor

/** Weights that exist in one MRL linear D→D (the block lower triangle): Σ_k |C(k)|·m_k. */
export function mrlWeights(dims: number[]): number {
  let n = 0;
  let prev = 0;
  for (const m of dims) {
    n += (m - prev) * m;
    prev = m;
  }
  return n;
}

/** Real D→D MRL maps per block: LRU in (re, im), out (re, im); FFN gate, w1, w2. */
export const MAPS_PER_BLOCK = 7;

/**
 * Minimum FLOPs of one training step with the mathematics of docs/method.md §4–§5 done
 * without waste: real positions only (T rows, A of them with a target), the
 * nested scores (one pass over D serves every size), block lower-triangular MRL
 * maps, the projection over all N+1 items forward and backward (no gradient for
 * the frozen features). Element-wise work (exp, layer norms, the scan, AdamW) is
 * left out, so this is a lower bound.
 */
export function trainStepFlops(c: { dims: number[]; featureDim: number; numBlocks: number }, n1: number, t: number, a: number): { total: number; projection: number; scoring: number; blocks: number } {
  const d = c.dims[c.dims.length - 1];
  const projection = c.featureDim > 0 ? 2 * 2 * n1 * c.featureDim * d : 0;
  const scoring = 3 * 2 * a * n1 * d;
  const blocks = c.numBlocks * MAPS_PER_BLOCK * 3 * 2 * t * mrlWeights(c.dims);
  return { total: projection + scoring + blocks, projection, scoring, blocks };
}

/** Minimum FLOPs of a full-ranking evaluation: projection once, forward over T rows, B users × N+1 items × D. */
export function evalFlops(c: { dims: number[]; featureDim: number; numBlocks: number }, n1: number, t: number, users: number): number {
  const d = c.dims[c.dims.length - 1];
  return 2 * n1 * c.featureDim * d + c.numBlocks * MAPS_PER_BLOCK * 2 * t * mrlWeights(c.dims) + 2 * users * n1 * d;
}

/** GFLOP/s of a large square sgemm with these kernels: the machine's measured peak. */
export function measurePeak(kern: Kernels, n = 2048, seconds = 1.5): number {
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  const c = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) {
    a[i] = ((i * 7) % 13) / 13 - 0.5;
    b[i] = ((i * 5) % 11) / 11 - 0.5;
  }
  kern.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
  let best = Infinity;
  const until = performance.now() + seconds * 1000;
  for (let i = 0; i < 3 || performance.now() < until; i++) {
    const t0 = performance.now();
    kern.sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * n * n * n) / (best / 1000) / 1e9;
}

// ---------------------------------------------------------------------------
// Child processes

/** Run `node dist/bench/run.js worker <kind> <spec>` and return the JSON it reports. */
export function runWorker<T>(kind: string, spec: unknown, nodeFlags: string[] = [], timeoutSeconds = 1800): T {
  const env = workerEnv ? { ...process.env, ...workerEnv } : process.env;
  const specFile = path.join(os.tmpdir(), `fmrlrec-bench-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  try {
    const res = spawnSync(process.execPath, ['--max-old-space-size=16384', ...nodeFlags, path.join(__dirname, 'run.js'), 'worker', kind, specFile], {
      stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 64 << 20, env,
    });
    if (res.error) throw res.error;
    const line = res.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
    if (res.status !== 0 || !line) throw new Error(`bench worker ${kind} failed (exit ${res.status ?? res.signal})`);
    return JSON.parse(line.slice(RESULT_MARK.length)) as T;
  } finally {
    fs.rmSync(specFile, { force: true });
  }
}

export const RESULT_MARK = '@@RESULT ';

/**
 * Extra environment for the workers. `--keep-heap` sets glibc malloc tunables
 * that keep freed large blocks in the heap (no mmap per large allocation, no
 * trimming), which shows how much of a step is page faults on freshly
 * allocated Float32Arrays (expensive in this VM). Diagnostic only: the
 * figures of record run with the default allocator.
 */
let workerEnv: Record<string, string> | null = null;

export function setKeepHeap(on: boolean): void {
  workerEnv = on ? { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456' } : null;
}

export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------
// PyTorch

export interface TorchInfo {
  python: string;
  version: string;
  /** GFLOP/s of torch's 2048³ sgemm with the threads the baseline uses. */
  peak: number;
  blas: string;
}

let torchCache: TorchInfo | null | undefined;

/** The first python3 that imports torch ($FMRLREC_PYTHON, python3 on PATH, /usr/bin/python3), or null. */
export function findTorch(args?: Args, threads = 2): TorchInfo | null {
  if (torchCache !== undefined) return torchCache;
  const forced = args ? flagString(args, 'python', '') : '';
  const candidates = [forced, process.env.FMRLREC_PYTHON ?? '', 'python3', '/usr/bin/python3', 'python'].filter((c) => c !== '');
  torchCache = null;
  for (const python of [...new Set(candidates)]) {
    const res = spawnSync(python, [TORCH_SCRIPT, 'peak', '--threads', String(threads)], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    });
    if (res.status === 0) {
      const info = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { version: string; peak: number; blas: string };
      torchCache = { python, version: info.version, peak: info.peak, blas: info.blas };
      break;
    }
  }
  return torchCache;
}

/** Run the PyTorch mirror; returns its JSON result. */
export function runTorch<T>(torch: TorchInfo, argv: string[], timeoutSeconds = 1800): T {
  const threads = argv.includes('--threads') ? argv[argv.indexOf('--threads') + 1] : '2';
  const res = spawnSync(torch.python, [TORCH_SCRIPT, ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 64 << 20,
    // libgomp's idle threads spin by default and then compete with OpenBLAS's own two threads on a
    // 2-core machine; PASSIVE made the baseline 12–20% faster here, so it is the default (fair to the baseline).
    env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, OMP_WAIT_POLICY: 'PASSIVE', ...baselineEnv },
  });
  if (res.error) throw res.error;
  const line = res.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (res.status !== 0 || !line) throw new Error(`PyTorch baseline failed (exit ${res.status ?? res.signal}): ${TORCH_SCRIPT} ${argv.join(' ')}`);
  return JSON.parse(line.slice(RESULT_MARK.length)) as T;
}

/** Extra environment for the PyTorch baseline (`--baseline-env OMP_WAIT_POLICY=PASSIVE,...`), e.g. to try threading settings. */
let baselineEnv: Record<string, string> = {};

export function setBaselineEnv(spec: string): void {
  baselineEnv = {};
  for (const kv of spec.split(',').filter((x) => x.includes('='))) {
    const eq = kv.indexOf('=');
    baselineEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
}

export function torchMissingNote(): string {
  return 'PyTorch baseline: not run — no python3 with torch found (Debian: `apt-get install python3-torch libopenblas0`; ' +
    'or set FMRLREC_PYTHON / --python). The project\'s own figures follow.';
}
