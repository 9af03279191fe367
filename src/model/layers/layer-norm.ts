/**
 * MRL LayerNorm (SPEC §4): an independent LayerNorm (own gain and bias) on each
 * chunk C(k) of every row. Shapes: x, y: T×D; gain, bias: D; mean, rstd: T×K.
 */
import type { Kernels } from '../../kernels/types';
import type { ParamStore } from '../params';

export function declareLayerNorm(store: ParamStore, prefix: string, d: number): void {
  store.declare(`${prefix}.weight`, [d], true);
  store.declare(`${prefix}.bias`, [d], false);
}

export function initLayerNorm(store: ParamStore, prefix: string): void {
  store.value(`${prefix}.weight`).fill(1);
  store.value(`${prefix}.bias`).fill(0);
}

export interface LayerNormCache {
  x: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
}

export function layerNormForward(
  kern: Kernels, store: ParamStore, prefix: string, bounds: Int32Array, eps: number,
  x: Float32Array, t: number, y: Float32Array,
): LayerNormCache {
  const d = bounds[bounds.length - 1];
  const chunks = bounds.length - 1;
  const mean = new Float32Array(t * chunks);
  const rstd = new Float32Array(t * chunks);
  kern.layerNormForward(x, t, d, bounds, store.value(`${prefix}.weight`), store.value(`${prefix}.bias`), eps, y, mean, rstd);
  return { x, mean, rstd };
}

/** Backward: ADDS gain/bias gradients, writes dx. */
export function layerNormBackward(
  kern: Kernels, store: ParamStore, prefix: string, bounds: Int32Array,
  cache: LayerNormCache, t: number, dy: Float32Array, dx: Float32Array,
): void {
  const d = bounds[bounds.length - 1];
  kern.layerNormBackward(dy, cache.x, t, d, bounds, store.value(`${prefix}.weight`), cache.mean, cache.rstd,
    dx, store.grad(`${prefix}.weight`), store.grad(`${prefix}.bias`));
}
