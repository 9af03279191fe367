/**
 * The item table E ((N+1)×D), recomputed from the frozen item features at every
 * step (SPEC §4): E = F·Pᵀ + p, plus two optional learned parts that the
 * reference model does not have: an item-ID embedding, and attribute vectors
 * (each item adds the weighted sum of the vectors of its sparse attributes,
 * E += S·A with S the (N+1)×V attribute matrix). Row 0, the padding item, has
 * neither and stays p.
 * Shapes: F: (N+1)×Fd (row 0 zeros), P: D×Fd, p: D, ID: (N+1)×D, A: V×D.
 */
import type { Kernels } from '../../kernels/types';
import type { ParamStore } from '../params';

export const PROJECTION_WEIGHT = 'projection.weight';
export const PROJECTION_BIAS = 'projection.bias';
export const ITEM_ID_EMBEDDING = 'item_ids.weight';
export const ATTRIBUTE_EMBEDDING = 'item_attributes.weight';

/**
 * Sparse item attributes S ((N+1)×dim) in compressed rows: item i has the
 * attributes columns[rowStart[i] .. rowStart[i+1]) with the given weights.
 */
export interface ItemAttributes {
  dim: number;
  rowStart: Int32Array;
  columns: Int32Array;
  weights: Float32Array;
}

/** The frozen inputs the item table is computed from. */
export interface ItemTableInputs {
  /** Dense features F ((N+1)×featureDim), or null. */
  features: Float32Array | null;
  featureDim: number;
  /** Sparse attributes, or null. */
  attributes: ItemAttributes | null;
}

export function declareItemTable(store: ParamStore, n1: number, d: number, featureDim: number, itemIds: boolean, attributeDim: number): void {
  if (featureDim > 0) store.declare(PROJECTION_WEIGHT, [d, featureDim], true);
  store.declare(PROJECTION_BIAS, [d], false);
  if (itemIds) store.declare(ITEM_ID_EMBEDDING, [n1, d], true);
  if (attributeDim > 0) store.declare(ATTRIBUTE_EMBEDDING, [attributeDim, d], true);
}

/** PyTorch nn.Linear default for the projection; ID and attribute vectors N(0, 0.02²) (ID row 0 = 0). */
export function initItemTable(store: ParamStore, featureDim: number, uniform: () => number, normal: () => number): void {
  const fanIn = Math.max(1, featureDim);
  const limit = 1 / Math.sqrt(fanIn);
  if (store.has(PROJECTION_WEIGHT)) {
    const w = store.value(PROJECTION_WEIGHT);
    for (let i = 0; i < w.length; i++) w[i] = (2 * uniform() - 1) * limit;
  }
  const b = store.value(PROJECTION_BIAS);
  for (let i = 0; i < b.length; i++) b[i] = (2 * uniform() - 1) * limit;
  if (store.has(ITEM_ID_EMBEDDING)) {
    const e = store.value(ITEM_ID_EMBEDDING);
    const d = b.length;
    for (let i = d; i < e.length; i++) e[i] = 0.02 * normal();
    e.fill(0, 0, d);
  }
  if (store.has(ATTRIBUTE_EMBEDDING)) {
    const a = store.value(ATTRIBUTE_EMBEDDING);
    for (let i = 0; i < a.length; i++) a[i] = 0.02 * normal();
  }
}

/** E = F·Pᵀ + p (+ ID) (+ S·A). Writes e ((N+1)×D). */
export function itemTableForward(kern: Kernels, store: ParamStore, inputs: ItemTableInputs, n1: number, d: number, e: Float32Array): void {
  const { features, featureDim, attributes } = inputs;
  if (features && featureDim > 0) {
    kern.sgemm(false, true, n1, d, featureDim, 1, features, featureDim, store.value(PROJECTION_WEIGHT), featureDim, 0, e, d);
  } else {
    e.fill(0);
  }
  kern.addRowVector(e, n1, d, store.value(PROJECTION_BIAS));
  if (store.has(ITEM_ID_EMBEDDING)) {
    const id = store.value(ITEM_ID_EMBEDDING);
    for (let i = d; i < n1 * d; i++) e[i] += id[i];
  }
  if (attributes) {
    const a = store.value(ATTRIBUTE_EMBEDDING);
    const { rowStart, columns, weights } = attributes;
    for (let i = 1; i < n1; i++) {
      const row = i * d;
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) {
        const w = weights[p];
        const col = columns[p] * d;
        for (let k = 0; k < d; k++) e[row + k] += w * a[col + k];
      }
    }
  }
}

/** Backward: ADDS dP = dEᵀ·F, dp = Σ rows dE, dID = dE (rows ≥ 1), dA = Sᵀ·dE. */
export function itemTableBackward(kern: Kernels, store: ParamStore, inputs: ItemTableInputs, n1: number, d: number, dE: Float32Array): void {
  const { features, featureDim, attributes } = inputs;
  if (features && featureDim > 0) {
    kern.sgemm(true, false, d, featureDim, n1, 1, dE, d, features, featureDim, 1, store.grad(PROJECTION_WEIGHT), featureDim);
  }
  kern.addColumnSums(dE, n1, d, store.grad(PROJECTION_BIAS));
  if (store.has(ITEM_ID_EMBEDDING)) {
    const g = store.grad(ITEM_ID_EMBEDDING);
    for (let i = d; i < n1 * d; i++) g[i] += dE[i];
  }
  if (attributes) {
    const g = store.grad(ATTRIBUTE_EMBEDDING);
    const { rowStart, columns, weights } = attributes;
    for (let i = 1; i < n1; i++) {
      const row = i * d;
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) {
        const w = weights[p];
        const col = columns[p] * d;
        for (let k = 0; k < d; k++) g[col + k] += w * dE[row + k];
      }
    }
  }
}
