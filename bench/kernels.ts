/**
 * Kernel benchmark: GFLOP/s (or GB/s) of the selected kernels on the shapes
 * fmrlrec runs (Beauty: N1 = 12,102 items, D = 256, F = 512 / 2048, T packed
 * positions), against this machine's sgemm peak (a large square product), plus
 * the TypeScript twin on one small shape.
 *
 *   node dist/bench/kernels.js            (FMRLREC_KERNELS picks the variant)
 *
 * Timings are the best of a few runs of wall time; when other processes share
 * the cores they move a lot, so the same kernels are also timed on one thread
 * by CPU time, whose ratios to the one-thread peak hold under load.
 */
import { availableNativeVariants, getKernels, referenceKernels, type Kernels } from '../src/kernels';

function randomArray(length: number, scale = 1): Float32Array {
  const array = new Float32Array(length);
  let state = 12345;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    array[i] = ((state / 4294967296) * 2 - 1) * scale;
  }
  return array;
}

/** Time runs by this process's CPU time instead of the wall clock. */
let cpuTime = false;

/** Seconds elapsed (wall clock), or, with cpuTime, CPU seconds this process used. */
function clock(): number {
  if (!cpuTime) return performance.now() / 1000;
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Best time in seconds of `run` over at least `repeats` runs and ~minSeconds:
 * wall time, or CPU time when cpuTime is set (meaningful on one thread, where
 * it is not inflated by other processes sharing the cores).
 */
function bestSeconds(run: () => void, repeats = 3, minSeconds = 0.5): number {
  run(); // warm-up: page faults, thread start, scratch buffers
  let best = Infinity;
  const start = performance.now();
  for (let i = 0; i < repeats || (performance.now() - start) / 1000 < minSeconds; i++) {
    const t0 = clock();
    run();
    best = Math.min(best, clock() - t0);
  }
  return best;
}

interface Row {
  what: string;
  shape: string;
  rate: number;
  unit: 'GFLOP/s' | 'GB/s';
  ms: number;
}

function ladder(d: number): Int32Array {
  const dims: number[] = [];
  for (let m = 8; m < d; m *= 2) dims.push(m);
  dims.push(d);
  return Int32Array.from(dims);
}

function sgemmRow(
  k: Kernels,
  what: string,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  depth: number,
  lda = transA ? m : depth,
  ldb = transB ? depth : n,
  ldc = n,
): Row {
  const a = randomArray((transA ? depth : m) * lda);
  const b = randomArray((transB ? n : depth) * ldb);
  const c = new Float32Array(m * ldc);
  const seconds = bestSeconds(() => k.sgemm(transA, transB, m, n, depth, 1, a, lda, b, ldb, 0, c, ldc));
  const shape = `${m}x${n}x${depth}${transA ? ' tA' : ''}${transB ? ' tB' : ''}${lda !== (transA ? m : depth) ? ` lda=${lda}` : ''}`;
  return { what, shape, rate: (2 * m * n * depth) / seconds / 1e9, unit: 'GFLOP/s', ms: seconds * 1e3 };
}

function softmaxRow(k: Kernels, t: number, n1: number, d: number, gradients: boolean): Row {
  const h = randomArray(t * d, 0.3);
  const e = randomArray(n1 * d, 0.3);
  const targets = new Int32Array(t).map((_, i) => 1 + ((i * 7919) % (n1 - 1)));
  const dims = ladder(d);
  const gradH = gradients ? new Float32Array(t * d) : null;
  const gradE = gradients ? new Float32Array(n1 * d) : null;
  const seconds = bestSeconds(() => k.softmaxXentMulti(h, e, t, n1, d, targets, dims, 1 / t, gradH, gradE, null, null), 2);
  const passes = gradients ? 4 : 1; // logits (twice with gradients) + the two gradient products
  return {
    what: gradients ? 'softmaxXentMulti fwd+bwd' : 'softmaxXentMulti loss only',
    shape: `T=${t} N1=${n1} D=${d} K=${dims.length}`,
    rate: (passes * 2 * t * n1 * d) / seconds / 1e9,
    unit: 'GFLOP/s',
    ms: seconds * 1e3,
  };
}

function rankRow(k: Kernels, b: number, n1: number, d: number): Row {
  const h = randomArray(b * d);
  const e = randomArray(n1 * d);
  const targets = new Int32Array(b).map((_, i) => 1 + ((i * 7919) % (n1 - 1)));
  const dims = ladder(d);
  const ranks = new Int32Array(b * dims.length);
  const seconds = bestSeconds(() => k.rankTargets(h, e, b, n1, d, targets, dims, null, null, ranks), 2);
  return {
    what: 'rankTargets',
    shape: `users=${b} N1=${n1} D=${d} K=${dims.length}`,
    rate: (2 * b * n1 * d) / seconds / 1e9,
    unit: 'GFLOP/s',
    ms: seconds * 1e3,
  };
}

function lruRows(k: Kernels, t: number, d: number, segmentLength: number): Row[] {
  const [uRe, uIm, dhRe, dhIm] = [randomArray(t * d), randomArray(t * d), randomArray(t * d), randomArray(t * d)];
  const lamRe = randomArray(d, 0.5);
  const lamIm = randomArray(d, 0.5);
  const starts: number[] = [];
  for (let r = 0; r < t; r += segmentLength) starts.push(r);
  starts.push(t);
  const segments = Int32Array.from(starts);
  const [hRe, hIm, duRe, duIm] = [new Float32Array(t * d), new Float32Array(t * d), new Float32Array(t * d), new Float32Array(t * d)];
  const dLamRe = new Float32Array(d);
  const dLamIm = new Float32Array(d);
  const forward = bestSeconds(() => k.lruScanForward(uRe, uIm, lamRe, lamIm, segments, t, d, hRe, hIm));
  const backward = bestSeconds(() => k.lruScanBackward(dhRe, dhIm, hRe, hIm, lamRe, lamIm, segments, t, d, duRe, duIm, dLamRe, dLamIm));
  const shape = `T=${t} d=${d} segments of ${segmentLength}`;
  return [
    { what: 'lruScanForward', shape, rate: (16 * t * d) / forward / 1e9, unit: 'GB/s', ms: forward * 1e3 },
    { what: 'lruScanBackward', shape, rate: (24 * t * d) / backward / 1e9, unit: 'GB/s', ms: backward * 1e3 },
  ];
}

function layerNormRows(k: Kernels, t: number, d: number): Row[] {
  const dims = ladder(d);
  const bounds = Int32Array.from([0, ...dims]);
  const chunks = dims.length;
  const [x, dy] = [randomArray(t * d), randomArray(t * d)];
  const gamma = randomArray(d);
  const beta = randomArray(d);
  const [y, dx] = [new Float32Array(t * d), new Float32Array(t * d)];
  const [mean, rstd] = [new Float32Array(t * chunks), new Float32Array(t * chunks)];
  const [dGamma, dBeta] = [new Float32Array(d), new Float32Array(d)];
  const forward = bestSeconds(() => k.layerNormForward(x, t, d, bounds, gamma, beta, 1e-5, y, mean, rstd));
  const backward = bestSeconds(() => k.layerNormBackward(dy, x, t, d, bounds, gamma, mean, rstd, dx, dGamma, dBeta));
  const shape = `T=${t} D=${d} K=${chunks}`;
  return [
    { what: 'layerNormForward', shape, rate: (8 * t * d) / forward / 1e9, unit: 'GB/s', ms: forward * 1e3 },
    { what: 'layerNormBackward', shape, rate: (12 * t * d) / backward / 1e9, unit: 'GB/s', ms: backward * 1e3 },
  ];
}

function print(title: string, rows: Row[], peak: number | null): void {
  console.log(`\n${title}`);
  for (const row of rows) {
    const percent = peak !== null && row.unit === 'GFLOP/s' ? `${((100 * row.rate) / peak).toFixed(0).padStart(4)}% of peak` : '';
    console.log(
      `  ${row.what.padEnd(28)} ${row.shape.padEnd(34)} ${row.rate.toFixed(1).padStart(8)} ${row.unit.padEnd(8)} ${row.ms.toFixed(2).padStart(9)} ms ${percent}`,
    );
  }
}

function main(): void {
  const k = getKernels();
  console.log(`kernels: ${k.name}, ${k.threads()} thread(s); native variants this CPU runs: ${availableNativeVariants().join(', ') || 'none'}`);
  const peakRow = sgemmRow(k, 'sgemm peak (square)', false, false, 2048, 2048, 2048);
  const peak = peakRow.rate;
  print('machine peak', [peakRow], null);

  const n1 = 12102;
  const d = 256;
  print(
    'sgemm, hot shapes (D = 256)',
    [
      sgemmRow(k, 'E = F·Pᵀ (F = 512)', false, true, n1, d, 512),
      sgemmRow(k, 'E = F·Pᵀ (F = 2048)', false, true, n1, d, 2048),
      sgemmRow(k, 'dP = dEᵀ·F (F = 2048)', true, false, d, 2048, n1),
      sgemmRow(k, 'MRL chunk 128←256', false, true, 2000, 128, 256),
      sgemmRow(k, 'MRL chunk 64←128 (view)', false, true, 2000, 64, 128, d, d, d),
      sgemmRow(k, 'MRL chunk 8←16 (view)', false, true, 2000, 8, 16, d, d, d),
      sgemmRow(k, 'MRL backward dX 256←128', false, false, 2000, 256, 128),
    ],
    peak,
  );

  print(
    'fused kernels',
    [softmaxRow(k, 1000, n1, d, true), softmaxRow(k, 1000, n1, d, false), softmaxRow(k, 300, n1, 1024, true), rankRow(k, 2048, n1, d)],
    peak,
  );

  print('memory-bound kernels', [...lruRows(k, 5000, d, 9), ...lruRows(k, 5000, d, 5000), ...layerNormRows(k, 5000, d)], null);

  // The same kernels on one thread timed by CPU time: the ratios to the
  // one-thread peak hold even while other processes load the machine.
  const threads = k.threads();
  k.setThreads(1);
  cpuTime = true;
  const singlePeak = sgemmRow(k, 'sgemm peak (square)', false, false, 1024, 1024, 1024);
  print('one thread, CPU time', [singlePeak, softmaxRow(k, 500, n1, d, true), softmaxRow(k, 500, n1, d, false), rankRow(k, 512, n1, d)], singlePeak.rate);
  cpuTime = false;
  k.setThreads(threads);

  const twin = referenceKernels;
  print('TypeScript twin (small shapes)', [sgemmRow(twin, 'sgemm', false, false, 128, 128, 128), softmaxRow(twin, 16, 500, 64, true)], peak);
}

main();
