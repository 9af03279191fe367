/**
 * fMRLRec: item table → dropout → LRU blocks → multi-size scores (SPEC §4).
 *
 *   block: h = x + LRU(LN1(x)); out = h + FFN(LN2(h))
 *   scores for size m at row t: out[t, 0:m] · E[:, 0:m]ᵀ
 *
 * Every activation is T×D over the packed rows of a batch (no padded rows).
 */
import type { PackedBatch } from '../data/types';
import type { Kernels } from '../kernels/types';
import { Rng } from '../util/rng';
import { chunkBounds, ModelConfig, modelWidth, validateConfig } from './config';
import { applyMask, dropoutMask } from './layers/dropout';
import { declareFfn, ffnBackward, ffnForward, FfnCache, initFfn } from './layers/ffn';
import {
  declareItemTable, initItemTable, ItemAttributes, itemTableBackward, itemTableForward, ItemTableInputs, transposeAttributes,
} from './layers/item-table';
import { declareLayerNorm, initLayerNorm, layerNormBackward, layerNormForward, LayerNormCache } from './layers/layer-norm';
import { declareLru, initLru, lruBackward, lruForward, LruCache } from './layers/lru';
import { ParamStore } from './params';

/** Loss of one batch: mean over target rows and sizes, and per size. */
export interface BatchLoss {
  /** Mean cross-entropy over target rows and sizes (what is optimised). */
  loss: number;
  /** Mean cross-entropy over target rows, per size (dims order). */
  lossPerSize: number[];
  /** Number of rows with a target. */
  targets: number;
}

interface BlockCache {
  ln1: LayerNormCache; lru: LruCache; ln2: LayerNormCache; ffn: FfnCache;
}

export class FmrlRec {
  readonly config: ModelConfig;
  readonly params: ParamStore;
  /** Chunk boundaries [0, m_1, ..., D]. */
  readonly bounds: Int32Array;
  readonly width: number;
  readonly numRows: number;
  /**
   * E and dE of the training step, allocated once and reused: fresh N1×D
   * arrays every step are returned to the kernel on free and faulted in again
   * (about 25,000 page faults, 0.2 s per step at the paper configuration).
   */
  private stepTables: { e: Float32Array; dE: Float32Array } | null = null;
  private readonly tableInputs: ItemTableInputs;

  /**
   * @param config   model configuration
   * @param features   frozen item features ((N+1)×featureDim, row 0 zeros) or null for ID only
   * @param kern       compute kernels
   * @param attributes sparse item attributes (config.attributeDim columns) or null
   */
  constructor(
    config: ModelConfig, readonly features: Float32Array | null, readonly kern: Kernels,
    readonly attributes: ItemAttributes | null = null,
  ) {
    validateConfig(config);
    this.config = config;
    this.width = modelWidth(config);
    this.numRows = config.numItems + 1;
    this.bounds = chunkBounds(config.dims);
    if (config.featureDim > 0) {
      if (!features || features.length !== this.numRows * config.featureDim) {
        throw new RangeError(`features must be ${this.numRows}×${config.featureDim}`);
      }
    }
    const attributeDim = config.attributeDim ?? 0;
    if ((attributes?.dim ?? 0) !== attributeDim || (attributes && attributes.rowStart.length !== this.numRows + 1)) {
      throw new RangeError(`attributes must be ${this.numRows} rows × ${attributeDim} columns`);
    }
    if (attributes && attributes.rowStart[1] !== 0) throw new RangeError('attributes: row 0 (the padding item) must be empty');
    this.tableInputs = {
      features, featureDim: config.featureDim, attributes,
      transposedAttributes: attributes ? transposeAttributes(attributes, this.numRows) : null,
    };
    const d = this.width;
    this.params = new ParamStore();
    declareItemTable(this.params, this.numRows, d, config.featureDim, config.itemIdEmbedding, attributeDim);
    for (let b = 0; b < config.numBlocks; b++) {
      declareLayerNorm(this.params, `blocks.${b}.ln1`, d);
      declareLru(this.params, `blocks.${b}.lru`, d);
      declareLayerNorm(this.params, `blocks.${b}.ln2`, d);
      declareFfn(this.params, `blocks.${b}.ffn`, d);
    }
    this.params.allocate();
  }

  /** Initialise every parameter from a seed (SPEC §5). */
  init(seed: number): void {
    const rng = new Rng(seed);
    const uniform = () => rng.uniform();
    initItemTable(this.params, this.config.featureDim, uniform, () => rng.normal());
    for (let b = 0; b < this.config.numBlocks; b++) {
      initLayerNorm(this.params, `blocks.${b}.ln1`);
      initLru(this.params, `blocks.${b}.lru`, this.bounds, this.config.rMin, this.config.rMax, rng);
      initLayerNorm(this.params, `blocks.${b}.ln2`);
      initFfn(this.params, `blocks.${b}.ffn`, this.bounds, uniform);
    }
  }

  /** The item table E ((N+1)×D) for the current parameters (written into `out` if given). */
  itemTable(out?: Float32Array): Float32Array {
    const e = out ?? new Float32Array(this.numRows * this.width);
    itemTableForward(this.kern, this.params, this.tableInputs, this.numRows, this.width, e);
    return e;
  }

  /**
   * Forward, loss over every size, and backward for one training batch.
   * ADDS the gradient of the mean loss into params.grads (zero them first).
   * dropoutRng = null turns dropout off (deterministic).
   */
  lossAndGradients(batch: PackedBatch, dropoutRng: Rng | null): BatchLoss {
    const { kern, width: d, numRows: n1, config } = this;
    const t = batch.offsets[batch.size];
    this.stepTables ??= { e: new Float32Array(n1 * d), dE: new Float32Array(n1 * d) };
    const e = this.itemTable(this.stepTables.e);
    const x0 = gatherRows(e, batch.inputs, d);
    let embMask: Float32Array | null = null;
    if (dropoutRng && config.dropout > 0) {
      embMask = dropoutMask(x0.length, config.dropout, dropoutRng);
      applyMask(x0, embMask);
    }
    const segments = recurrenceSegments(batch);
    const { out, caches } = this.forwardBlocks(x0, t, segments, dropoutRng);

    let targets = 0;
    for (let r = 0; r < t; r++) if (batch.targets[r] > 0) targets++;
    const k = config.dims.length;
    const lossPerSize = new Float64Array(k);
    if (targets === 0) return { loss: 0, lossPerSize: Array.from(lossPerSize), targets };
    const dOut = new Float32Array(t * d);
    const dE = this.stepTables.dE; // overwritten by the kernel
    const scale = 1 / (targets * k);
    const total = kern.softmaxXentMulti(out, e, t, n1, d, batch.targets, Int32Array.from(config.dims), scale, dOut, dE, lossPerSize);

    const dx0 = this.backwardBlocks(caches, t, segments, dOut);
    if (embMask) applyMask(dx0, embMask);
    scatterAddRows(dE, batch.inputs, dx0, d);
    itemTableBackward(kern, this.params, this.tableInputs, n1, d, dE);
    return {
      loss: total * scale,
      lossPerSize: Array.from(lossPerSize, (v) => v / targets),
      targets,
    };
  }

  /**
   * Hidden state (T×D) of every row of a batch, dropout off. `itemTable` is E
   * from itemTable() (pass it in to compute it once for many batches).
   */
  hiddenStates(batch: PackedBatch, itemTable: Float32Array): Float32Array {
    const t = batch.offsets[batch.size];
    const x0 = gatherRows(itemTable, batch.inputs, this.width);
    return this.forwardBlocks(x0, t, recurrenceSegments(batch), null).out;
  }

  /** Hidden state at the last row of each sequence (B×D), dropout off. */
  lastHiddenStates(batch: PackedBatch, itemTable: Float32Array): Float32Array {
    const d = this.width;
    const all = this.hiddenStates(batch, itemTable);
    const last = new Float32Array(batch.size * d);
    for (let b = 0; b < batch.size; b++) {
      const r = batch.offsets[b + 1] - 1;
      last.set(all.subarray(r * d, r * d + d), b * d);
    }
    return last;
  }

  private forwardBlocks(x: Float32Array, t: number, segments: Int32Array, rng: Rng | null) {
    const { kern, params, bounds, config, width: d } = this;
    const caches: BlockCache[] = [];
    for (let b = 0; b < config.numBlocks; b++) {
      const p = `blocks.${b}`;
      const n1 = new Float32Array(t * d);
      const ln1 = layerNormForward(kern, params, `${p}.ln1`, bounds, config.layerNormEps, x, t, n1);
      const h = new Float32Array(t * d);
      const lru = lruForward(kern, params, `${p}.lru`, bounds, n1, t, segments, h, config.dropout, rng);
      for (let i = 0; i < h.length; i++) h[i] += x[i];
      const n2 = new Float32Array(t * d);
      const ln2 = layerNormForward(kern, params, `${p}.ln2`, bounds, config.layerNormEps, h, t, n2);
      const out = new Float32Array(t * d);
      const ffn = ffnForward(kern, params, `${p}.ffn`, bounds, n2, t, out, config.dropout, rng);
      for (let i = 0; i < out.length; i++) out[i] += h[i];
      caches.push({ ln1, lru, ln2, ffn });
      x = out;
    }
    return { out: x, caches };
  }

  /** Backward through the blocks; returns d(block input). dOut is consumed. */
  private backwardBlocks(caches: BlockCache[], t: number, segments: Int32Array, dOut: Float32Array): Float32Array {
    const { kern, params, bounds, width: d } = this;
    let dy = dOut;
    for (let b = caches.length - 1; b >= 0; b--) {
      const p = `blocks.${b}`;
      const c = caches[b];
      // out = h + FFN(LN2(h))
      const dh = Float32Array.from(dy);
      const dn2 = new Float32Array(t * d);
      ffnBackward(kern, params, `${p}.ffn`, bounds, c.ffn, t, dy, dn2);
      const dhLn = new Float32Array(t * d);
      layerNormBackward(kern, params, `${p}.ln2`, bounds, c.ln2, t, dn2, dhLn);
      for (let i = 0; i < dh.length; i++) dh[i] += dhLn[i];
      // h = x + LRU(LN1(x))
      const dx = Float32Array.from(dh);
      const dn1 = new Float32Array(t * d);
      lruBackward(kern, params, `${p}.lru`, bounds, c.lru, t, segments, dh, dn1);
      const dxLn = new Float32Array(t * d);
      layerNormBackward(kern, params, `${p}.ln1`, bounds, c.ln1, t, dn1, dxLn);
      for (let i = 0; i < dx.length; i++) dx[i] += dxLn[i];
      dy = dx;
    }
    return dy;
  }
}

/**
 * Segments of the recurrence for a packed batch: a new segment starts at each
 * sequence start, at each padding input, and right after a padding input, so
 * that padding never feeds a real position (SPEC §4).
 */
export function recurrenceSegments(batch: PackedBatch): Int32Array {
  const starts: number[] = [];
  for (let b = 0; b < batch.size; b++) {
    const r0 = batch.offsets[b];
    const r1 = batch.offsets[b + 1];
    for (let r = r0; r < r1; r++) {
      if (r === r0 || batch.inputs[r] === 0 || batch.inputs[r - 1] === 0) starts.push(r);
    }
  }
  starts.push(batch.offsets[batch.size]);
  return Int32Array.from(starts);
}

/** out[r] = table[ids[r]] for rows of width d. */
function gatherRows(table: Float32Array, ids: Int32Array, d: number): Float32Array {
  const out = new Float32Array(ids.length * d);
  for (let r = 0; r < ids.length; r++) out.set(table.subarray(ids[r] * d, ids[r] * d + d), r * d);
  return out;
}

/** table[ids[r]] += rows[r]. */
function scatterAddRows(table: Float32Array, ids: Int32Array, rows: Float32Array, d: number): void {
  for (let r = 0; r < ids.length; r++) {
    const o = ids[r] * d;
    const s = r * d;
    for (let j = 0; j < d; j++) table[o + j] += rows[s + j];
  }
}
