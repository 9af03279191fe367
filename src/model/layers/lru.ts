/**
 * Linear Recurrent Unit layer, diagonal complex, MRL-shaped (SPEC §4):
 *   v_t = B x_t + b_B                 (complex MRL linear on a real input)
 *   u_t = γ ⊙ v_t,                    γ = exp(γ_log)
 *   h_t = λ ⊙ h_{t−1} + u_t           (reset at the start of each segment)
 *   y_t = Re(C h_t) + Re(b_C)         (complex MRL linear, real part)
 *   out_t = dropout(y_t)
 * with λ = exp(−exp(ν_log) + i·exp(θ_log)). Complex weights are held as separate
 * real and imaginary D×D MRL matrices: B = in_re + i·in_im, C = out_re + i·out_im,
 * so y = h_re·out_reᵀ − h_im·out_imᵀ + b_out_re.
 *
 * Shapes: x, out: T×D; every activation T×D; ν_log, θ_log, γ_log: D.
 */
import type { Kernels } from '../../kernels/types';
import type { Rng } from '../../util/rng';
import type { ParamStore } from '../params';
import { applyMask, dropoutMask } from './dropout';
import { mrlLinearBackward, mrlLinearForward, mrlLinearInit } from './mrl-linear';

/** Parameter names of one LRU layer under a prefix such as "blocks.0.lru". */
export function lruParamNames(prefix: string) {
  return {
    nuLog: `${prefix}.nu_log`, thetaLog: `${prefix}.theta_log`, gammaLog: `${prefix}.gamma_log`,
    inReW: `${prefix}.in_re.weight`, inReB: `${prefix}.in_re.bias`,
    inImW: `${prefix}.in_im.weight`, inImB: `${prefix}.in_im.bias`,
    outReW: `${prefix}.out_re.weight`, outReB: `${prefix}.out_re.bias`,
    outImW: `${prefix}.out_im.weight`,
  };
}

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

/** SPEC §5 initialisation: ring-initialised λ, PyTorch-default real parts, imaginary parts 0. */
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

/** λ (re, im) and γ from the log-parameters. */
export function lruCoefficients(store: ParamStore, prefix: string) {
  const n = lruParamNames(prefix);
  const nuLog = store.value(n.nuLog);
  const thetaLog = store.value(n.thetaLog);
  const gammaLog = store.value(n.gammaLog);
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

/** What the forward keeps for the backward. */
export interface LruCache {
  x: Float32Array;
  vRe: Float32Array; vIm: Float32Array;
  hRe: Float32Array; hIm: Float32Array;
  lamRe: Float32Array; lamIm: Float32Array; gamma: Float32Array;
  mask: Float32Array | null;
}

/** Forward; writes out (T×D) and returns the cache. dropoutRng = null disables dropout. */
export function lruForward(
  kern: Kernels, store: ParamStore, prefix: string, bounds: Int32Array,
  x: Float32Array, t: number, segments: Int32Array, out: Float32Array,
  dropout: number, dropoutRng: Rng | null,
): LruCache {
  const n = lruParamNames(prefix);
  const d = bounds[bounds.length - 1];
  const size = t * d;
  const { lamRe, lamIm, gamma } = lruCoefficients(store, prefix);
  const vRe = new Float32Array(size);
  const vIm = new Float32Array(size);
  mrlLinearForward(kern, x, t, bounds, store.value(n.inReW), store.value(n.inReB), vRe);
  mrlLinearForward(kern, x, t, bounds, store.value(n.inImW), store.value(n.inImB), vIm);
  const uRe = new Float32Array(size);
  const uIm = new Float32Array(size);
  for (let r = 0; r < t; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      uRe[o + j] = gamma[j] * vRe[o + j];
      uIm[o + j] = gamma[j] * vIm[o + j];
    }
  }
  const hRe = new Float32Array(size);
  const hIm = new Float32Array(size);
  kern.lruScanForward(uRe, uIm, lamRe, lamIm, segments, t, d, hRe, hIm);
  mrlLinearForward(kern, hRe, t, bounds, store.value(n.outReW), store.value(n.outReB), out);
  mrlLinearForward(kern, hIm, t, bounds, store.value(n.outImW), null, out, -1, 1);
  let mask: Float32Array | null = null;
  if (dropoutRng && dropout > 0) {
    mask = dropoutMask(size, dropout, dropoutRng);
    applyMask(out, mask);
  }
  return { x, vRe, vIm, hRe, hIm, lamRe, lamIm, gamma, mask };
}

/** Backward: ADDS parameter gradients into the store, writes dx (T×D). dOut is modified. */
export function lruBackward(
  kern: Kernels, store: ParamStore, prefix: string, bounds: Int32Array,
  cache: LruCache, t: number, segments: Int32Array, dOut: Float32Array, dx: Float32Array,
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
