/**
 * Gated feed-forward (docs/method.md §4), all three maps MRL linear D→D with bias:
 *   a = W1 x + b1,  a' = dropout(a)
 *   g = G x + bG,   s = SiLU(g)
 *   p = s ⊙ a'
 *   out = dropout(W2 p + b2)
 * Shapes: x, out and every activation T×D (T×m at a smaller width m of the
 * ladder in inference, weights read at row stride D).
 */
import type { Kernels } from '../../kernels/types';
import type { Rng } from '../../util/rng';
import type { ParamReader, ParamStore } from '../params';
import { applyMask, dropoutMask } from './dropout';
import { LinearKernels, mrlLinearBackward, mrlLinearForward, mrlLinearInit } from './mrl-linear';

/** The three MRL maps, by name. */
export const FFN_MAPS = ['gate', 'w1', 'w2'] as const;
/** The name of one of the three MRL maps of an FFN. */
export type FfnMap = (typeof FFN_MAPS)[number];

/** Parameter names of one FFN under a prefix such as "blocks.0.ffn": {gate, w1, w2} × {weight, bias}. */
export function ffnParamNames(prefix: string): Record<FfnMap, { weight: string; bias: string }> {
  const map = (m: FfnMap) => ({ weight: `${prefix}.${m}.weight`, bias: `${prefix}.${m}.bias` });
  return { gate: map('gate'), w1: map('w1'), w2: map('w2') };
}

/** Declare the three maps' weights (d×d) and biases (d) under `prefix`. */
export function declareFfn(store: ParamStore, prefix: string, d: number): void {
  const n = ffnParamNames(prefix);
  for (const m of FFN_MAPS) {
    store.declare(n[m].weight, [d, d], true);
    store.declare(n[m].bias, [d], false);
  }
}

/** docs/method.md §5 initialisation of the three maps (MRL per chunk). */
export function initFfn(store: ParamStore, prefix: string, bounds: Int32Array, uniform: () => number): void {
  const n = ffnParamNames(prefix);
  for (const m of FFN_MAPS) mrlLinearInit(store.value(n[m].weight), store.value(n[m].bias), bounds, uniform);
}

/** One FFN's weights (D×D, row stride D) and biases, by map. */
export type FfnWeights = Record<FfnMap, { weight: Float32Array; bias: Float32Array }>;

/** Read one FFN of width d through `read` (name, shape → values). */
export function readFfn(read: ParamReader, prefix: string, d: number): FfnWeights {
  const n = ffnParamNames(prefix);
  const map = (m: FfnMap) => ({ weight: read(n[m].weight, [d, d]), bias: read(n[m].bias, [d]) });
  return { gate: map('gate'), w1: map('w1'), w2: map('w2') };
}

/** What the forward keeps for the backward. */
export interface FfnCache {
  x: Float32Array;
  a: Float32Array; // dropout(W1 x + b1)
  g: Float32Array; // G x + bG
  p: Float32Array; // SiLU(g) ⊙ a
  innerMask: Float32Array | null;
  outerMask: Float32Array | null;
}

/**
 * The FFN over T rows of width m = bounds[K] (weights at row stride ldw);
 * writes out (T×m). dropoutRng = null disables dropout (inference).
 */
export function ffnForward(
  kern: LinearKernels,
  w: FfnWeights,
  bounds: Int32Array,
  ldw: number,
  x: Float32Array,
  t: number,
  out: Float32Array,
  dropout: number,
  dropoutRng: Rng | null,
): FfnCache {
  const size = t * bounds[bounds.length - 1];
  const a = new Float32Array(size);
  const g = new Float32Array(size);
  const p = new Float32Array(size);
  mrlLinearForward(kern, x, t, bounds, w.w1.weight, w.w1.bias, a, 1, 0, ldw);
  let innerMask: Float32Array | null = null;
  let outerMask: Float32Array | null = null;
  if (dropoutRng && dropout > 0) {
    innerMask = dropoutMask(size, dropout, dropoutRng);
    applyMask(a, innerMask);
  }
  mrlLinearForward(kern, x, t, bounds, w.gate.weight, w.gate.bias, g, 1, 0, ldw);
  for (let i = 0; i < size; i++) {
    const gi = g[i];
    p[i] = (gi / (1 + Math.exp(-gi))) * a[i];
  }
  mrlLinearForward(kern, p, t, bounds, w.w2.weight, w.w2.bias, out, 1, 0, ldw);
  if (dropoutRng && dropout > 0) {
    outerMask = dropoutMask(size, dropout, dropoutRng);
    applyMask(out, outerMask);
  }
  return { x, a, g, p, innerMask, outerMask };
}

/** Backward (training, width D, parameters in the store under `prefix`): ADDS parameter gradients, writes dx. dOut is modified. */
export function ffnBackward(
  kern: Kernels,
  store: ParamStore,
  prefix: string,
  bounds: Int32Array,
  cache: FfnCache,
  t: number,
  dOut: Float32Array,
  dx: Float32Array,
): void {
  const d = bounds[bounds.length - 1];
  const size = t * d;
  const n = ffnParamNames(prefix);
  if (cache.outerMask) applyMask(dOut, cache.outerMask);
  const dp = new Float32Array(size);
  mrlLinearBackward(kern, dOut, cache.p, t, bounds, store.value(n.w2.weight), store.grad(n.w2.weight), store.grad(n.w2.bias), dp, false);
  const da = new Float32Array(size);
  const dg = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const gi = cache.g[i];
    const sig = 1 / (1 + Math.exp(-gi));
    const s = gi * sig;
    da[i] = dp[i] * s;
    dg[i] = dp[i] * cache.a[i] * sig * (1 + gi * (1 - sig));
  }
  if (cache.innerMask) applyMask(da, cache.innerMask);
  mrlLinearBackward(kern, dg, cache.x, t, bounds, store.value(n.gate.weight), store.grad(n.gate.weight), store.grad(n.gate.bias), dx, false);
  mrlLinearBackward(kern, da, cache.x, t, bounds, store.value(n.w1.weight), store.grad(n.w1.weight), store.grad(n.w1.bias), dx, true);
}
