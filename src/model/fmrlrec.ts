/**
 * fMRLRec: item table → dropout → LRU blocks → multi-size scores (docs/method.md §4).
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
import { BlockCache, blockForward, blockPrefixes, declareBlock, initBlock, readBlock } from './block';
import { forwardRows, InferenceModel, lastRows, readInferenceModel } from './inference';
import { applyMask, dropoutMask } from './layers/dropout';
import { ffnBackward } from './layers/ffn';
import {
  declareItemTable,
  initItemTable,
  ItemAttributes,
  itemTableBackward,
  itemTableForward,
  ItemTableInputs,
  itemTableRows,
  transposeAttributes,
} from './layers/item-table';
import { layerNormBackward } from './layers/layer-norm';
import { lruBackward, scanSegments } from './layers/lru';
import { ParamStore } from './params';
import { gatherRows, scatterAddRows } from './rows';
import { futureTargets } from './future-targets';
import { historyNegatives } from './history-negatives';
import { batchRows, NegativeDraw, sampledSoftmax } from './sampled-softmax';

/** What a training step adds to the full softmax of the next item (all off by default). */
export interface LossOptions {
  /** The batch's sampled negatives: the loss becomes sampled softmax (./sampled-softmax.ts). */
  negatives?: NegativeDraw | null;
  /** Weight of the history-negatives term (./history-negatives.ts), full softmax only; 0: off. */
  historyWeight?: number;
  /** J: each target spreads over the next J items (./future-targets.ts), full softmax only; 1: off. */
  futureTargets?: number;
}

/** Loss of one batch: mean over target rows and sizes, and per size. */
export interface BatchLoss {
  /** Mean cross-entropy over target rows and sizes, each size's weighted by config.sizeWeights when given (what is optimised). */
  loss: number;
  /** Mean cross-entropy over target rows, per size (dims order). */
  lossPerSize: number[];
  /** Number of rows with a target. */
  targets: number;
}

/** The trainable model: its parameters, the training forward and backward over a packed batch (loss at every size), and the inference forward. */
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
    config: ModelConfig,
    readonly features: Float32Array | null,
    readonly kern: Kernels,
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
      features,
      featureDim: config.featureDim,
      attributes,
      transposedAttributes: attributes ? transposeAttributes(attributes, this.numRows) : null,
    };
    const d = this.width;
    this.params = new ParamStore();
    declareItemTable(this.params, this.numRows, d, config.featureDim, config.itemIdEmbedding, attributeDim);
    for (let b = 0; b < config.numBlocks; b++) declareBlock(this.params, b, d);
    this.params.allocate();
  }

  /** Initialise every parameter from a seed (docs/method.md §5). */
  init(seed: number): void {
    const rng = new Rng(seed);
    initItemTable(
      this.params,
      this.config.featureDim,
      () => rng.uniform(),
      () => rng.normal(),
    );
    for (let b = 0; b < this.config.numBlocks; b++) initBlock(this.params, b, this.bounds, this.config.rMin, this.config.rMax, rng);
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
   * dropoutRng = null turns dropout off (deterministic). The loss is the
   * softmax over every item, or, given the batch's negatives, sampled softmax
   * (./sampled-softmax.ts), which computes only the rows of the item table
   * that the batch reads (its inputs, targets and negatives) and their
   * gradient. The history-negatives term and future targets (`options`) go
   * with the full softmax only.
   */
  lossAndGradients(batch: PackedBatch, dropoutRng: Rng | null, options: LossOptions = {}): BatchLoss {
    const negatives = options.negatives ?? null;
    const historyWeight = options.historyWeight ?? 0;
    const future = options.futureTargets ?? 1;
    if (negatives && (historyWeight > 0 || future > 1)) throw new RangeError('history negatives and future targets need the full softmax');
    const { kern, width: d, numRows: n1, config } = this;
    const t = batch.offsets[batch.size];
    const rows = negatives ? batchRows(batch, negatives) : null;
    const tableInputs = rows ? itemTableRows(this.tableInputs, rows.items) : this.tableInputs;
    const tableRows = rows ? rows.items.length : n1;
    let e: Float32Array;
    let dE: Float32Array; // overwritten by the loss
    if (rows) {
      e = new Float32Array(tableRows * d);
      dE = new Float32Array(tableRows * d);
      itemTableForward(kern, this.params, tableInputs, tableRows, d, e);
    } else {
      this.stepTables ??= { e: new Float32Array(n1 * d), dE: new Float32Array(n1 * d) };
      e = this.itemTable(this.stepTables.e);
      dE = this.stepTables.dE;
    }
    const inputs = rows ? rows.inputs : batch.inputs;
    const x0 = gatherRows(e, inputs, d);
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
    const scale = 1 / (targets * k);
    const dims = Int32Array.from(config.dims);
    const weights = config.sizeWeights ? Float32Array.from(config.sizeWeights) : null;
    if (rows) sampledSoftmax(kern, out, e, t, d, rows, dims, scale, dOut, dE, lossPerSize, weights);
    else kern.softmaxXentMulti(out, e, t, n1, d, batch.targets, dims, scale, dOut, dE, lossPerSize, weights);
    // The objective: Σ_k w_k · (size k's summed loss), times scale.
    let total = lossPerSize.reduce((sum, loss, size) => sum + (weights ? weights[size] : 1) * loss, 0);
    if (historyWeight > 0) total += historyWeight * historyNegatives(out, e, d, batch, dims, weights, scale * historyWeight, dOut, dE);
    if (future > 1) total += futureTargets(out, e, d, batch, future, dims, weights, scale, dOut, dE);

    const dx0 = this.backwardBlocks(caches, t, segments, dOut);
    if (embMask) applyMask(dx0, embMask);
    scatterAddRows(dE, inputs, dx0, d);
    itemTableBackward(kern, this.params, tableInputs, tableRows, d, dE);
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
    return this.inferRows(batch, itemTable, null);
  }

  /**
   * Hidden state at the last row of each sequence (B×D), dropout off: the
   * inference forward (./inference.ts), whose last block computes only those rows.
   */
  lastHiddenStates(batch: PackedBatch, itemTable: Float32Array): Float32Array {
    return this.inferRows(batch, itemTable, lastRows(batch.offsets));
  }

  /** The current parameters as the inference forward reads them. */
  inferenceModel(): InferenceModel {
    return readInferenceModel(this.params.read, this.config.numBlocks, this.width, this.config.layerNormEps);
  }

  private inferRows(batch: PackedBatch, itemTable: Float32Array, keep: Int32Array | null): Float32Array {
    const t = batch.offsets[batch.size];
    const x0 = gatherRows(itemTable, batch.inputs, this.width);
    const scan = scanSegments(this.kern, recurrenceSegments(batch));
    return forwardRows(this.kern, this.inferenceModel(), this.bounds, x0, t, () => scan, keep);
  }

  /** Training forward through the blocks, with dropout when rng is given; keeps the caches of the backward. */
  private forwardBlocks(x: Float32Array, t: number, segments: Int32Array, rng: Rng | null) {
    const { kern, params, bounds, config, width: d } = this;
    const shape = { bounds, ldw: d, eps: config.layerNormEps };
    const scan = scanSegments(kern, segments);
    const caches: BlockCache[] = [];
    for (let b = 0; b < config.numBlocks; b++) {
      const { out, cache } = blockForward(kern, readBlock(params.read, b, d), shape, x, t, scan, null, config.dropout, rng);
      caches.push(cache);
      x = out;
    }
    return { out: x, caches };
  }

  /** Backward through the blocks; returns d(block input). dOut is consumed. */
  private backwardBlocks(caches: BlockCache[], t: number, segments: Int32Array, dOut: Float32Array): Float32Array {
    const { kern, params, bounds, width: d } = this;
    let dy = dOut;
    for (let b = caches.length - 1; b >= 0; b--) {
      const p = blockPrefixes(b);
      const c = caches[b];
      // out = h + FFN(LN2(h))
      const dh = Float32Array.from(dy);
      const dn2 = new Float32Array(t * d);
      ffnBackward(kern, params, p.ffn, bounds, c.ffn, t, dy, dn2);
      const dhLn = new Float32Array(t * d);
      layerNormBackward(kern, params, p.ln2, bounds, c.ln2, t, dn2, dhLn);
      for (let i = 0; i < dh.length; i++) dh[i] += dhLn[i];
      // h = x + LRU(LN1(x))
      const dx = Float32Array.from(dh);
      const dn1 = new Float32Array(t * d);
      lruBackward(kern, params, p.lru, bounds, c.lru, t, segments, dh, dn1);
      const dxLn = new Float32Array(t * d);
      layerNormBackward(kern, params, p.ln1, bounds, c.ln1, t, dn1, dxLn);
      for (let i = 0; i < dx.length; i++) dx[i] += dxLn[i];
      dy = dx;
    }
    return dy;
  }
}

/**
 * Segments of the recurrence for a packed batch: a new segment starts at each
 * sequence start, at each padding input, and right after a padding input, so
 * that padding never feeds a real position (docs/method.md §4).
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
