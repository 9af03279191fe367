/**
 * The plain TypeScript twin of the native kernels: simple loops that follow the
 * doc comments of ./types.ts line by line, accumulating in float64 unless the
 * doc comment fixes the arithmetic (addColumnSums, addSparseRowsProduct,
 * adamwUpdate). It is the
 * reference the addon is tested against and the fallback when the addon is not
 * built. Slow (tens of MFLOP/s): meant for tests and small runs.
 */
import type { Kernels } from './types';
import { checkBounds, checkCount, checkDims, checkItems, checkLength, checkMatrix, checkNoOverlap, checkRowStart, checkSegments, fail } from './validate';

function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  const K = 'sgemm';
  checkCount(K, 'm', m);
  checkCount(K, 'n', n);
  checkCount(K, 'k', k);
  checkMatrix(K, 'a', a, transA ? k : m, transA ? m : k, lda);
  checkMatrix(K, 'b', b, transB ? n : k, transB ? k : n, ldb);
  checkMatrix(K, 'c', c, m, n, ldc);
  checkNoOverlap(K, { c }, { a, b });
  const opA = (i: number, p: number): number => (transA ? a[p * lda + i] : a[i * lda + p]);
  const opB = (p: number, j: number): number => (transB ? b[j * ldb + p] : b[p * ldb + j]);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += opA(i, p) * opB(p, j);
      c[i * ldc + j] = beta === 0 ? alpha * sum : alpha * sum + beta * c[i * ldc + j];
    }
  }
}

function softmaxXentMulti(
  h: Float32Array,
  e: Float32Array,
  t: number,
  n1: number,
  d: number,
  targets: Int32Array,
  dims: Int32Array,
  scale: number,
  gradH: Float32Array | null,
  gradE: Float32Array | null,
  lossPerSize: Float64Array | null,
  sizeWeights: Float32Array | null,
): number {
  const K = 'softmaxXentMulti';
  checkCount(K, 't', t);
  checkCount(K, 'n1', n1);
  checkCount(K, 'd', d);
  if (n1 < 1) fail(K, 'n1 must be at least 1');
  checkLength(K, 'h', h, t * d);
  checkLength(K, 'e', e, n1 * d);
  checkLength(K, 'targets', targets, t);
  checkItems(K, 'targets', targets, t, 0, n1);
  checkDims(K, dims, d);
  if (gradH) checkLength(K, 'gradH', gradH, t * d);
  if (gradE) checkLength(K, 'gradE', gradE, n1 * d);
  if (lossPerSize) checkLength(K, 'lossPerSize', lossPerSize, dims.length);
  if (sizeWeights) checkLength(K, 'sizeWeights', sizeWeights, dims.length);
  checkNoOverlap(K, { gradH, gradE, lossPerSize }, { h, e, targets, dims, sizeWeights });

  const perSize = new Float64Array(dims.length);
  const gH = new Float64Array(gradH ? t * d : 0);
  const gE = new Float64Array(gradE ? n1 * d : 0);
  const z = new Float64Array(n1);
  for (let row = 0; row < t; row++) {
    const target = targets[row];
    if (target === 0) continue;
    z.fill(0);
    let done = 0; // z holds the logits of the first `done` dimensions
    for (let k = 0; k < dims.length; k++) {
      const m = dims[k];
      for (let j = 0; j < n1; j++) {
        for (let p = done; p < m; p++) z[j] += h[row * d + p] * e[j * d + p];
      }
      done = m;
      let max = -Infinity;
      for (let j = 0; j < n1; j++) max = Math.max(max, z[j]);
      let sumExp = 0;
      for (let j = 0; j < n1; j++) sumExp += Math.exp(z[j] - max);
      const logSumExp = max + Math.log(sumExp);
      perSize[k] += logSumExp - z[target];
      if (!gradH && !gradE) continue;
      for (let j = 0; j < n1; j++) {
        const g = scale * (sizeWeights ? sizeWeights[k] : 1) * (Math.exp(z[j] - logSumExp) - (j === target ? 1 : 0));
        for (let p = 0; p < m; p++) {
          if (gradH) gH[row * d + p] += g * e[j * d + p];
          if (gradE) gE[j * d + p] += g * h[row * d + p];
        }
      }
    }
  }
  if (gradH) gradH.set(gH);
  if (gradE) gradE.set(gE);
  if (lossPerSize) lossPerSize.set(perSize);
  return perSize.reduce((sum, loss) => sum + loss, 0);
}

function checkScanArgs(
  K: string,
  arrays: Record<string, Float32Array>,
  lamRe: Float32Array,
  lamIm: Float32Array,
  segments: Int32Array,
  t: number,
  d: number,
): void {
  checkCount(K, 't', t);
  checkCount(K, 'd', d);
  for (const [name, array] of Object.entries(arrays)) checkLength(K, name, array, t * d);
  checkLength(K, 'lamRe', lamRe, d);
  checkLength(K, 'lamIm', lamIm, d);
  checkSegments(K, segments, t);
}

function lruScanForward(
  uRe: Float32Array,
  uIm: Float32Array,
  lamRe: Float32Array,
  lamIm: Float32Array,
  segments: Int32Array,
  t: number,
  d: number,
  hRe: Float32Array,
  hIm: Float32Array,
): void {
  const K = 'lruScanForward';
  checkScanArgs(K, { uRe, uIm, hRe, hIm }, lamRe, lamIm, segments, t, d);
  checkNoOverlap(K, { hRe, hIm }, { uRe, uIm, lamRe, lamIm, segments });
  for (let s = 0; s + 1 < segments.length; s++) {
    for (let c = 0; c < d; c++) {
      let re = 0; // h_{r-1}, zero before the segment's first row
      let im = 0;
      for (let r = segments[s]; r < segments[s + 1]; r++) {
        const i = r * d + c;
        const nextRe = lamRe[c] * re - lamIm[c] * im + uRe[i];
        const nextIm = lamRe[c] * im + lamIm[c] * re + uIm[i];
        re = nextRe;
        im = nextIm;
        hRe[i] = re;
        hIm[i] = im;
      }
    }
  }
}

function lruScanBackward(
  dhRe: Float32Array,
  dhIm: Float32Array,
  hRe: Float32Array,
  hIm: Float32Array,
  lamRe: Float32Array,
  lamIm: Float32Array,
  segments: Int32Array,
  t: number,
  d: number,
  duRe: Float32Array,
  duIm: Float32Array,
  dLamRe: Float32Array,
  dLamIm: Float32Array,
): void {
  const K = 'lruScanBackward';
  checkScanArgs(K, { dhRe, dhIm, hRe, hIm, duRe, duIm }, lamRe, lamIm, segments, t, d);
  checkLength(K, 'dLamRe', dLamRe, d);
  checkLength(K, 'dLamIm', dLamIm, d);
  checkNoOverlap(K, { duRe, duIm, dLamRe, dLamIm }, { dhRe, dhIm, hRe, hIm, lamRe, lamIm, segments });
  for (let c = 0; c < d; c++) {
    let sumRe = 0;
    let sumIm = 0;
    for (let s = 0; s + 1 < segments.length; s++) {
      let gRe = 0; // g_{r+1}, zero beyond the segment's last row
      let gIm = 0;
      for (let r = segments[s + 1] - 1; r >= segments[s]; r--) {
        const i = r * d + c;
        // g_r = dh_r + conj(λ) · g_{r+1}
        const nextRe = dhRe[i] + lamRe[c] * gRe + lamIm[c] * gIm;
        const nextIm = dhIm[i] + lamRe[c] * gIm - lamIm[c] * gRe;
        gRe = nextRe;
        gIm = nextIm;
        duRe[i] = gRe;
        duIm[i] = gIm;
        if (r > segments[s]) {
          // dλ += g_r · conj(h_{r-1})
          const prevRe = hRe[i - d];
          const prevIm = hIm[i - d];
          sumRe += gRe * prevRe + gIm * prevIm;
          sumIm += gIm * prevRe - gRe * prevIm;
        }
      }
    }
    dLamRe[c] += sumRe;
    dLamIm[c] += sumIm;
  }
}

function layerNormForward(
  x: Float32Array,
  t: number,
  d: number,
  bounds: Int32Array,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  y: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  const K = 'layerNormForward';
  checkCount(K, 't', t);
  checkCount(K, 'd', d);
  checkBounds(K, bounds, d);
  const chunks = bounds.length - 1;
  checkLength(K, 'x', x, t * d);
  checkLength(K, 'gamma', gamma, d);
  checkLength(K, 'beta', beta, d);
  checkLength(K, 'y', y, t * d);
  checkLength(K, 'mean', mean, t * chunks);
  checkLength(K, 'rstd', rstd, t * chunks);
  checkNoOverlap(K, { y, mean, rstd }, { x, bounds, gamma, beta });
  layerNormForwardLoops(x, t, d, bounds, gamma, beta, eps, y, mean, rstd);
}

function layerNormForwardLoops(
  x: Float32Array,
  t: number,
  d: number,
  bounds: Int32Array,
  gamma: Float32Array,
  beta: Float32Array,
  eps: number,
  y: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
): void {
  const chunks = bounds.length - 1;
  for (let row = 0; row < t; row++) {
    for (let k = 0; k < chunks; k++) {
      const lo = row * d + bounds[k];
      const hi = row * d + bounds[k + 1];
      let sum = 0;
      for (let i = lo; i < hi; i++) sum += x[i];
      const mu = sum / (hi - lo);
      let squares = 0;
      for (let i = lo; i < hi; i++) squares += (x[i] - mu) * (x[i] - mu);
      const r = 1 / Math.sqrt(squares / (hi - lo) + eps);
      for (let i = lo; i < hi; i++) y[i] = (x[i] - mu) * r * gamma[i - row * d] + beta[i - row * d];
      mean[row * chunks + k] = mu;
      rstd[row * chunks + k] = r;
    }
  }
}

function layerNormBackward(
  dy: Float32Array,
  x: Float32Array,
  t: number,
  d: number,
  bounds: Int32Array,
  gamma: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  dx: Float32Array,
  dGamma: Float32Array,
  dBeta: Float32Array,
): void {
  const K = 'layerNormBackward';
  checkCount(K, 't', t);
  checkCount(K, 'd', d);
  checkBounds(K, bounds, d);
  const chunks = bounds.length - 1;
  checkLength(K, 'dy', dy, t * d);
  checkLength(K, 'x', x, t * d);
  checkLength(K, 'gamma', gamma, d);
  checkLength(K, 'mean', mean, t * chunks);
  checkLength(K, 'rstd', rstd, t * chunks);
  checkLength(K, 'dx', dx, t * d);
  checkLength(K, 'dGamma', dGamma, d);
  checkLength(K, 'dBeta', dBeta, d);
  checkNoOverlap(K, { dx, dGamma, dBeta }, { dy, x, bounds, gamma, mean, rstd });
  const sumGamma = new Float64Array(d);
  const sumBeta = new Float64Array(d);
  for (let row = 0; row < t; row++) {
    for (let k = 0; k < chunks; k++) {
      const mu = mean[row * chunks + k];
      const r = rstd[row * chunks + k];
      const n = bounds[k + 1] - bounds[k];
      let meanDxhat = 0; // mean of dy·gamma over the chunk
      let meanDxhatXhat = 0; // mean of dy·gamma·xhat
      for (let c = bounds[k]; c < bounds[k + 1]; c++) {
        const xhat = (x[row * d + c] - mu) * r;
        const dxhat = dy[row * d + c] * gamma[c];
        meanDxhat += dxhat / n;
        meanDxhatXhat += (dxhat * xhat) / n;
        sumGamma[c] += dy[row * d + c] * xhat;
        sumBeta[c] += dy[row * d + c];
      }
      for (let c = bounds[k]; c < bounds[k + 1]; c++) {
        const xhat = (x[row * d + c] - mu) * r;
        const dxhat = dy[row * d + c] * gamma[c];
        dx[row * d + c] = r * (dxhat - meanDxhat - xhat * meanDxhatXhat);
      }
    }
  }
  for (let c = 0; c < d; c++) {
    dGamma[c] += sumGamma[c];
    dBeta[c] += sumBeta[c];
  }
}

function rankTargets(
  h: Float32Array,
  e: Float32Array,
  b: number,
  n1: number,
  d: number,
  targets: Int32Array,
  dims: Int32Array,
  excludeOffsets: Int32Array | null,
  excludeItems: Int32Array | null,
  ranks: Int32Array,
): void {
  const K = 'rankTargets';
  checkCount(K, 'b', b);
  checkCount(K, 'n1', n1);
  checkCount(K, 'd', d);
  checkLength(K, 'h', h, b * d);
  checkLength(K, 'e', e, n1 * d);
  checkLength(K, 'targets', targets, b);
  checkItems(K, 'targets', targets, b, 1, n1);
  checkDims(K, dims, d);
  checkLength(K, 'ranks', ranks, b * dims.length);
  if ((excludeOffsets === null) !== (excludeItems === null)) fail(K, 'excludeOffsets and excludeItems must be given together');
  if (excludeOffsets && excludeItems) {
    checkLength(K, 'excludeOffsets', excludeOffsets, b + 1);
    for (let i = 0; i < b; i++) {
      if (excludeOffsets[i] < 0 || excludeOffsets[i + 1] < excludeOffsets[i]) fail(K, 'excludeOffsets must be non-negative and non-decreasing');
    }
    checkLength(K, 'excludeItems', excludeItems, b > 0 ? excludeOffsets[b] : 0);
    checkItems(K, 'excludeItems', excludeItems, b > 0 ? excludeOffsets[b] : 0, 0, n1);
  }
  checkNoOverlap(K, { ranks }, { h, e, targets, dims, excludeOffsets, excludeItems });

  const score = (row: number, item: number, m: number): number => {
    let sum = 0;
    for (let p = 0; p < m; p++) sum += h[row * d + p] * e[item * d + p];
    return sum;
  };
  for (let row = 0; row < b; row++) {
    const target = targets[row];
    const excluded = new Set<number>();
    if (excludeOffsets && excludeItems) {
      for (let x = excludeOffsets[row]; x < excludeOffsets[row + 1]; x++) excluded.add(excludeItems[x]);
    }
    for (let k = 0; k < dims.length; k++) {
      const targetScore = score(row, target, dims[k]);
      let rank = 1;
      for (let item = 1; item < n1; item++) {
        if (item === target || excluded.has(item)) continue;
        // ties and NaN count against the target: "not below" rather than ">="
        if (!(score(row, item, dims[k]) < targetScore)) rank++;
      }
      ranks[row * dims.length + k] = rank;
    }
  }
}

function topItems(h: Float32Array, e: Float32Array, b: number, n1: number, d: number, k: number, ids: Int32Array, scores: Float32Array): void {
  const K = 'topItems';
  checkCount(K, 'b', b);
  checkCount(K, 'n1', n1);
  checkCount(K, 'd', d);
  checkCount(K, 'k', k);
  checkLength(K, 'h', h, b * d);
  checkLength(K, 'e', e, n1 * d);
  checkLength(K, 'ids', ids, b * k);
  checkLength(K, 'scores', scores, b * k);
  checkNoOverlap(K, { ids, scores }, { h, e });
  for (let row = 0; row < b; row++) {
    const ranked: { id: number; score: number }[] = [];
    for (let item = 1; item < n1; item++) {
      let sum = 0;
      for (let p = 0; p < d; p++) sum += h[row * d + p] * e[item * d + p];
      const score = Math.fround(sum);
      if (score === score) ranked.push({ id: item, score });
    }
    ranked.sort((x, y) => y.score - x.score || x.id - y.id);
    for (let r = 0; r < k; r++) {
      ids[row * k + r] = r < ranked.length ? ranked[r].id : 0;
      scores[row * k + r] = r < ranked.length ? ranked[r].score : -Infinity;
    }
  }
}

function addRowVector(y: Float32Array, t: number, d: number, v: Float32Array): void {
  const K = 'addRowVector';
  checkCount(K, 't', t);
  checkCount(K, 'd', d);
  checkLength(K, 'y', y, t * d);
  checkLength(K, 'v', v, d);
  checkNoOverlap(K, { y }, { v });
  addRowVectorLoops(y, t, d, v);
}

function addRowVectorLoops(y: Float32Array, t: number, d: number, v: Float32Array): void {
  for (let r = 0; r < t; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) y[o + j] += v[j];
  }
}

function addColumnSums(x: Float32Array, t: number, d: number, acc: Float32Array): void {
  const K = 'addColumnSums';
  checkCount(K, 't', t);
  checkCount(K, 'd', d);
  checkLength(K, 'x', x, t * d);
  checkLength(K, 'acc', acc, d);
  checkNoOverlap(K, { acc }, { x });
  for (let r = 0; r < t; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) acc[j] += x[o + j]; // rounded to float32 row by row
  }
}

function addSparseRowsProduct(
  c: Float32Array,
  rows: number,
  d: number,
  rowStart: Int32Array,
  columns: Int32Array,
  weights: Float32Array,
  b: Float32Array,
  bRows: number,
): void {
  const K = 'addSparseRowsProduct';
  checkCount(K, 'rows', rows);
  checkCount(K, 'd', d);
  checkCount(K, 'bRows', bRows);
  checkLength(K, 'c', c, rows * d);
  checkLength(K, 'rowStart', rowStart, rows + 1);
  checkRowStart(K, rowStart, rows);
  const entries = rowStart[rows];
  checkLength(K, 'columns', columns, entries);
  checkLength(K, 'weights', weights, entries);
  checkLength(K, 'b', b, bRows * d);
  checkItems(K, 'columns', columns, entries, 0, bRows);
  checkNoOverlap(K, { c }, { rowStart, columns, weights, b });
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let p = rowStart[r]; p < rowStart[r + 1]; p++) {
      const w = weights[p];
      const q = columns[p] * d;
      for (let k = 0; k < d; k++) c[o + k] += Math.fround(w * b[q + k]); // float32 product, then a float32 add
    }
  }
}

function adamwUpdate(
  params: Float32Array,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  offset: number,
  size: number,
  beta1: number,
  beta2: number,
  eps: number,
  stepSize: number,
  invSqrtBc2: number,
  keep: number,
): void {
  const K = 'adamwUpdate';
  checkCount(K, 'offset', offset);
  checkCount(K, 'size', size);
  for (const [name, array] of Object.entries({ params, grads, m, v })) checkLength(K, name, array, offset + size);
  checkNoOverlap(K, { params, m, v }, { grads });
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  const end = offset + size;
  for (let i = offset; i < end; i++) {
    const g = grads[i];
    const mi = beta1 * m[i] + c1 * g;
    const vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = params[i] * keep - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
  }
}

/** The TypeScript twin of the native kernels (name "typescript", one thread). */
export const referenceKernels: Kernels = {
  name: 'typescript',
  threads: () => 1,
  setThreads: (n: number) => {
    if (!Number.isInteger(n) || n < 1 || n > 1024) fail('setThreads', `thread count must be an integer in 1..1024 (got ${n})`);
  },
  sgemm,
  softmaxXentMulti,
  lruScanForward,
  lruScanBackward,
  layerNormForward,
  layerNormBackward,
  rankTargets,
  topItems,
  addRowVector,
  addColumnSums,
  addSparseRowsProduct,
  adamwUpdate,
};

/**
 * layerNormForward and addRowVector of the twin without their argument
 * checks, for a caller that makes the arguments itself: the inference
 * engine, whose per-request forwards are so small that the checks would cost
 * more than the arithmetic (reading .buffer of a small typed array allocates).
 */
export const uncheckedForwardLoops: Pick<Kernels, 'layerNormForward' | 'addRowVector'> = {
  layerNormForward: layerNormForwardLoops,
  addRowVector: addRowVectorLoops,
};
