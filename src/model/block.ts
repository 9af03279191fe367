/**
 * One fMRLRec block (docs/method.md §4), the unit the model stacks:
 *
 *   h = x + LRU(LN1(x));  out = h + FFN(LN2(h))
 *
 * Its layers live under the prefixes blocks.{b}.ln1 / lru / ln2 / ffn and name
 * their own parameters there. Shapes: x, h, out: T×m with m = bounds[K] (the
 * model width D in training, any size of the ladder in inference), weights
 * D×D read at row stride ldw = D.
 */
import type { Kernels } from '../kernels/types';
import type { Rng } from '../util/rng';
import { declareFfn, FfnCache, ffnForward, ffnParamNames, FfnWeights, initFfn, readFfn } from './layers/ffn';
import { declareLayerNorm, initLayerNorm, LayerNormCache, layerNormForward, layerNormParamNames, LayerNormWeights, readLayerNorm } from './layers/layer-norm';
import { declareLru, initLru, LruCache, lruForward, lruParamNames, LruWeights, readLru, Recurrence } from './layers/lru';
import type { ParamReader, ParamStore } from './params';
import { gatherRows } from './rows';

/** The kernels a block's forward calls (all of them plain TypeScript in the engine). */
export type ForwardKernels = Pick<Kernels, 'sgemm' | 'addRowVector' | 'layerNormForward'>;

/** The prefixes of block b's layers. */
export function blockPrefixes(b: number) {
  const p = `blocks.${b}`;
  return { ln1: `${p}.ln1`, lru: `${p}.lru`, ln2: `${p}.ln2`, ffn: `${p}.ffn` };
}

/** Names of every parameter of block b, as its layers name them. */
export function blockParamNames(b: number) {
  const p = blockPrefixes(b);
  return { ln1: layerNormParamNames(p.ln1), lru: lruParamNames(p.lru), ln2: layerNormParamNames(p.ln2), ffn: ffnParamNames(p.ffn) };
}

/** Declare block b's parameters at width d. */
export function declareBlock(store: ParamStore, b: number, d: number): void {
  const p = blockPrefixes(b);
  declareLayerNorm(store, p.ln1, d);
  declareLru(store, p.lru, d);
  declareLayerNorm(store, p.ln2, d);
  declareFfn(store, p.ffn, d);
}

/** docs/method.md §5 initialisation of block b (draws from rng in layer order). */
export function initBlock(store: ParamStore, b: number, bounds: Int32Array, rMin: number, rMax: number, rng: Rng): void {
  const p = blockPrefixes(b);
  initLayerNorm(store, p.ln1);
  initLru(store, p.lru, bounds, rMin, rMax, rng);
  initLayerNorm(store, p.ln2);
  initFfn(store, p.ffn, bounds, () => rng.uniform());
}

/** Block b's parameters as the forward uses them (LRU λ, γ computed). */
export interface BlockWeights {
  ln1: LayerNormWeights;
  lru: LruWeights;
  ln2: LayerNormWeights;
  ffn: FfnWeights;
}

/** Read block b of width d through `read` (name, shape → values). */
export function readBlock(read: ParamReader, b: number, d: number): BlockWeights {
  const p = blockPrefixes(b);
  return { ln1: readLayerNorm(read, p.ln1, d), lru: readLru(read, p.lru, d), ln2: readLayerNorm(read, p.ln2, d), ffn: readFfn(read, p.ffn, d) };
}

/** What a block's forward keeps for the backward. */
export interface BlockCache {
  ln1: LayerNormCache;
  lru: LruCache;
  ln2: LayerNormCache;
  ffn: FfnCache;
}

/** Where a block's forward runs: the ladder prefix (m = bounds[K]), the weights' row stride and LayerNorm's epsilon. */
export interface BlockShape {
  bounds: Int32Array;
  ldw: number;
  eps: number;
}

/**
 * The block over T rows of x: returns out (T×m) and the cache of the
 * backward. `recurrence` runs the LRU's h = λ ⊙ h + u over the rows (a scan,
 * or a stream's steps). With `keep`, only those rows are computed past the
 * recurrence (out: keep.length × m; the cache then serves no backward).
 * dropoutRng = null: no dropout.
 */
export function blockForward(
  kern: ForwardKernels,
  w: BlockWeights,
  shape: BlockShape,
  x: Float32Array,
  t: number,
  recurrence: Recurrence,
  keep: Int32Array | null,
  dropout: number,
  dropoutRng: Rng | null,
): { out: Float32Array; cache: BlockCache } {
  const { bounds, ldw, eps } = shape;
  const m = bounds[bounds.length - 1];
  const rows = keep ? keep.length : t;
  const n1 = new Float32Array(t * m);
  const ln1 = layerNormForward(kern, w.ln1, bounds, eps, x, t, n1);
  const h = new Float32Array(rows * m);
  const lru = lruForward(kern, w.lru, bounds, ldw, n1, t, recurrence, keep, h, dropout, dropoutRng);
  const residual = keep ? gatherRows(x, keep, m) : x;
  for (let i = 0; i < h.length; i++) h[i] += residual[i];
  const n2 = new Float32Array(rows * m);
  const ln2 = layerNormForward(kern, w.ln2, bounds, eps, h, rows, n2);
  const out = new Float32Array(rows * m);
  const ffn = ffnForward(kern, w.ffn, bounds, ldw, n2, rows, out, dropout, dropoutRng);
  for (let i = 0; i < out.length; i++) out[i] += h[i];
  return { out, cache: { ln1, lru, ln2, ffn } };
}
