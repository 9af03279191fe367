/**
 * Gated feed-forward (SPEC §4), all three maps MRL linear D→D with bias:
 *   a = W1 x + b1,  a' = dropout(a)
 *   g = G x + bG,   s = SiLU(g)
 *   p = s ⊙ a'
 *   out = dropout(W2 p + b2)
 * Shapes: x, out and every activation T×D.
 */
import type { Kernels } from '../../kernels/types';
import type { Rng } from '../../util/rng';
import type { ParamStore } from '../params';
import { applyMask, dropoutMask } from './dropout';
import { mrlLinearBackward, mrlLinearForward, mrlLinearInit } from './mrl-linear';

const MAPS = ['gate', 'w1', 'w2'] as const;

export function declareFfn(store: ParamStore, prefix: string, d: number): void {
  for (const m of MAPS) {
    store.declare(`${prefix}.${m}.weight`, [d, d], true);
    store.declare(`${prefix}.${m}.bias`, [d], false);
  }
}

export function initFfn(store: ParamStore, prefix: string, bounds: Int32Array, uniform: () => number): void {
  for (const m of MAPS) mrlLinearInit(store.value(`${prefix}.${m}.weight`), store.value(`${prefix}.${m}.bias`), bounds, uniform);
}

export interface FfnCache {
  x: Float32Array;
  a: Float32Array; // dropout(W1 x + b1)
  g: Float32Array; // G x + bG
  p: Float32Array; // SiLU(g) ⊙ a
  innerMask: Float32Array | null;
  outerMask: Float32Array | null;
}

export function ffnForward(
  kern: Kernels, store: ParamStore, prefix: string, bounds: Int32Array,
  x: Float32Array, t: number, out: Float32Array, dropout: number, dropoutRng: Rng | null,
): FfnCache {
  const d = bounds[bounds.length - 1];
  const size = t * d;
  const a = new Float32Array(size);
  const g = new Float32Array(size);
  const p = new Float32Array(size);
  mrlLinearForward(kern, x, t, bounds, store.value(`${prefix}.w1.weight`), store.value(`${prefix}.w1.bias`), a);
  let innerMask: Float32Array | null = null;
  let outerMask: Float32Array | null = null;
  if (dropoutRng && dropout > 0) {
    innerMask = dropoutMask(size, dropout, dropoutRng);
    applyMask(a, innerMask);
  }
  mrlLinearForward(kern, x, t, bounds, store.value(`${prefix}.gate.weight`), store.value(`${prefix}.gate.bias`), g);
  for (let i = 0; i < size; i++) {
    const gi = g[i];
    p[i] = (gi / (1 + Math.exp(-gi))) * a[i];
  }
  mrlLinearForward(kern, p, t, bounds, store.value(`${prefix}.w2.weight`), store.value(`${prefix}.w2.bias`), out);
  if (dropoutRng && dropout > 0) {
    outerMask = dropoutMask(size, dropout, dropoutRng);
    applyMask(out, outerMask);
  }
  return { x, a, g, p, innerMask, outerMask };
}

/** Backward: ADDS parameter gradients, writes dx. dOut is modified. */
export function ffnBackward(
  kern: Kernels, store: ParamStore, prefix: string, bounds: Int32Array,
  cache: FfnCache, t: number, dOut: Float32Array, dx: Float32Array,
): void {
  const d = bounds[bounds.length - 1];
  const size = t * d;
  if (cache.outerMask) applyMask(dOut, cache.outerMask);
  const dp = new Float32Array(size);
  mrlLinearBackward(kern, dOut, cache.p, t, bounds, store.value(`${prefix}.w2.weight`), store.grad(`${prefix}.w2.weight`), store.grad(`${prefix}.w2.bias`), dp, false);
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
  mrlLinearBackward(kern, dg, cache.x, t, bounds, store.value(`${prefix}.gate.weight`), store.grad(`${prefix}.gate.weight`), store.grad(`${prefix}.gate.bias`), dx, false);
  mrlLinearBackward(kern, da, cache.x, t, bounds, store.value(`${prefix}.w1.weight`), store.grad(`${prefix}.w1.weight`), store.grad(`${prefix}.w1.bias`), dx, true);
}
