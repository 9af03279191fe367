/**
 * Sampled softmax with the log-Q correction (docs/method.md §5.8), the
 * training loss whose scoring does not grow with the catalogue: one batch draws
 * K negatives n_1..n_K from a distribution Q over the items 1..N (with
 * replacement) and every position of the batch shares them. For a position
 * with user vector o and target y, at each size m:
 *
 *   s_0 = o[0:m]·E_y[0:m]   − log Q(y)
 *   s_j = o[0:m]·E_nj[0:m]  − log Q(n_j)     (s_j = −∞ when n_j = y: an accidental hit)
 *   ℓ^(m) = log Σ_{j=0..K} exp s_j − s_0
 *
 * Shapes: T positions, D width, K negatives, R rows of the table the indices
 * point into (the whole item table, or only the rows a batch reads).
 *
 * Two implementations of the same loss: {@link sampledSoftmax} (the one
 * training runs: T×K products per size through kern.sgemm) and
 * {@link sampledSoftmaxReference} (plain loops in float64, the test oracle).
 */
import type { PackedBatch } from '../data/types';
import type { Kernels } from '../kernels/types';
import { gatherRows } from './rows';

/** One batch's negatives, drawn from Q, and Q itself. */
export interface NegativeDraw {
  /** The K negatives, items in 1..N (with repeats: drawn with replacement). */
  items: Int32Array;
  /** log Q(i) for every item i in 0..N. */
  logQ: Float32Array;
}

/** What one sampled softmax scores: per position a target row, and K negative rows shared by all positions. */
export interface SampledTargets {
  /** Per position (T), the table row of its target, or −1 for a position without a target. */
  targets: Int32Array;
  /** Per position (T), log Q of its target (read where there is a target). */
  targetLogQ: Float32Array;
  /** The K negatives' table rows. A negative whose row is a position's target is masked for that position. */
  negatives: Int32Array;
  /** Per negative (K), its log Q. */
  negativeLogQ: Float32Array;
}

/** The rows of the item table a sampled-softmax batch reads, and the batch in those rows. */
export interface BatchRows extends SampledTargets {
  /** The distinct items the batch reads (inputs, targets, negatives), in order of first use: row r is item items[r]. */
  items: Int32Array;
  /** Per position (T), the row of its input item. */
  inputs: Int32Array;
}

/** The rows a batch reads under sampled softmax with the negatives of `draw`. */
export function batchRows(batch: PackedBatch, draw: NegativeDraw): BatchRows {
  const t = batch.offsets[batch.size];
  const rowOf = new Map<number, number>();
  const items: number[] = [];
  const row = (item: number): number => {
    let r = rowOf.get(item);
    if (r === undefined) {
      r = items.length;
      rowOf.set(item, r);
      items.push(item);
    }
    return r;
  };
  const inputs = new Int32Array(t);
  const targets = new Int32Array(t);
  const targetLogQ = new Float32Array(t);
  for (let r = 0; r < t; r++) {
    inputs[r] = row(batch.inputs[r]);
    const y = batch.targets[r];
    targets[r] = y > 0 ? row(y) : -1;
    if (y > 0) targetLogQ[r] = draw.logQ[y];
  }
  const k = draw.items.length;
  const negatives = new Int32Array(k);
  const negativeLogQ = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    if (!(draw.items[j] >= 1 && draw.items[j] < draw.logQ.length)) throw new RangeError(`negative item ${draw.items[j]} is not in 1..${draw.logQ.length - 1}`);
    negatives[j] = row(draw.items[j]);
    negativeLogQ[j] = draw.logQ[draw.items[j]];
  }
  return { items: Int32Array.from(items), inputs, targets, targetLogQ, negatives, negativeLogQ };
}

function checkArguments(
  h: Float32Array,
  table: Float32Array,
  t: number,
  d: number,
  s: SampledTargets,
  dims: Int32Array,
  gradH: Float32Array | null,
  gradTable: Float32Array | null,
  lossPerSize: Float64Array | null,
  sizeWeights: Float32Array | null,
): number {
  const rows = Math.floor(table.length / Math.max(1, d));
  const k = s.negatives.length;
  const fail = (problem: string): never => {
    throw new RangeError(`sampledSoftmax: ${problem}`);
  };
  if (h.length < t * d) fail(`h holds ${h.length} floats, needs ${t * d}`);
  if (s.targets.length !== t || s.targetLogQ.length !== t) fail(`targets and targetLogQ need ${t} entries`);
  if (s.negativeLogQ.length !== k) fail(`negativeLogQ needs ${k} entries`);
  for (let r = 0; r < t; r++) if (s.targets[r] < -1 || s.targets[r] >= rows) fail(`target row ${s.targets[r]} is outside the table's ${rows} rows`);
  for (let j = 0; j < k; j++) if (s.negatives[j] < 0 || s.negatives[j] >= rows) fail(`negative row ${s.negatives[j]} is outside the table's ${rows} rows`);
  for (let i = 0; i < dims.length; i++) if (!(dims[i] >= 1 && dims[i] <= d && (i === 0 || dims[i] > dims[i - 1]))) fail('dims must rise within 1..d');
  if (gradH && gradH.length < t * d) fail(`gradH holds ${gradH.length} floats, needs ${t * d}`);
  if (sizeWeights && sizeWeights.length !== dims.length) fail(`sizeWeights needs ${dims.length} entries, one per size`);
  if (gradTable && gradTable.length < rows * d) fail(`gradTable holds ${gradTable.length} floats, needs ${rows * d}`);
  if (lossPerSize && lossPerSize.length < dims.length) fail(`lossPerSize needs ${dims.length} entries`);
  return rows;
}

/**
 * The loss and its gradients, through kern.sgemm: the negatives' logits of
 * every size are built chunk by chunk (size m_k's extend size m_{k−1}'s by the
 * product over chunk k, T×K×|C(k)|), and each size's gradient goes back
 * through two products over its m_k columns (T×K×m_k each) before the next
 * size is scored, so that only T×K logits and T×K gradients are held.
 * h: T×D user vectors; table: R×D item vectors. Returns Σ over positions with a
 * target and sizes of ℓ^(m); lossPerSize[k] (if given) gets the sum of size dims[k].
 * gradH (T×D) and gradTable (R×D), when given, are OVERWRITTEN with the
 * gradient of scale·Σ_k w_k·Σ ℓ^(m_k) (columns past the last size get 0),
 * w = sizeWeights (null: every w_k = 1).
 */
export function sampledSoftmax(
  kern: Kernels,
  h: Float32Array,
  table: Float32Array,
  t: number,
  d: number,
  s: SampledTargets,
  dims: Int32Array,
  scale: number,
  gradH: Float32Array | null,
  gradTable: Float32Array | null,
  lossPerSize: Float64Array | null,
  sizeWeights: Float32Array | null,
): number {
  checkArguments(h, table, t, d, s, dims, gradH, gradTable, lossPerSize, sizeWeights);
  const { targets, targetLogQ, negatives, negativeLogQ } = s;
  const k = negatives.length;
  const wantGrads = gradH !== null || gradTable !== null;
  const hits = accidentalHits(targets, negatives);
  const eNeg = gatherRows(table, negatives, d); // K×D
  const logits = new Float32Array(t * k); // o[0:m]·E_nj[0:m] of the current size
  const positive = new Float64Array(t); // o[0:m]·E_y[0:m] of the current size
  const z = new Float64Array(k);
  // The current size's gradient: scale·softmax of the negatives (T×K) and scale·(softmax − 1) of the target (T).
  const gNeg = new Float32Array(wantGrads ? t * k : 0);
  const gPos = new Float64Array(wantGrads ? t : 0);
  const dNeg = new Float32Array(gradTable ? k * d : 0); // the gradient of eNeg
  gradH?.fill(0);
  gradTable?.fill(0);
  const perSize = new Float64Array(dims.length);
  for (let size = 0; size < dims.length; size++) {
    const lo = size === 0 ? 0 : dims[size - 1];
    const m = dims[size];
    const scaled = scale * (sizeWeights ? sizeWeights[size] : 1);
    kern.sgemm(false, true, t, k, m - lo, 1, h.subarray(lo), d, eNeg.subarray(lo), d, size === 0 ? 0 : 1, logits, k);
    for (let r = 0; r < t; r++) {
      const y = targets[r];
      if (y < 0) continue;
      let dot = 0;
      for (let p = lo; p < m; p++) dot += h[r * d + p] * table[y * d + p];
      positive[r] += dot;
      const z0 = positive[r] - targetLogQ[r];
      for (let j = 0; j < k; j++) z[j] = logits[r * k + j] - negativeLogQ[j];
      for (let i = hits.start[r]; i < hits.start[r + 1]; i++) z[hits.slots[i]] = -Infinity;
      let max = z0;
      for (let j = 0; j < k; j++) if (z[j] > max) max = z[j];
      const e0 = Math.exp(z0 - max);
      let sum = e0;
      for (let j = 0; j < k; j++) {
        z[j] = Math.exp(z[j] - max); // one exp per logit: z now holds exp(s_j − max)
        sum += z[j];
      }
      perSize[size] += max + Math.log(sum) - z0;
      if (!wantGrads) continue;
      const f = scaled / sum;
      for (let j = 0; j < k; j++) gNeg[r * k + j] = f * z[j];
      gPos[r] = f * e0 - scaled;
    }
    if (!wantGrads) continue;
    if (gradH) kern.sgemm(false, false, t, m, k, 1, gNeg, k, eNeg, d, 1, gradH, d);
    if (gradTable) kern.sgemm(true, false, k, m, t, 1, gNeg, k, h, d, 1, dNeg, d);
    for (let r = 0; r < t; r++) {
      const y = targets[r];
      if (y < 0) continue;
      const gy = gPos[r];
      for (let p = 0; p < m; p++) {
        if (gradH) gradH[r * d + p] += gy * table[y * d + p];
        if (gradTable) gradTable[y * d + p] += gy * h[r * d + p];
      }
    }
  }
  if (lossPerSize) lossPerSize.set(perSize);
  if (gradTable) {
    for (let j = 0; j < k; j++) {
      const o = negatives[j] * d;
      for (let p = 0; p < d; p++) gradTable[o + p] += dNeg[j * d + p];
    }
  }
  return perSize.reduce((a, b) => a + b, 0);
}

/** For each position, the negative slots equal to its target (compressed rows: slots[start[r] .. start[r+1])). */
function accidentalHits(targets: Int32Array, negatives: Int32Array): { start: Int32Array; slots: Int32Array } {
  const slotsOf = new Map<number, number[]>();
  negatives.forEach((row, j) => {
    const list = slotsOf.get(row);
    if (list) list.push(j);
    else slotsOf.set(row, [j]);
  });
  const start = new Int32Array(targets.length + 1);
  const slots: number[] = [];
  for (let r = 0; r < targets.length; r++) {
    const list = targets[r] >= 0 ? slotsOf.get(targets[r]) : undefined;
    if (list) slots.push(...list);
    start[r + 1] = slots.length;
  }
  return { start, slots: Int32Array.from(slots) };
}

/**
 * The same loss and gradients as {@link sampledSoftmax} by plain loops in
 * float64, each logit computed afresh at every size (T×K×D per size): the
 * test oracle.
 */
export function sampledSoftmaxReference(
  h: Float32Array,
  table: Float32Array,
  t: number,
  d: number,
  s: SampledTargets,
  dims: Int32Array,
  scale: number,
  gradH: Float32Array | null,
  gradTable: Float32Array | null,
  lossPerSize: Float64Array | null,
  sizeWeights: Float32Array | null,
): number {
  const rows = checkArguments(h, table, t, d, s, dims, gradH, gradTable, lossPerSize, sizeWeights);
  const { targets, targetLogQ, negatives, negativeLogQ } = s;
  const k = negatives.length;
  const perSize = new Float64Array(dims.length);
  const gH = new Float64Array(t * d);
  const gT = new Float64Array(rows * d);
  const dot = (r: number, row: number, m: number): number => {
    let sum = 0;
    for (let p = 0; p < m; p++) sum += h[r * d + p] * table[row * d + p];
    return sum;
  };
  const z = new Float64Array(k);
  for (let r = 0; r < t; r++) {
    const y = targets[r];
    if (y < 0) continue;
    for (let size = 0; size < dims.length; size++) {
      const m = dims[size];
      const z0 = dot(r, y, m) - targetLogQ[r];
      for (let j = 0; j < k; j++) z[j] = negatives[j] === y ? -Infinity : dot(r, negatives[j], m) - negativeLogQ[j];
      let max = z0;
      for (let j = 0; j < k; j++) max = Math.max(max, z[j]);
      let sum = Math.exp(z0 - max);
      for (let j = 0; j < k; j++) sum += Math.exp(z[j] - max);
      const logSumExp = max + Math.log(sum);
      perSize[size] += logSumExp - z0;
      const add = (row: number, g: number) => {
        for (let p = 0; p < m; p++) {
          gH[r * d + p] += g * table[row * d + p];
          gT[row * d + p] += g * h[r * d + p];
        }
      };
      const scaled = scale * (sizeWeights ? sizeWeights[size] : 1);
      add(y, scaled * (Math.exp(z0 - logSumExp) - 1));
      for (let j = 0; j < k; j++) add(negatives[j], scaled * Math.exp(z[j] - logSumExp));
    }
  }
  if (gradH) gradH.set(gH);
  if (gradTable) {
    gradTable.fill(0);
    gradTable.set(gT);
  }
  if (lossPerSize) lossPerSize.set(perSize);
  return perSize.reduce((a, b) => a + b, 0);
}
