/**
 * Kernel tests: the TypeScript twin's backward passes against central finite
 * differences; every native variant this CPU runs against the twin (odd
 * shapes, transposes, alpha/beta, subarray views, short segments, uneven
 * ladders, exclusions, ties); the exact kernels bit for bit; determinism
 * across runs and thread counts; argument checks; kernel selection through
 * FMRLREC_KERNELS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { availableNativeVariants, loadNativeKernels, NATIVE_VARIANTS, referenceKernels as twin, type Kernels } from '../src/kernels';
import { Rng } from '../src/util/rng';

const rng = new Rng(20240917);

function randomArray(length: number, scale = 1): Float32Array {
  const array = new Float32Array(length);
  for (let i = 0; i < length; i++) array[i] = (rng.uniform() * 2 - 1) * scale;
  return array;
}

/** Small integers in [-2, 2]: dot products are exact in float32 and float64, so ties are real ties. */
function integerArray(length: number): Float32Array {
  const array = new Float32Array(length);
  for (let i = 0; i < length; i++) array[i] = rng.int(5) - 2;
  return array;
}

const GUARD = 7;
const SENTINEL = 12345.5;

/** `values` as a subarray view of a larger buffer whose other elements hold SENTINEL. */
function view(values: Float32Array): Float32Array {
  const buffer = new Float32Array(values.length + 2 * GUARD).fill(SENTINEL);
  buffer.set(values, GUARD);
  return buffer.subarray(GUARD, GUARD + values.length);
}

/** The whole buffer behind a view made by view(). */
function whole(array: Float32Array): Float32Array {
  return new Float32Array(array.buffer, array.byteOffset - GUARD * 4, array.length + 2 * GUARD);
}

/** max |actual − expected| <= tolerance · max(|expected|, 1); NaN must match NaN. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]) || Number.isNaN(actual[i])) {
      assert.ok(Number.isNaN(expected[i]) && Number.isNaN(actual[i]), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
      continue;
    }
    const difference = Math.abs(actual[i] - expected[i]);
    assert.ok(difference <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]} (scale ${scale})`);
  }
}

function ladder(dims: number[]): Int32Array {
  return Int32Array.from(dims);
}

function segmentsOf(lengths: number[]): Int32Array {
  const starts = [0];
  for (const length of lengths) starts.push(starts[starts.length - 1] + length);
  return Int32Array.from(starts);
}

// ---------------------------------------------------------------------------
// Call helpers: run one kernel on fresh outputs (views) and return them.

interface SgemmCase {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  pad: number;
}

function runSgemm(kernels: Kernels, c: SgemmCase, a: Float32Array, b: Float32Array, c0: Float32Array): Float32Array {
  const lda = Math.max(1, c.transA ? c.m : c.k) + c.pad;
  const ldb = Math.max(1, c.transB ? c.k : c.n) + c.pad;
  const ldc = Math.max(1, c.n) + c.pad;
  const out = view(c0);
  kernels.sgemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, view(a), lda, view(b), ldb, c.beta, out, ldc);
  return whole(out);
}

interface XentResult {
  loss: number;
  gradH: Float32Array | null;
  gradE: Float32Array | null;
  perSize: Float64Array;
}

function runXent(
  kernels: Kernels,
  h: Float32Array,
  e: Float32Array,
  t: number,
  n1: number,
  d: number,
  targets: Int32Array,
  dims: Int32Array,
  scale: number,
  wantH: boolean,
  wantE: boolean,
  sizeWeights: Float32Array | null = null,
): XentResult {
  const gradH = wantH ? view(new Float32Array(t * d).fill(NaN)) : null;
  const gradE = wantE ? view(new Float32Array(n1 * d).fill(NaN)) : null;
  const perSize = new Float64Array(dims.length);
  const loss = kernels.softmaxXentMulti(view(h), view(e), t, n1, d, targets, dims, scale, gradH, gradE, perSize, sizeWeights);
  return { loss, gradH: gradH && whole(gradH), gradE: gradE && whole(gradE), perSize };
}

interface ScanInputs {
  uRe: Float32Array;
  uIm: Float32Array;
  lamRe: Float32Array;
  lamIm: Float32Array;
  segments: Int32Array;
  t: number;
  d: number;
}

function scanInputs(lengths: number[], d: number): ScanInputs {
  const segments = segmentsOf(lengths);
  const t = segments[segments.length - 1];
  const lamRe = new Float32Array(d);
  const lamIm = new Float32Array(d);
  for (let c = 0; c < d; c++) {
    const radius = 0.3 + 0.65 * rng.uniform();
    const angle = 2 * Math.PI * rng.uniform();
    lamRe[c] = radius * Math.cos(angle);
    lamIm[c] = radius * Math.sin(angle);
  }
  return { uRe: randomArray(t * d), uIm: randomArray(t * d), lamRe, lamIm, segments, t, d };
}

function runScanForward(kernels: Kernels, s: ScanInputs): [Float32Array, Float32Array] {
  const hRe = view(new Float32Array(s.t * s.d));
  const hIm = view(new Float32Array(s.t * s.d));
  kernels.lruScanForward(view(s.uRe), view(s.uIm), s.lamRe, s.lamIm, s.segments, s.t, s.d, hRe, hIm);
  return [whole(hRe), whole(hIm)];
}

function runScanBackward(
  kernels: Kernels,
  s: ScanInputs,
  dhRe: Float32Array,
  dhIm: Float32Array,
  hRe: Float32Array,
  hIm: Float32Array,
  dLam0: [Float32Array, Float32Array],
): Float32Array[] {
  const duRe = view(new Float32Array(s.t * s.d).fill(NaN));
  const duIm = view(new Float32Array(s.t * s.d).fill(NaN));
  const dLamRe = view(dLam0[0]);
  const dLamIm = view(dLam0[1]);
  kernels.lruScanBackward(view(dhRe), view(dhIm), hRe, hIm, s.lamRe, s.lamIm, s.segments, s.t, s.d, duRe, duIm, dLamRe, dLamIm);
  return [whole(duRe), whole(duIm), whole(dLamRe), whole(dLamIm)];
}

function runLayerNormForward(kernels: Kernels, x: Float32Array, t: number, bounds: Int32Array, gamma: Float32Array, beta: Float32Array): Float32Array[] {
  const d = bounds[bounds.length - 1];
  const chunks = bounds.length - 1;
  const y = view(new Float32Array(t * d));
  const mean = view(new Float32Array(t * chunks));
  const rstd = view(new Float32Array(t * chunks));
  kernels.layerNormForward(view(x), t, d, bounds, gamma, beta, 1e-5, y, mean, rstd);
  return [whole(y), whole(mean), whole(rstd)];
}

function runLayerNormBackward(
  kernels: Kernels,
  dy: Float32Array,
  x: Float32Array,
  t: number,
  bounds: Int32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  dGamma0: Float32Array,
  dBeta0: Float32Array,
): Float32Array[] {
  const d = bounds[bounds.length - 1];
  const dx = view(new Float32Array(t * d).fill(NaN));
  const dGamma = view(dGamma0);
  const dBeta = view(dBeta0);
  kernels.layerNormBackward(view(dy), view(x), t, d, bounds, gamma, mean, rstd, dx, dGamma, dBeta);
  return [whole(dx), whole(dGamma), whole(dBeta)];
}

interface RankCase {
  b: number;
  n1: number;
  d: number;
  dims: number[];
  h: Float32Array;
  e: Float32Array;
  targets: Int32Array;
  offsets: Int32Array | null;
  items: Int32Array | null;
}

function rankCase(b: number, n1: number, d: number, dims: number[], exclusions: boolean): RankCase {
  const targets = new Int32Array(b).map(() => 1 + rng.int(n1 - 1));
  let offsets: Int32Array | null = null;
  let items: Int32Array | null = null;
  if (exclusions) {
    const list: number[] = [];
    offsets = new Int32Array(b + 1);
    for (let i = 0; i < b; i++) {
      const count = rng.int(8);
      for (let j = 0; j < count; j++) list.push(rng.int(n1)); // may repeat, may be 0
      if (i % 3 === 0) list.push(targets[i], targets[i]); // the target listed (twice) stays the target
      if (count > 0) list.push(list[list.length - 1]); // a duplicate
      offsets[i + 1] = list.length;
    }
    items = Int32Array.from(list);
  }
  return { b, n1, d, dims, h: integerArray(b * d), e: integerArray(n1 * d), targets, offsets, items };
}

function runRank(kernels: Kernels, r: RankCase): Int32Array {
  const ranks = new Int32Array(r.b * r.dims.length).fill(-1);
  kernels.rankTargets(view(r.h), view(r.e), r.b, r.n1, r.d, r.targets, ladder(r.dims), r.offsets, r.items, ranks);
  return ranks;
}

// The exact kernels (addRowVector, addColumnSums, addSparseRowsProduct, adamwUpdate) draw from their
// own generator, so that they leave the inputs of the other tests as they were.
const exactRng = new Rng(20250311);

/** Values spread over seven decades (so that float32 adds round, and in different places). */
function spreadArray(length: number): Float32Array {
  const array = new Float32Array(length);
  for (let i = 0; i < length; i++) array[i] = (exactRng.uniform() * 2 - 1) * 10 ** (exactRng.int(7) - 3);
  return array;
}

/** The same bits, element for element (the sign of zero included). */
function assertSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const i = a.findIndex((bits, k) => bits !== b[k]);
  assert.equal(i, -1, `${what}: element ${i} is ${actual[i]}, the twin's is ${expected[i]}`);
}

function runAddRowVector(kernels: Kernels, y0: Float32Array, t: number, d: number, v: Float32Array): Float32Array {
  const y = view(y0);
  kernels.addRowVector(y, t, d, view(v));
  return whole(y);
}

function runAddColumnSums(kernels: Kernels, x: Float32Array, t: number, d: number, acc0: Float32Array): Float32Array {
  const acc = view(acc0);
  kernels.addColumnSums(view(x), t, d, acc);
  return whole(acc);
}

interface SparseRows {
  rowStart: Int32Array;
  columns: Int32Array;
  weights: Float32Array;
}

/**
 * A random rows × bRows sparse matrix in compressed rows: about a quarter of
 * the rows empty, the others with 1..2·meanEntries entries, some columns
 * repeated within a row; heavyRow (if given) gets heavyEntries entries.
 */
function sparseRows(rows: number, bRows: number, meanEntries: number, heavyRow = -1, heavyEntries = 0): SparseRows {
  const rowStart = new Int32Array(rows + 1);
  const columns: number[] = [];
  for (let r = 0; r < rows; r++) {
    const count = bRows === 0 ? 0 : r === heavyRow ? heavyEntries : exactRng.int(4) === 0 ? 0 : 1 + exactRng.int(2 * meanEntries);
    for (let j = 0; j < count; j++) {
      columns.push(j > 0 && exactRng.int(5) === 0 ? columns[columns.length - 1] : exactRng.int(bRows));
    }
    rowStart[r + 1] = columns.length;
  }
  return { rowStart, columns: Int32Array.from(columns), weights: spreadArray(columns.length) };
}

function runAddSparseRowsProduct(kernels: Kernels, c0: Float32Array, rows: number, d: number, s: SparseRows, b: Float32Array, bRows: number): Float32Array {
  const c = view(c0);
  kernels.addSparseRowsProduct(c, rows, d, s.rowStart, s.columns, view(s.weights), view(b), bRows);
  return whole(c);
}

interface AdamwState {
  params: Float32Array;
  grads: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

function adamwState(length: number): AdamwState {
  const grads = spreadArray(length);
  // Gradients that are zero (of either sign), subnormal or large.
  const specials = [0, -0, 1e-42, -3e-39, 1e20, -1e30];
  for (let i = 0; i < length; i += 7) grads[i] = specials[(i / 7) % specials.length];
  const m = spreadArray(length);
  const v = spreadArray(length).map(Math.abs);
  m.fill(0, 0, Math.min(length, 5)); // the first step of a fresh optimiser
  v.fill(0, 0, Math.min(length, 5));
  return { params: spreadArray(length), grads, m, v };
}

/** Runs one adamwUpdate on copies of s (views with sentinels around them); returns params, m, v whole. */
function runAdamw(kernels: Kernels, s: AdamwState, offset: number, size: number, step: number, lr: number, decay: number): Float32Array[] {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const stepSize = lr / (1 - beta1 ** step);
  const invSqrtBc2 = 1 / Math.sqrt(1 - beta2 ** step);
  const [params, m, v] = [view(s.params), view(s.m), view(s.v)];
  kernels.adamwUpdate(params, view(s.grads), m, v, offset, size, beta1, beta2, eps, stepSize, invSqrtBc2, 1 - lr * decay);
  return [whole(params), whole(m), whole(v)];
}

// ---------------------------------------------------------------------------
// The twin's backward passes against central finite differences.

/** Central difference of f along element i of x (the step is what float32 actually stores). */
function centralDifference(x: Float32Array, i: number, step: number, f: () => number): number {
  const original = x[i];
  x[i] = original + step;
  const up = x[i];
  const lossUp = f();
  x[i] = original - step;
  const down = x[i];
  const lossDown = f();
  x[i] = original;
  return (lossUp - lossDown) / (up - down);
}

function assertGradient(analytic: ArrayLike<number>, x: Float32Array, step: number, tolerance: number, f: () => number, what: string): void {
  for (let i = 0; i < x.length; i++) {
    const numeric = centralDifference(x, i, step, f);
    assert.ok(Math.abs(numeric - analytic[i]) <= tolerance * (1 + Math.abs(numeric)), `${what}[${i}]: analytic ${analytic[i]} vs finite difference ${numeric}`);
  }
}

test('twin softmaxXentMulti gradients match finite differences (with a weight per size)', () => {
  const [t, n1, d] = [4, 6, 5];
  const dims = ladder([2, 3, 5]);
  const h = randomArray(t * d);
  const e = randomArray(n1 * d);
  const targets = Int32Array.from([2, 0, 5, 1]);
  const scale = 0.7;
  const weights = Float32Array.from([2.5, 0, 0.5]);
  const gradH = new Float32Array(t * d);
  const gradE = new Float32Array(n1 * d);
  const perSize = new Float64Array(dims.length);
  const loss = twin.softmaxXentMulti(h, e, t, n1, d, targets, dims, scale, gradH, gradE, perSize, weights);
  assert.ok(Math.abs(loss - perSize.reduce((s, x) => s + x, 0)) < 1e-12, 'the returned loss is the unweighted sum');
  const f = (): number => {
    const sizes = new Float64Array(dims.length);
    twin.softmaxXentMulti(h, e, t, n1, d, targets, dims, 0, null, null, sizes, null);
    return scale * sizes.reduce((s, x, k) => s + weights[k] * x, 0);
  };
  assertGradient(gradH, h, 1e-3, 1e-4, f, 'gradH');
  assertGradient(gradE, e, 1e-3, 1e-4, f, 'gradE');
  // rows with target 0 get no gradient
  for (let p = 0; p < d; p++) assert.equal(gradH[1 * d + p], 0);
});

test('twin lruScanBackward matches finite differences (du and dλ, segments of length 1)', () => {
  const s = scanInputs([1, 3, 2, 1], 3);
  const wRe = randomArray(s.t * s.d);
  const wIm = randomArray(s.t * s.d);
  const f = (): number => {
    const [hRe, hIm] = runScanForward(twin, s).map((a) => a.subarray(GUARD, GUARD + s.t * s.d));
    let sum = 0;
    for (let i = 0; i < s.t * s.d; i++) sum += wRe[i] * hRe[i] + wIm[i] * hIm[i];
    return sum;
  };
  const [hRe, hIm] = runScanForward(twin, s).map((a) => a.subarray(GUARD, GUARD + s.t * s.d));
  const dLam0: [Float32Array, Float32Array] = [randomArray(s.d), randomArray(s.d)];
  const [duRe, duIm, dLamRe, dLamIm] = runScanBackward(twin, s, wRe, wIm, hRe, hIm, [dLam0[0].slice(), dLam0[1].slice()]).map((a) =>
    a.subarray(GUARD, a.length - GUARD),
  );
  assertGradient(duRe, s.uRe, 1e-2, 1e-3, f, 'duRe');
  assertGradient(duIm, s.uIm, 1e-2, 1e-3, f, 'duIm');
  // dλ is added to what was there
  assertGradient(
    dLamRe.map((x, c) => x - dLam0[0][c]),
    s.lamRe,
    1e-2,
    1e-3,
    f,
    'dLamRe',
  );
  assertGradient(
    dLamIm.map((x, c) => x - dLam0[1][c]),
    s.lamIm,
    1e-2,
    1e-3,
    f,
    'dLamIm',
  );
});

test('twin layerNormBackward matches finite differences', () => {
  const t = 3;
  const bounds = Int32Array.from([0, 2, 5, 9]);
  const d = 9;
  const x = randomArray(t * d, 2);
  const gamma = randomArray(d);
  const beta = randomArray(d);
  const w = randomArray(t * d);
  const f = (): number => {
    const [y] = runLayerNormForward(twin, x, t, bounds, gamma, beta);
    let sum = 0;
    for (let i = 0; i < t * d; i++) sum += w[i] * y[GUARD + i];
    return sum;
  };
  const [, mean, rstd] = runLayerNormForward(twin, x, t, bounds, gamma, beta).map((a) => a.subarray(GUARD, a.length - GUARD));
  const [dx, dGamma, dBeta] = runLayerNormBackward(twin, w, x, t, bounds, gamma, mean, rstd, new Float32Array(d), new Float32Array(d)).map((a) =>
    a.subarray(GUARD, a.length - GUARD),
  );
  assertGradient(dx, x, 1e-2, 2e-3, f, 'dx');
  assertGradient(dGamma, gamma, 1e-2, 2e-3, f, 'dGamma');
  assertGradient(dBeta, beta, 1e-2, 2e-3, f, 'dBeta');
});

test('twin rankTargets: ties count against the target, exclusions and item 0 are not ranked', () => {
  const [n1, d] = [9, 2];
  const h = Float32Array.from([0, 0, 1, 0]); // user 0 scores every item 0: all ties
  const e = new Float32Array(n1 * d);
  for (let j = 0; j < n1; j++) e[j * d] = j; // user 1 scores item j as j
  const targets = Int32Array.from([4, 4]);
  const ranks = new Int32Array(2);
  twin.rankTargets(h, e, 2, n1, d, targets, ladder([2]), null, null, ranks);
  assert.deepEqual(Array.from(ranks), [n1 - 1, 5]); // all 8 real items tie → worst rank; items 5..8 beat item 4
  twin.rankTargets(h, e, 2, n1, d, targets, ladder([2]), Int32Array.from([0, 3, 6]), Int32Array.from([0, 2, 2, 4, 6, 7]), ranks);
  assert.deepEqual(Array.from(ranks), [n1 - 2, 3]);
});

test('twin addSparseRowsProduct: a hand-computed case (empty row, repeated column, product rounded before the add)', () => {
  // B = [[1, 2], [3, 4]]; S row 0 = 2·B[0] + 0.5·B[1] (entries in that order), row 1 empty, row 2 = −1·B[1] + 0.25·B[1].
  const b = Float32Array.from([1, 2, 3, 4]);
  const rowStart = Int32Array.from([0, 2, 2, 4]);
  const columns = Int32Array.from([0, 1, 1, 1]);
  const weights = Float32Array.from([2, 0.5, -1, 0.25]);
  const c = Float32Array.from([10, 20, 5, 6, 0, 0]);
  twin.addSparseRowsProduct(c, 3, 2, rowStart, columns, weights, b, 2);
  assert.deepEqual(Array.from(c), [13.5, 26, 5, 6, -2.25, -3]);
  // (1 + 2^-12)² = 1 + 2^-11 + 2^-24 rounds (a tie, to even) to 1 + 2^-11 in float32, so −1 + it is 2^-11;
  // a fused multiply-add would give 2^-11 + 2^-24.
  const x = 1 + 2 ** -12;
  const one = new Float32Array(1).fill(-1);
  twin.addSparseRowsProduct(one, 1, 1, Int32Array.from([0, 1]), Int32Array.from([0]), Float32Array.from([x]), Float32Array.from([x]), 1);
  assert.equal(one[0], 2 ** -11);
});

// ---------------------------------------------------------------------------
// Native variants against the twin.

const variants = availableNativeVariants();

test('native kernels are built and at least the baseline variant runs here', () => {
  assert.ok(variants.includes('baseline'), `available native variants: [${variants.join(', ')}]`);
  for (const variant of NATIVE_VARIANTS) {
    if (!variants.includes(variant)) assert.throws(() => loadNativeKernels(variant), /CPU features|not built/);
  }
});

for (const variant of variants) {
  const native = loadNativeKernels(variant);

  test(`${native.name}: the thread pool survives many back-to-back jobs (a lost count once hung training)`, { timeout: 120_000 }, () => {
    native.setThreads(2);
    const a = new Float32Array(64 * 256).fill(0.1);
    const b = new Float32Array(256 * 256).fill(0.1);
    const c = new Float32Array(64 * 256);
    const h = new Float32Array(16 * 64).fill(0.01);
    const e = new Float32Array(300 * 64).fill(0.02);
    const targets = new Int32Array(16).fill(3);
    const gradH = new Float32Array(16 * 64);
    const gradE = new Float32Array(300 * 64);
    const dims = Int32Array.from([8, 16, 32, 64]);
    for (let i = 0; i < 20_000; i++) {
      native.sgemm(false, true, 64, 256, 256, 1, a, 256, b, 256, 0, c, 256);
      native.softmaxXentMulti(h, e, 16, 300, 64, targets, dims, 1, gradH, gradE, null, null);
    }
    assert.ok(Math.abs(c[0] - 256 * 0.01) < 1e-3);
  });

  test(`${native.name}: sgemm matches the twin (odd shapes, transposes, alpha/beta, strides, views)`, () => {
    const shapes = [
      [1, 1, 1],
      [3, 17, 33],
      [17, 3, 1],
      [33, 100, 17],
      [100, 37, 300],
      [150, 70, 520],
      [200, 130, 300],
      [5, 4, 0],
      [0, 3, 2],
    ];
    const scalars = [
      [1, 0],
      [0.5, -2],
      [0, 1.5],
    ];
    for (const [m, n, k] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const [alpha, beta] of scalars) {
            const c: SgemmCase = { transA, transB, m, n, k, alpha, beta, pad: (m + n + k) % 3 === 0 ? 0 : 5 };
            const a = randomArray((transA ? k : m) * (Math.max(1, transA ? m : k) + c.pad));
            const b = randomArray((transB ? n : k) * (Math.max(1, transB ? k : n) + c.pad));
            const c0 = randomArray(m * (Math.max(1, n) + c.pad));
            if (beta === 0) c0.fill(NaN); // beta = 0 must not read C
            const what = `sgemm ${m}x${n}x${k} tA=${transA} tB=${transB} alpha=${alpha} beta=${beta}`;
            assertClose(runSgemm(native, c, a, b, c0), runSgemm(twin, c, a, b, c0), 1e-5 * Math.sqrt(k + 1), what);
          }
        }
      }
    }
  });

  test(`${native.name}: softmaxXentMulti matches the twin (uneven ladders, ignored rows, chunks of items)`, () => {
    const cases: [number, number, number, number[]][] = [
      [1, 2, 1, [1]],
      [5, 7, 3, [1, 3]],
      [17, 33, 24, [8, 16, 24]],
      [33, 100, 12, [3, 7, 12]],
      [40, 1100, 16, [8, 16]],
      [100, 700, 100, [3, 7, 12, 50, 100]],
      [3, 1, 4, [4]],
    ];
    for (const [t, n1, d, dims] of cases) {
      const h = randomArray(t * d, 2);
      const e = randomArray(n1 * d, 2);
      const targets = new Int32Array(t).map((_, i) => (i % 4 === 3 || n1 === 1 ? 0 : rng.int(n1)));
      if (t > 1 && n1 > 1) targets[1] = n1 - 1;
      for (const [wantH, wantE] of [
        [true, true],
        [true, false],
        [false, true],
        [false, false],
      ]) {
        // Every other case with a weight per size (one of them 0).
        const weights = wantH === wantE ? Float32Array.from(dims, (_, k) => (k === 1 ? 0 : 0.5 + k)) : null;
        const got = runXent(native, h, e, t, n1, d, targets, ladder(dims), 0.37, wantH, wantE, weights);
        const want = runXent(twin, h, e, t, n1, d, targets, ladder(dims), 0.37, wantH, wantE, weights);
        const what = `softmaxXentMulti t=${t} n1=${n1} d=${d} dims=${dims}${weights ? ` weights=${weights}` : ''}`;
        assert.ok(Math.abs(got.loss - want.loss) <= 1e-5 * Math.max(1, Math.abs(want.loss)), `${what}: loss ${got.loss} vs ${want.loss}`);
        assertClose(got.perSize, want.perSize, 1e-5, `${what}: lossPerSize`);
        if (got.gradH && want.gradH) assertClose(got.gradH, want.gradH, 2e-5, `${what}: gradH`);
        if (got.gradE && want.gradE) assertClose(got.gradE, want.gradE, 2e-5, `${what}: gradE`);
      }
    }
  });

  test(`${native.name}: lruScanForward/Backward match the twin (segments of length 0 and 1, odd widths)`, () => {
    const cases: [number[], number][] = [
      [[1], 1],
      [[1, 1, 1], 3],
      [[5, 0, 1, 14], 17],
      [[100], 33],
      [[40, 1, 49, 40], 8],
    ];
    const lengths: number[] = [];
    for (let total = 0; total < 600;) {
      const length = Math.min(1 + rng.int(20), 600 - total);
      lengths.push(length);
      total += length;
    }
    cases.push([lengths, 70], [[600], 70]); // large enough to be cut into tasks
    for (const [segmentLengths, d] of cases) {
      const s = scanInputs(segmentLengths, d);
      const what = `lruScan t=${s.t} d=${d} segments=${segmentLengths.length}`;
      const [hRe, hIm] = runScanForward(native, s);
      const [wantRe, wantIm] = runScanForward(twin, s);
      assertClose(hRe, wantRe, 1e-5, `${what}: hRe`);
      assertClose(hIm, wantIm, 1e-5, `${what}: hIm`);
      const dhRe = randomArray(s.t * s.d);
      const dhIm = randomArray(s.t * s.d);
      const dLam0: [Float32Array, Float32Array] = [randomArray(d), randomArray(d)];
      const inner = (a: Float32Array): Float32Array => a.subarray(GUARD, a.length - GUARD);
      const got = runScanBackward(native, s, dhRe, dhIm, inner(wantRe), inner(wantIm), [dLam0[0].slice(), dLam0[1].slice()]);
      const want = runScanBackward(twin, s, dhRe, dhIm, inner(wantRe), inner(wantIm), [dLam0[0].slice(), dLam0[1].slice()]);
      ['duRe', 'duIm', 'dLamRe', 'dLamIm'].forEach((name, i) => assertClose(got[i], want[i], 2e-5, `${what}: ${name}`));
    }
  });

  test(`${native.name}: layerNormForward/Backward match the twin`, () => {
    const cases: [number, number[]][] = [
      [1, [0, 1]],
      [3, [0, 3, 7, 12]],
      [17, [0, 8, 16, 24]],
      [5, [0, 33]],
      [700, [0, 8, 16, 32, 64]],
    ];
    for (const [t, boundList] of cases) {
      const bounds = Int32Array.from(boundList);
      const d = boundList[boundList.length - 1];
      const x = randomArray(t * d, 3);
      const gamma = randomArray(d);
      const beta = randomArray(d);
      const what = `layerNorm t=${t} bounds=${boundList}`;
      const got = runLayerNormForward(native, x, t, bounds, gamma, beta);
      const want = runLayerNormForward(twin, x, t, bounds, gamma, beta);
      ['y', 'mean', 'rstd'].forEach((name, i) => assertClose(got[i], want[i], 1e-5, `${what}: ${name}`));
      const inner = (a: Float32Array): Float32Array => a.subarray(GUARD, a.length - GUARD);
      const dy = randomArray(t * d);
      const [dGamma0, dBeta0] = [randomArray(d), randomArray(d)];
      const gotBack = runLayerNormBackward(native, dy, x, t, bounds, gamma, inner(want[1]), inner(want[2]), dGamma0.slice(), dBeta0.slice());
      const wantBack = runLayerNormBackward(twin, dy, x, t, bounds, gamma, inner(want[1]), inner(want[2]), dGamma0.slice(), dBeta0.slice());
      ['dx', 'dGamma', 'dBeta'].forEach((name, i) => assertClose(gotBack[i], wantBack[i], 2e-5, `${what}: ${name}`));
    }
  });

  test(`${native.name}: rankTargets equals the twin exactly (ties, exclusions, NaN scores)`, () => {
    const shapes: [number, number, number, number[]][] = [
      [1, 2, 1, [1]],
      [5, 10, 3, [1, 3]],
      [17, 33, 24, [8, 16, 24]],
      [33, 700, 12, [3, 7, 12]],
      [130, 1300, 24, [8, 16, 24]],
    ];
    for (const [b, n1, d, dims] of shapes) {
      for (const exclusions of [false, true]) {
        const r = rankCase(b, n1, d, dims, exclusions);
        if (b > 2) {
          r.h.fill(0, 0, d); // user 0: every score 0, every item ties
          r.h[d] = NaN; // user 1: NaN scores count against the target
        }
        assert.deepEqual(Array.from(runRank(native, r)), Array.from(runRank(twin, r)), `rank b=${b} n1=${n1} d=${d} exclusions=${exclusions}`);
        if (b > 2 && !exclusions) {
          const ranks = runRank(native, r);
          for (let k = 0; k < dims.length; k++) {
            assert.equal(ranks[k], n1 - 1, 'all-equal scores give the worst rank');
            assert.equal(ranks[dims.length + k], n1 - 1, 'NaN scores give the worst rank');
          }
        }
      }
    }
    // Inexact (random) scores: an item that copies the target's row must tie with it
    // (the target's score is computed exactly like every other item's).
    const [b, n1, d, dims] = [40, 1100, 24, [3, 8, 24]];
    const r = rankCase(b, n1, d, dims, false);
    r.h = randomArray(b * d);
    r.e = randomArray(n1 * d);
    r.targets = new Int32Array(b).map((_, i) => 1 + 2 * i);
    const copies = new Int32Array(b).map((_, i) => n1 - 1 - 7 * i);
    copies.forEach((item, i) => r.e.copyWithin(item * d, r.targets[i] * d, (r.targets[i] + 1) * d));
    const withCopies = runRank(native, r);
    const withoutCopies = runRank(native, { ...r, offsets: Int32Array.from({ length: b + 1 }, (_, i) => i), items: copies });
    withCopies.forEach((rank, i) => assert.equal(rank, withoutCopies[i] + 1, `user ${Math.floor(i / dims.length)}: a copy of the target ties`));
  });

  test(`${native.name}: topItems equals the twin (exact ties by lower id, NaN never returned, k past the catalogue)`, () => {
    const run = (kernels: Kernels, h: Float32Array, e: Float32Array, b: number, n1: number, d: number, k: number) => {
      const ids = new Int32Array(b * k);
      const scores = new Float32Array(b * k);
      kernels.topItems(view(h), view(e), b, n1, d, k, ids, scores);
      return { ids: Array.from(ids), scores: Array.from(scores) };
    };
    const threads = native.threads();
    try {
      for (const [b, n1, d, k] of [
        [1, 2, 1, 1],
        [3, 5, 3, 7],
        [7, 300, 8, 10],
        [40, 1300, 24, 25],
        [130, 2100, 64, 50],
        [9, 700, 17, 700],
      ]) {
        for (const pool of [1, 2]) {
          native.setThreads(pool);
          // Integer inputs: exact scores and many real ties.
          const h = integerArray(b * d);
          const e = integerArray(n1 * d);
          if (b > 2) {
            h.fill(0, 0, d); // user 0: every score 0, the order is the ids'
            h[d] = NaN; // user 1: every score NaN, nothing returned
          }
          const what = `topItems b=${b} n1=${n1} d=${d} k=${k} threads=${pool}`;
          assert.deepEqual(run(native, h, e, b, n1, d, k), run(twin, h, e, b, n1, d, k), what);
          // Random inputs: the same items, scores equal to float32 rounding.
          const hr = randomArray(b * d);
          const er = randomArray(n1 * d);
          const got = run(native, hr, er, b, n1, d, k);
          const want = run(twin, hr, er, b, n1, d, k);
          assert.deepEqual(got.ids, want.ids, `${what} (random)`);
          const finite = (xs: number[]) => xs.map((x) => (Number.isFinite(x) ? x : 0)); // −∞ only past the catalogue, where the ids (0) already agree
          assertClose(finite(got.scores), finite(want.scores), 1e-5, `${what} (random) scores`);
        }
      }
    } finally {
      native.setThreads(threads);
    }
  });

  test(`${native.name}: deterministic for a thread count, close across thread counts`, () => {
    const threads = native.threads();
    const [t, n1, d] = [50, 3000, 32];
    const dims = ladder([8, 16, 32]);
    const h = randomArray(t * d);
    const e = randomArray(n1 * d);
    const targets = new Int32Array(t).map(() => 1 + rng.int(n1 - 1));
    const s = scanInputs(
      Array.from({ length: 200 }, () => 1 + rng.int(9)),
      64,
    );
    const dh = [randomArray(s.t * s.d), randomArray(s.t * s.d)];
    const bounds = Int32Array.from([0, 8, 16, 32]);
    const x = randomArray(2000 * 32);
    const gamma = randomArray(32);
    const beta = randomArray(32);
    const r = rankCase(300, 1500, 24, [8, 16, 24], true);
    const a = randomArray(300 * 200);
    const bm = randomArray(200 * 250);
    const run = (): Float32Array[] => {
      const xent = runXent(native, h, e, t, n1, d, targets, dims, 0.1, true, true);
      const [hRe, hIm] = runScanForward(native, s).map((v) => v.subarray(GUARD, v.length - GUARD));
      const scan = runScanBackward(native, s, dh[0], dh[1], hRe, hIm, [new Float32Array(s.d), new Float32Array(s.d)]);
      const [, mean, rstd] = runLayerNormForward(native, x, 2000, bounds, gamma, beta).map((v) => v.subarray(GUARD, v.length - GUARD));
      const norm = runLayerNormBackward(native, x, x, 2000, bounds, gamma, mean, rstd, new Float32Array(32), new Float32Array(32));
      const product = runSgemm(native, { transA: false, transB: false, m: 300, n: 250, k: 200, alpha: 1, beta: 0, pad: 0 }, a, bm, new Float32Array(300 * 250));
      return [Float32Array.from(xent.perSize), xent.gradH!, xent.gradE!, ...scan, ...norm, product, new Float32Array(runRank(native, r))];
    };
    try {
      native.setThreads(2);
      assert.equal(native.threads(), 2);
      const first = run();
      const second = run();
      first.forEach((values, i) => assert.deepEqual(Buffer.from(values.buffer), Buffer.from(second[i].buffer), `output ${i} differs between runs`));
      native.setThreads(1);
      const single = run();
      first.forEach((values, i) => assertClose(single[i], values, 1e-5, `output ${i}, 1 vs 2 threads`));
    } finally {
      native.setThreads(threads);
    }
  });
  test(`${native.name}: addRowVector and addColumnSums equal the twin bit for bit (odd widths, 1 to 3 threads)`, () => {
    const threads = native.threads();
    const shapes: [number, number][] = [];
    for (const t of [0, 1, 3, 17, 100, 3000]) for (const d of [1, 3, 17, 255, 1025]) shapes.push([t, d]);
    shapes.push([20_000, 3], [5, 0]);
    try {
      for (const n of [1, 3, threads]) {
        native.setThreads(n);
        for (const [t, d] of shapes) {
          const x = spreadArray(t * d);
          const v = spreadArray(d);
          const what = `t=${t} d=${d} threads=${n}`;
          assertSameBits(runAddRowVector(native, x, t, d, v), runAddRowVector(twin, x, t, d, v), `addRowVector ${what}`);
          assertSameBits(runAddColumnSums(native, x, t, d, v), runAddColumnSums(twin, x, t, d, v), `addColumnSums ${what}`);
        }
      }
    } finally {
      native.setThreads(threads);
    }
  });

  test(`${native.name}: addSparseRowsProduct equals the twin bit for bit (odd widths, empty rows, repeats, a heavy row, 1 to 3 threads)`, () => {
    const threads = native.threads();
    // [rows, d, bRows, mean entries per row, heavy row, its entries]
    const shapes: [number, number, number, number, number, number][] = [
      [0, 7, 5, 2, -1, 0],
      [1, 1, 1, 1, -1, 0],
      [3, 7, 4, 3, -1, 0],
      [5, 17, 9, 4, -1, 0],
      [17, 259, 40, 3, -1, 0],
      [40, 81, 1, 3, -1, 0],
      [6, 3, 0, 2, -1, 0],
      [4, 0, 6, 2, -1, 0],
      [1500, 259, 120, 4, -1, 0], // the item table's forward, scaled down: many light rows
      [120, 259, 1500, 40, 7, 1400], // its transpose: few rows, one of them heavy (the columns are cut too)
      [2, 256, 300, 2, 1, 3000], // one row that is almost all the work
    ];
    try {
      for (const [rows, d, bRows, mean, heavyRow, heavyEntries] of shapes) {
        const s = sparseRows(rows, bRows, mean, heavyRow, heavyEntries);
        const b = spreadArray(bRows * d);
        const c0 = spreadArray(rows * d);
        const want = runAddSparseRowsProduct(twin, c0, rows, d, s, b, bRows);
        for (const n of [1, 2, 3, threads]) {
          native.setThreads(n);
          const what = `addSparseRowsProduct rows=${rows} d=${d} bRows=${bRows} entries=${s.columns.length} threads=${n}`;
          assertSameBits(runAddSparseRowsProduct(native, c0, rows, d, s, b, bRows), want, what);
        }
      }
      // Products that round (a tie, to even) before the add, in every path (blocks, vectors, the scalar tail):
      // a fused multiply-add would differ.
      const d = 64 + 16 + 1;
      const x = 1 + 2 ** -12;
      const c = new Float32Array(2 * d).fill(-1);
      native.addSparseRowsProduct(c, 2, d, Int32Array.from([0, 0, 1]), Int32Array.from([0]), Float32Array.from([x]), new Float32Array(d).fill(x), 1);
      assert.deepEqual(Array.from(c), [...new Array(d).fill(-1), ...new Array(d).fill(2 ** -11)]);
    } finally {
      native.setThreads(threads);
    }
  });

  test(`${native.name}: adamwUpdate equals the twin bit for bit (odd ranges, special gradients, 1 to 3 threads)`, () => {
    const threads = native.threads();
    const ranges: [number, number][] = [
      [0, 0],
      [0, 1],
      [3, 1],
      [5, 3],
      [1, 17],
      [13, 255],
      [7, 1025],
      [3, 70_001],
    ];
    try {
      for (const n of [1, 3, threads]) {
        native.setThreads(n);
        for (const [offset, size] of ranges) {
          const s = adamwState(offset + size + 5);
          for (const [step, lr, decay] of [
            [1, 1e-3, 0.01],
            [2, 0.05, 0],
            [1000, 1e-4, 0.1],
          ]) {
            const got = runAdamw(native, s, offset, size, step, lr, decay);
            const want = runAdamw(twin, s, offset, size, step, lr, decay);
            ['params', 'm', 'v'].forEach((name, i) =>
              assertSameBits(got[i], want[i], `adamwUpdate ${name} offset=${offset} size=${size} step=${step} threads=${n}`),
            );
          }
        }
      }
    } finally {
      native.setThreads(threads);
    }
  });
}

// ---------------------------------------------------------------------------
// Argument checks and selection.

for (const kernels of [twin, ...variants.map((variant) => loadNativeKernels(variant))]) {
  test(`${kernels.name}: rejects arrays that are too short, bad ladders and overlapping outputs`, () => {
    const a = new Float32Array(12);
    const c = new Float32Array(9);
    assert.throws(() => kernels.sgemm(false, false, 3, 3, 4, 1, a.subarray(1), 4, a, 3, 0, c, 3), /sgemm: a is too short/);
    assert.throws(() => kernels.sgemm(false, false, 3, 3, 4, 1, a, 3, a, 3, 0, c, 3), /row stride of a/);
    assert.throws(() => kernels.sgemm(false, false, 2, 2, 2, 1, a, 2, a.subarray(4), 2, 0, a.subarray(6), 2), /c must not overlap/);
    const targets = Int32Array.from([1, 7]);
    assert.throws(() => kernels.softmaxXentMulti(a, a, 2, 3, 2, targets, ladder([2]), 1, null, null, null, null), /targets\[1\] = 7 is outside/);
    assert.throws(
      () => kernels.softmaxXentMulti(a, a, 2, 3, 2, Int32Array.from([1, 2]), ladder([2, 1]), 1, null, null, null, null),
      /dims must be strictly ascending/,
    );
    assert.throws(() => kernels.lruScanForward(a, a, a, a, Int32Array.from([0, 2]), 3, 2, c, c.subarray(3)), /segments must rise/);
    assert.throws(() => kernels.lruScanForward(a, a, a, a, Int32Array.from([0, 3]), 3, 2, c, c.subarray(3)), /hRe must not overlap hIm/);
    assert.throws(() => kernels.layerNormForward(a, 2, 4, Int32Array.from([0, 2, 3]), a, a, 1e-5, c, c, c), /bounds must rise strictly from 0 to 4/);
    assert.throws(
      () => kernels.rankTargets(a, a, 2, 3, 2, Int32Array.from([1, 2]), ladder([2]), Int32Array.from([0, 0, 0]), null, new Int32Array(2)),
      /given together/,
    );
    assert.throws(() => kernels.rankTargets(a, a, 2, 3, 2, Int32Array.from([1, 2]), ladder([2]), null, null, new Int32Array(1)), /ranks is too short/);
    assert.throws(() => kernels.addRowVector(a, 3, 5, c), /addRowVector: y is too short \(has 12, needs 15\)/);
    assert.throws(() => kernels.addRowVector(a, 2, 4, c.subarray(6)), /addRowVector: v is too short/);
    assert.throws(() => kernels.addRowVector(a, 2, 4, a.subarray(8)), /addRowVector: y must not overlap v/);
    assert.throws(() => kernels.addColumnSums(a, 3, 4, c.subarray(6)), /addColumnSums: acc is too short \(has 3, needs 4\)/);
    assert.throws(() => kernels.addColumnSums(a, 2, -1, c), /addColumnSums: d must be a non-negative integer/);
    assert.throws(() => kernels.addColumnSums(a, 2, 4, a.subarray(8)), /addColumnSums: acc must not overlap x/);
    const sparse = (cc: Float32Array, rows: number, d: number, rowStart: number[], columns: number[], weights: Float32Array, b: Float32Array, bRows: number) =>
      kernels.addSparseRowsProduct(cc, rows, d, Int32Array.from(rowStart), Int32Array.from(columns), weights, b, bRows);
    const w3 = new Float32Array(3);
    assert.doesNotThrow(() => sparse(c, 2, 3, [0, 2, 3], [0, 1, 1], w3, a, 2));
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, 2, 1], w3, a, 2), /addSparseRowsProduct: columns\[1\] = 2 is outside 0\.\.1/);
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, -1, 1], w3, a, 2), /addSparseRowsProduct: columns\[1\] = -1 is outside 0\.\.1/);
    assert.throws(() => sparse(c, 2, 3, [0, 2], [0, 1, 1], w3, a, 2), /addSparseRowsProduct: rowStart is too short \(has 2, needs 3\)/);
    assert.throws(() => sparse(c, 2, 3, [1, 2, 3], [0, 1, 1], w3, a, 2), /addSparseRowsProduct: rowStart must rise from 0/);
    assert.throws(() => sparse(c, 2, 3, [0, 3, 2], [0, 1, 1], w3, a, 2), /addSparseRowsProduct: rowStart must rise from 0/);
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, 1], w3, a, 2), /addSparseRowsProduct: columns is too short \(has 2, needs 3\)/);
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, 1, 1], w3.subarray(1), a, 2), /addSparseRowsProduct: weights is too short \(has 2, needs 3\)/);
    assert.throws(() => sparse(c.subarray(4), 2, 3, [0, 2, 3], [0, 1, 1], w3, a, 2), /addSparseRowsProduct: c is too short \(has 5, needs 6\)/);
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, 1, 1], w3, a, 5), /addSparseRowsProduct: b is too short \(has 12, needs 15\)/);
    assert.throws(() => sparse(c, -1, 3, [0, 2, 3], [0, 1, 1], w3, a, 2), /addSparseRowsProduct: rows must be a non-negative integer/);
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, 1, 1], w3, a, 1.5), /addSparseRowsProduct: bRows must be a non-negative integer/);
    assert.throws(() => sparse(a.subarray(0, 6), 2, 3, [0, 2, 3], [0, 1, 1], w3, a.subarray(4), 2), /addSparseRowsProduct: c must not overlap b/);
    assert.throws(() => sparse(c, 2, 3, [0, 2, 3], [0, 1, 1], c.subarray(6), a, 2), /addSparseRowsProduct: c must not overlap weights/);
    const [p, m, v] = [new Float32Array(16), new Float32Array(16), new Float32Array(16)];
    const adamw = (params: Float32Array, grads: Float32Array, mm: Float32Array, offset: number, size: number) =>
      kernels.adamwUpdate(params, grads, mm, v, offset, size, 0.9, 0.999, 1e-8, 1e-3, 1, 1);
    assert.throws(() => adamw(p, a, m, 5, 8), /adamwUpdate: grads is too short \(has 12, needs 13\)/);
    assert.throws(() => adamw(p.subarray(4), m, m, 0, 12), /adamwUpdate: m must not overlap grads/);
    assert.throws(() => adamw(p, c, v, 0, 8), /adamwUpdate: m must not overlap v/);
    assert.throws(() => adamw(p, a, m, 1.5, 2), /adamwUpdate: offset must be a non-negative integer/);
    assert.throws(() => kernels.setThreads(0), /thread count/);
  });
}

test('FMRLREC_KERNELS selects the kernels, and a bad value is a clear error', () => {
  const entry = path.resolve(__dirname, '..', 'src', 'kernels', 'index.js');
  const nameWith = (value: string) =>
    spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(entry)}).getKernels().name)`], {
      env: { ...process.env, FMRLREC_KERNELS: value },
      encoding: 'utf8',
    });
  assert.equal(nameWith('typescript').stdout.trim(), 'typescript');
  for (const variant of variants) assert.equal(nameWith(variant).stdout.trim(), `native-${variant}`);
  const bad = nameWith('fastest');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /FMRLREC_KERNELS=fastest is not one of typescript, avx512, avx2, baseline/);
});
