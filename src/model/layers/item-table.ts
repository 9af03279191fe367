/**
 * The item table E ((N+1)×D), recomputed from the frozen item features at every
 * step (docs/method.md §4): E = F·Pᵀ + p, plus two optional learned parts that the
 * reference model does not have: an item-ID embedding, and attribute vectors
 * (each item adds the weighted sum of the vectors of its sparse attributes,
 * E += S·A with S the (N+1)×V attribute matrix). Row 0, the padding item, has
 * neither and stays p.
 * Shapes: F: (N+1)×Fd (row 0 zeros), P: D×Fd, p: D, ID: (N+1)×D, A: V×D.
 * The same forward and backward compute only some rows of E from the inputs
 * of those rows (itemTableRows), for a loss that reads only some items.
 */
import type { Kernels } from '../../kernels/types';
import type { ParamStore } from '../params';

/** Parameter name of P, the D×Fd projection of the item features. */
export const PROJECTION_WEIGHT = 'projection.weight';
/** Parameter name of p, the D-vector added to every row (row 0 is p alone). */
export const PROJECTION_BIAS = 'projection.bias';
/** Parameter name of the optional (N+1)×D item-ID embedding. */
export const ITEM_ID_EMBEDDING = 'item_ids.weight';
/** Parameter name of A, the optional V×D attribute vectors. */
export const ATTRIBUTE_EMBEDDING = 'item_attributes.weight';

/** The learned embedding tables (rows looked up per item or attribute, not a dense layer). */
export const EMBEDDING_TABLES: readonly string[] = [ITEM_ID_EMBEDDING, ATTRIBUTE_EMBEDDING];

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
  /** Sparse attributes S (row 0 empty), or null. */
  attributes: ItemAttributes | null;
  /** Sᵀ (attributes.dim rows × N+1 columns), for the gradient; null when attributes is. */
  transposedAttributes: ItemAttributes | null;
  /**
   * The item of each row when the inputs hold only some rows of the table
   * ({@link itemTableRows}); absent or null: row i is item i.
   */
  items?: Int32Array | null;
}

/**
 * The inputs of the rows `items` of the table only (each item in 0..N, at
 * most once): their features, attributes and Sᵀ over items.length rows. The
 * item table's forward and backward over these inputs compute those rows of E
 * and take the gradient of those rows only, with the full table's arithmetic;
 * the cost grows with items.length, not with N.
 */
export function itemTableRows(inputs: ItemTableInputs, items: Int32Array): ItemTableInputs {
  const { features, featureDim, attributes } = inputs;
  const rows = items.length;
  let rowFeatures: Float32Array | null = null;
  if (features && featureDim > 0) {
    rowFeatures = new Float32Array(rows * featureDim);
    for (let r = 0; r < rows; r++) rowFeatures.set(features.subarray(items[r] * featureDim, (items[r] + 1) * featureDim), r * featureDim);
  }
  let rowAttributes: ItemAttributes | null = null;
  if (attributes) {
    const rowStart = new Int32Array(rows + 1);
    for (let r = 0; r < rows; r++) rowStart[r + 1] = rowStart[r] + attributes.rowStart[items[r] + 1] - attributes.rowStart[items[r]];
    const columns = new Int32Array(rowStart[rows]);
    const weights = new Float32Array(rowStart[rows]);
    for (let r = 0; r < rows; r++) {
      const from = attributes.rowStart[items[r]];
      const to = attributes.rowStart[items[r] + 1];
      columns.set(attributes.columns.subarray(from, to), rowStart[r]);
      weights.set(attributes.weights.subarray(from, to), rowStart[r]);
    }
    rowAttributes = { dim: attributes.dim, rowStart, columns, weights };
  }
  return {
    features: rowFeatures,
    featureDim,
    attributes: rowAttributes,
    transposedAttributes: rowAttributes ? transposeAttributes(rowAttributes, rows) : null,
    items,
  };
}

/**
 * Sᵀ in compressed rows: row j lists the items that have attribute j, in
 * increasing item order (within one item, in S's entry order), so that
 * Sᵀ·dE adds each item's term in the same order as a loop over the rows of S.
 */
export function transposeAttributes(s: ItemAttributes, rows: number): ItemAttributes {
  const nnz = s.rowStart[rows];
  const rowStart = new Int32Array(s.dim + 1);
  for (let p = 0; p < nnz; p++) rowStart[s.columns[p] + 1]++;
  for (let j = 0; j < s.dim; j++) rowStart[j + 1] += rowStart[j];
  const next = rowStart.slice(0, s.dim);
  const columns = new Int32Array(nnz);
  const weights = new Float32Array(nnz);
  for (let i = 0; i < rows; i++) {
    for (let p = s.rowStart[i]; p < s.rowStart[i + 1]; p++) {
      const q = next[s.columns[p]]++;
      columns[q] = i;
      weights[q] = s.weights[p];
    }
  }
  return { dim: rows, rowStart, columns, weights };
}

/** Declare the item table's parameters in `store`: P (when featureDim > 0), p, the item-ID embedding (when itemIds) and A (when attributeDim > 0); n1 = N+1 rows, d = D. */
export function declareItemTable(store: ParamStore, n1: number, d: number, featureDim: number, itemIds: boolean, attributeDim: number): void {
  if (featureDim > 0) store.declare(PROJECTION_WEIGHT, [d, featureDim], true);
  store.declare(PROJECTION_BIAS, [d], false);
  if (itemIds) store.declare(ITEM_ID_EMBEDDING, [n1, d], true);
  if (attributeDim > 0) store.declare(ATTRIBUTE_EMBEDDING, [attributeDim, d], true);
}

/**
 * PyTorch nn.Linear default for the projection P and its bias p; ID and
 * attribute vectors N(0, 0.02²) (ID row 0 = 0). A table without features has
 * no projection, and p starts at 0: the padding row is then zero, as an
 * ID-only model's embedding has it, and no offset shared by every item
 * dwarfs the items' own vectors at the start.
 */
export function initItemTable(store: ParamStore, featureDim: number, uniform: () => number, normal: () => number): void {
  const b = store.value(PROJECTION_BIAS);
  if (featureDim > 0) {
    const limit = 1 / Math.sqrt(featureDim);
    const w = store.value(PROJECTION_WEIGHT);
    for (let i = 0; i < w.length; i++) w[i] = (2 * uniform() - 1) * limit;
    for (let i = 0; i < b.length; i++) b[i] = (2 * uniform() - 1) * limit;
  } else {
    b.fill(0);
  }
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

/**
 * E = F·Pᵀ + p (+ ID) (+ S·A). Writes e (n1×D): the whole table (n1 = N+1),
 * or the rows of {@link itemTableRows} inputs (n1 = their number of rows).
 */
export function itemTableForward(kern: Kernels, store: ParamStore, inputs: ItemTableInputs, n1: number, d: number, e: Float32Array): void {
  const { features, featureDim, attributes, items } = inputs;
  if (features && featureDim > 0) {
    kern.sgemm(false, true, n1, d, featureDim, 1, features, featureDim, store.value(PROJECTION_WEIGHT), featureDim, 0, e, d);
  } else {
    e.fill(0);
  }
  kern.addRowVector(e, n1, d, store.value(PROJECTION_BIAS));
  if (store.has(ITEM_ID_EMBEDDING)) {
    const id = store.value(ITEM_ID_EMBEDDING);
    for (let r = 0; r < n1; r++) {
      const item = items ? items[r] : r;
      if (item === 0) continue; // the padding item has no ID vector
      for (let j = 0, o = r * d, s = item * d; j < d; j++) e[o + j] += id[s + j];
    }
  }
  if (attributes) {
    const { dim, rowStart, columns, weights } = attributes;
    kern.addSparseRowsProduct(e, n1, d, rowStart, columns, weights, store.value(ATTRIBUTE_EMBEDDING), dim);
  }
}

/**
 * Backward: ADDS dP = dEᵀ·F, dp = Σ rows dE, dID = dE (items ≥ 1), dA = Sᵀ·dE,
 * for the rows the inputs hold (dE is n1×D, as {@link itemTableForward}'s e).
 */
export function itemTableBackward(kern: Kernels, store: ParamStore, inputs: ItemTableInputs, n1: number, d: number, dE: Float32Array): void {
  const { features, featureDim, transposedAttributes, items } = inputs;
  if (features && featureDim > 0) {
    kern.sgemm(true, false, d, featureDim, n1, 1, dE, d, features, featureDim, 1, store.grad(PROJECTION_WEIGHT), featureDim);
  }
  kern.addColumnSums(dE, n1, d, store.grad(PROJECTION_BIAS));
  if (store.has(ITEM_ID_EMBEDDING)) {
    const g = store.grad(ITEM_ID_EMBEDDING);
    for (let r = 0; r < n1; r++) {
      const item = items ? items[r] : r;
      if (item === 0) continue;
      for (let j = 0, o = item * d, s = r * d; j < d; j++) g[o + j] += dE[s + j];
    }
  }
  if (transposedAttributes) {
    const { rowStart, columns, weights } = transposedAttributes;
    kern.addSparseRowsProduct(store.grad(ATTRIBUTE_EMBEDDING), rowStart.length - 1, d, rowStart, columns, weights, dE, n1);
  }
}
