/**
 * Linear Recurrent Unit layer, diagonal complex, MRL-shaped (docs/method.md §4):
 *   v_t = B x_t + b_B                 (complex MRL linear on a real input)
 *   u_t = γ ⊙ v_t,                    γ = exp(γ_log)
 *   h_t = λ ⊙ h_{t−1} + u_t           (reset at the start of each segment)
 *   y_t = Re(C h_t) + Re(b_C)         (complex MRL linear, real part)
 *   out_t = dropout(y_t)
 * with λ = exp(−exp(ν_log) + i·exp(θ_log)). Complex weights are held as separate
 * real and imaginary D×D MRL matrices: B = in_re + i·in_im, C = out_re + i·out_im,
 * so y = h_re·out_reᵀ − h_im·out_imᵀ + b_out_re.
 *
 * Shapes: x, out: T×D; every activation T×D; ν_log, θ_log, γ_log: D. The
 * inference pieces (lruInput, lruSteps, lruOutput) work at any width m of the
 * ladder (T×m activations), reading the width-D weights at row stride D.
 */
import type { Kernels } from '../../kernels/types';
import type { Rng } from '../../util/rng';
import type { ParamReader, ParamStore } from '../params';
import { gatherRows } from '../rows';
import { applyMask, dropoutMask } from './dropout';
import { LinearKernels, mrlLinearBackward, mrlLinearForward, mrlLinearInit } from './mrl-linear';

/** Parameter names of one LRU layer under a prefix such as "blocks.0.lru". */
export function lruParamNames(prefix: string) {
  return {
    nuLog: `${prefix}.nu_log`,
    thetaLog: `${prefix}.theta_log`,
    gammaLog: `${prefix}.gamma_log`,
    inReW: `${prefix}.in_re.weight`,
    inReB: `${prefix}.in_re.bias`,
    inImW: `${prefix}.in_im.weight`,
    inImB: `${prefix}.in_im.bias`,
    outReW: `${prefix}.out_re.weight`,
    outReB: `${prefix}.out_re.bias`,
    outImW: `${prefix}.out_im.weight`,
  };
}

/** Declare the layer's parameters (width d) under `prefix`. */
export function declareLru(store: ParamStore, prefix: string, d: number): void {
  const n = lruParamNames(prefix);
  store.declare(n.nuLog, [d], true);
  store.declare(n.thetaLog, [d], true);
  store.declare(n.gammaLog, [d], true);
  store.declare(n.inReW, [d, d], true);
  store.declare(n.inReB, [d], false);
  store.declare(n.inImW, [d, d], true);
  store.declare(n.inImB, [d], false);
  store.declare(n.outReW, [d, d], true);
  store.declare(n.outReB, [d], false);
  store.declare(n.outImW, [d, d], true);
}

/** docs/method.md §5 initialisation: ring-initialised λ, PyTorch-default real parts, imaginary parts 0. */
export function initLru(store: ParamStore, prefix: string, bounds: Int32Array, rMin: number, rMax: number, rng: Rng): void {
  const n = lruParamNames(prefix);
  const nu = store.value(n.nuLog);
  const theta = store.value(n.thetaLog);
  const gamma = store.value(n.gammaLog);
  for (let j = 0; j < nu.length; j++) {
    const u1 = rng.uniform();
    const u2 = rng.uniform();
    const nuLog = Math.log(-0.5 * Math.log(u1 * (rMax * rMax - rMin * rMin) + rMin * rMin));
    nu[j] = nuLog;
    theta[j] = Math.log(2 * Math.PI * u2);
    const mod = Math.exp(-Math.exp(nuLog));
    gamma[j] = Math.log(Math.sqrt(1 - mod * mod));
  }
  const uniform = () => rng.uniform();
  mrlLinearInit(store.value(n.inReW), store.value(n.inReB), bounds, uniform);
  mrlLinearInit(store.value(n.outReW), store.value(n.outReB), bounds, uniform);
  store.value(n.inImW).fill(0);
  store.value(n.inImB).fill(0);
  store.value(n.outImW).fill(0);
}

/** λ = exp(−exp(ν_log) + i·exp(θ_log)) (re, im) and γ = exp(γ_log), element by element. */
export function lruCoefficients(nuLog: Float32Array, thetaLog: Float32Array, gammaLog: Float32Array) {
  const d = nuLog.length;
  const lamRe = new Float32Array(d);
  const lamIm = new Float32Array(d);
  const gamma = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const r = Math.exp(-Math.exp(nuLog[j]));
    const phi = Math.exp(thetaLog[j]);
    lamRe[j] = r * Math.cos(phi);
    lamIm[j] = r * Math.sin(phi);
    gamma[j] = Math.exp(gammaLog[j]);
  }
  return { lamRe, lamIm, gamma };
}

/**
 * An LRU layer as its forward uses it: the MRL matrices and biases at the
 * stored width D (row stride D), and λ, γ computed from their log-parameters.
 */
export interface LruWeights {
  inRe: Float32Array;
  inReB: Float32Array;
  inIm: Float32Array;
  inImB: Float32Array;
  outRe: Float32Array;
  outReB: Float32Array;
  outIm: Float32Array;
  lamRe: Float32Array;
  lamIm: Float32Array;
  gamma: Float32Array;
}

/** Read one LRU layer of width d through `read` (name, shape → values). */
export function readLru(read: ParamReader, prefix: string, d: number): LruWeights {
  const n = lruParamNames(prefix);
  const sq = [d, d];
  return {
    inRe: read(n.inReW, sq),
    inReB: read(n.inReB, [d]),
    inIm: read(n.inImW, sq),
    inImB: read(n.inImB, [d]),
    outRe: read(n.outReW, sq),
    outReB: read(n.outReB, [d]),
    outIm: read(n.outImW, sq),
    ...lruCoefficients(read(n.nuLog, [d]), read(n.thetaLog, [d]), read(n.gammaLog, [d])),
  };
}

/**
 * The recurrence's input for T rows of width m = bounds[K] (weights at row
 * stride ldw): v = B x + b_B (complex, re and im T×m) and u = γ ⊙ v.
 */
export function lruInput(
  kern: LinearKernels,
  w: LruWeights,
  bounds: Int32Array,
  ldw: number,
  x: Float32Array,
  t: number,
): { vRe: Float32Array; vIm: Float32Array; uRe: Float32Array; uIm: Float32Array } {
  const m = bounds[bounds.length - 1];
  const size = t * m;
  const vRe = new Float32Array(size);
  const vIm = new Float32Array(size);
  mrlLinearForward(kern, x, t, bounds, w.inRe, w.inReB, vRe, 1, 0, ldw);
  mrlLinearForward(kern, x, t, bounds, w.inIm, w.inImB, vIm, 1, 0, ldw);
  const uRe = new Float32Array(size);
  const uIm = new Float32Array(size);
  for (let r = 0; r < t; r++) {
    const o = r * m;
    for (let j = 0; j < m; j++) {
      uRe[o + j] = w.gamma[j] * vRe[o + j];
      uIm[o + j] = w.gamma[j] * vIm[o + j];
    }
  }
  return { vRe, vIm, uRe, uIm };
}

/**
 * The recurrence over rows [r0, r1) of u (width m), going on from `state` (h
 * before row r0; zeros at a segment's start): h_r = λ ⊙ h_{r−1} + u_r, written
 * to the same rows of h; state ends as the last row's h. Values are float32
 * between rows, as the scan kernels store h.
 */
export function lruSteps(
  w: LruWeights,
  m: number,
  stateRe: Float32Array,
  stateIm: Float32Array,
  uRe: Float32Array,
  uIm: Float32Array,
  hRe: Float32Array,
  hIm: Float32Array,
  r0: number,
  r1: number,
): void {
  const { lamRe, lamIm } = w;
  for (let r = r0; r < r1; r++) {
    const o = r * m;
    for (let c = 0; c < m; c++) {
      const re = lamRe[c] * stateRe[c] - lamIm[c] * stateIm[c] + uRe[o + c];
      const im = lamRe[c] * stateIm[c] + lamIm[c] * stateRe[c] + uIm[o + c];
      stateRe[c] = re;
      stateIm[c] = im;
      hRe[o + c] = re;
      hIm[o + c] = im;
    }
  }
}

/** out (T×m) = Re(C h) + Re(b_C) = h_re·out_reᵀ − h_im·out_imᵀ + b (weights at row stride ldw). */
export function lruOutput(
  kern: LinearKernels,
  w: LruWeights,
  bounds: Int32Array,
  ldw: number,
  hRe: Float32Array,
  hIm: Float32Array,
  t: number,
  out: Float32Array,
): void {
  mrlLinearForward(kern, hRe, t, bounds, w.outRe, w.outReB, out, 1, 0, ldw);
  mrlLinearForward(kern, hIm, t, bounds, w.outIm, null, out, -1, 1, ldw);
}

/**
 * How h_r = λ ⊙ h_{r−1} + u_r runs over T rows of width m: writes h (re, im,
 * T×m) from u. Made by {@link scanSegments} (the kernel scan over packed
 * sequences), {@link stepSegments} (the same by {@link lruSteps}) or
 * {@link stepFrom} (rows going on from a carried state: streaming).
 */
export type Recurrence = (w: LruWeights, uRe: Float32Array, uIm: Float32Array, t: number, m: number, hRe: Float32Array, hIm: Float32Array) => void;

/** The kernel scan, restarting from zero at every segment start (segments as lruScanForward takes them). */
export function scanSegments(kern: Pick<Kernels, 'lruScanForward'>, segments: Int32Array): Recurrence {
  return (w, uRe, uIm, t, m, hRe, hIm) => kern.lruScanForward(uRe, uIm, w.lamRe, w.lamIm, segments, t, m, hRe, hIm);
}

/**
 * The scan of {@link scanSegments} by {@link lruSteps}: float32 between rows,
 * so that it equals a stream fed the same rows one at a time.
 */
export function stepSegments(segments: Int32Array): Recurrence {
  return (w, uRe, uIm, _t, m, hRe, hIm) => {
    const stateRe = new Float32Array(m);
    const stateIm = new Float32Array(m);
    for (let s = 0; s + 1 < segments.length; s++) {
      stateRe.fill(0);
      stateIm.fill(0);
      lruSteps(w, m, stateRe, stateIm, uRe, uIm, hRe, hIm, segments[s], segments[s + 1]);
    }
  };
}

/** Every row as one sequence going on from the carried state (width m), which it advances: a stream's steps. */
export function stepFrom(stateRe: Float32Array, stateIm: Float32Array): Recurrence {
  return (w, uRe, uIm, t, m, hRe, hIm) => lruSteps(w, m, stateRe, stateIm, uRe, uIm, hRe, hIm, 0, t);
}

/** What the forward keeps for the backward. */
export interface LruCache {
  x: Float32Array;
  vRe: Float32Array;
  vIm: Float32Array;
  hRe: Float32Array;
  hIm: Float32Array;
  lamRe: Float32Array;
  lamIm: Float32Array;
  gamma: Float32Array;
  mask: Float32Array | null;
}

/**
 * The layer over T rows of width m = bounds[K] (weights at row stride ldw):
 * input, recurrence, output, dropout (dropoutRng = null: none). With `keep`,
 * only those rows leave the layer (out: keep.length × m; the recurrence still
 * reads every row, the output projection only the rows kept); without, all T
 * (out: T×m). The cache serves the backward when keep is null.
 */
export function lruForward(
  kern: LinearKernels,
  w: LruWeights,
  bounds: Int32Array,
  ldw: number,
  x: Float32Array,
  t: number,
  recurrence: Recurrence,
  keep: Int32Array | null,
  out: Float32Array,
  dropout: number,
  dropoutRng: Rng | null,
): LruCache {
  const m = bounds[bounds.length - 1];
  const { vRe, vIm, uRe, uIm } = lruInput(kern, w, bounds, ldw, x, t);
  const hRe = new Float32Array(t * m);
  const hIm = new Float32Array(t * m);
  recurrence(w, uRe, uIm, t, m, hRe, hIm);
  if (keep) lruOutput(kern, w, bounds, ldw, gatherRows(hRe, keep, m), gatherRows(hIm, keep, m), keep.length, out);
  else lruOutput(kern, w, bounds, ldw, hRe, hIm, t, out);
  let mask: Float32Array | null = null;
  if (dropoutRng && dropout > 0) {
    mask = dropoutMask((keep ? keep.length : t) * m, dropout, dropoutRng);
    applyMask(out, mask);
  }
  return { x, vRe, vIm, hRe, hIm, lamRe: w.lamRe, lamIm: w.lamIm, gamma: w.gamma, mask };
}

/** Backward (training, width D, parameters in the store under `prefix`): ADDS parameter gradients into the store, writes dx (T×D). dOut is modified. */
export function lruBackward(
  kern: Kernels,
  store: ParamStore,
  prefix: string,
  bounds: Int32Array,
  cache: LruCache,
  t: number,
  segments: Int32Array,
  dOut: Float32Array,
  dx: Float32Array,
): void {
  const n = lruParamNames(prefix);
  const d = bounds[bounds.length - 1];
  const size = t * d;
  if (cache.mask) applyMask(dOut, cache.mask);
  const dhRe = new Float32Array(size);
  const dhIm = new Float32Array(size);
  mrlLinearBackward(kern, dOut, cache.hRe, t, bounds, store.value(n.outReW), store.grad(n.outReW), store.grad(n.outReB), dhRe, false);
  mrlLinearBackward(kern, dOut, cache.hIm, t, bounds, store.value(n.outImW), store.grad(n.outImW), null, dhIm, false, -1);
  const duRe = new Float32Array(size);
  const duIm = new Float32Array(size);
  const dLamRe = new Float32Array(d);
  const dLamIm = new Float32Array(d);
  kern.lruScanBackward(dhRe, dhIm, cache.hRe, cache.hIm, cache.lamRe, cache.lamIm, segments, t, d, duRe, duIm, dLamRe, dLamIm);

  // u = γ ⊙ v: dγ = Σ_t Re(du ⊙ conj v) (γ real), dv = γ ⊙ du (reuse du buffers for dv).
  const dGamma = new Float64Array(d);
  const { gamma } = cache;
  for (let r = 0; r < t; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      dGamma[j] += duRe[o + j] * cache.vRe[o + j] + duIm[o + j] * cache.vIm[o + j];
      duRe[o + j] *= gamma[j];
      duIm[o + j] *= gamma[j];
    }
  }
  mrlLinearBackward(kern, duRe, cache.x, t, bounds, store.value(n.inReW), store.grad(n.inReW), store.grad(n.inReB), dx, false);
  mrlLinearBackward(kern, duIm, cache.x, t, bounds, store.value(n.inImW), store.grad(n.inImW), store.grad(n.inImB), dx, true);

  // λ = r e^{iφ}, r = exp(−exp ν_log), φ = exp θ_log.
  const nuLog = store.value(n.nuLog);
  const thetaLog = store.value(n.thetaLog);
  const gNu = store.grad(n.nuLog);
  const gTheta = store.grad(n.thetaLog);
  const gGamma = store.grad(n.gammaLog);
  for (let j = 0; j < d; j++) {
    const nu = Math.exp(nuLog[j]);
    const r = Math.exp(-nu);
    const phi = Math.exp(thetaLog[j]);
    const c = Math.cos(phi);
    const s = Math.sin(phi);
    const dr = dLamRe[j] * c + dLamIm[j] * s;
    const dphi = r * (-dLamRe[j] * s + dLamIm[j] * c);
    gNu[j] += dr * r * -nu;
    gTheta[j] += dphi * phi;
    gGamma[j] += dGamma[j] * gamma[j];
  }
}
