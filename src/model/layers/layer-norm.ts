/**
 * MRL LayerNorm (docs/method.md §4): an independent LayerNorm (own gain and bias) on each
 * chunk C(k) of every row. Shapes: x, y: T×m (m = bounds[K], the model width D
 * in training); gain, bias: D (the first m read); mean, rstd: T×K.
 */
import type { Kernels } from '../../kernels/types';
import type { ParamReader, ParamStore } from '../params';

/** Parameter names of one LayerNorm under a prefix such as "blocks.0.ln1". */
export function layerNormParamNames(prefix: string) {
  return { weight: `${prefix}.weight`, bias: `${prefix}.bias` };
}

/** Declare one LayerNorm's gain and bias (width d) under `prefix`. */
export function declareLayerNorm(store: ParamStore, prefix: string, d: number): void {
  const n = layerNormParamNames(prefix);
  store.declare(n.weight, [d], true);
  store.declare(n.bias, [d], false);
}

/** Gain 1, bias 0. */
export function initLayerNorm(store: ParamStore, prefix: string): void {
  const n = layerNormParamNames(prefix);
  store.value(n.weight).fill(1);
  store.value(n.bias).fill(0);
}

/** The values of one LayerNorm's parameters. */
export interface LayerNormWeights {
  gain: Float32Array;
  bias: Float32Array;
}

/** Read one LayerNorm's parameters of width d through `read` (name, shape → values). */
export function readLayerNorm(read: ParamReader, prefix: string, d: number): LayerNormWeights {
  const n = layerNormParamNames(prefix);
  return { gain: read(n.weight, [d]), bias: read(n.bias, [d]) };
}

/** What the forward keeps for the backward: its input and each row's chunk statistics. */
export interface LayerNormCache {
  x: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
}

/**
 * y = MRL LayerNorm of the T rows of x at width m = bounds[K]; returns x and
 * each row's chunk means and 1/std (T×K), what the backward needs.
 */
export function layerNormForward(
  kern: Pick<Kernels, 'layerNormForward'>,
  w: LayerNormWeights,
  bounds: Int32Array,
  eps: number,
  x: Float32Array,
  t: number,
  y: Float32Array,
): LayerNormCache {
  const m = bounds[bounds.length - 1];
  const chunks = bounds.length - 1;
  const mean = new Float32Array(t * chunks);
  const rstd = new Float32Array(t * chunks);
  kern.layerNormForward(x, t, m, bounds, w.gain, w.bias, eps, y, mean, rstd);
  return { x, mean, rstd };
}

/** Backward (training, width D, parameters in the store under `prefix`): ADDS gain/bias gradients, writes dx. */
export function layerNormBackward(
  kern: Kernels,
  store: ParamStore,
  prefix: string,
  bounds: Int32Array,
  cache: LayerNormCache,
  t: number,
  dy: Float32Array,
  dx: Float32Array,
): void {
  const d = bounds[bounds.length - 1];
  const n = layerNormParamNames(prefix);
  kern.layerNormBackward(dy, cache.x, t, d, bounds, store.value(n.weight), cache.mean, cache.rstd, dx, store.grad(n.weight), store.grad(n.bias));
}
