/**
 * The inference forward of fMRLRec (docs/method.md §4), one implementation for
 * evaluation (FmrlRec.lastHiddenStates: native kernels, packed batches, full
 * width), the inference engine (src/serve/engine.ts: exported models, any
 * size) and through it the web demo. Plain TypeScript over the kernels it is
 * given, importing no Node module and no native code: it bundles for browsers.
 *
 *   x (T×m item vectors) → blocks (LN1, LRU, LN2, FFN) → user vectors (B×m)
 *
 * At size m the forward reads the top-left m-prefix of every weight stored at
 * width W ≥ m (row stride W): one stored width serves every size of its
 * ladder, with the exact scores of the size-m model (docs/method.md §6). Every row
 * feeds the next block's recurrence, but of the last block only each
 * sequence's last row is wanted, so the rest leave it after the recurrence:
 * five of its seven matrix products run on B rows instead of T.
 *
 * Two ways through the recurrence: over whole packed sequences (a scan), or
 * one row at a time from a carried {@link StreamState} (streaming: one
 * position of work per new interaction).
 */
import { BlockShape, BlockWeights, blockForward, ForwardKernels, readBlock } from './block';
import { Recurrence, stepFrom } from './layers/lru';
import type { ParamReader } from './params';

/** A model as the inference forward reads it: its blocks at the stored width. */
export interface InferenceModel {
  /** Stored width W: the row stride of every weight matrix, the largest size served. */
  width: number;
  /** LayerNorm epsilon. */
  eps: number;
  blocks: BlockWeights[];
}

/** Read the blocks of a model of width W through `read` (name, shape → values). */
export function readInferenceModel(read: ParamReader, numBlocks: number, width: number, eps: number): InferenceModel {
  return { width, eps, blocks: Array.from({ length: numBlocks }, (_, b) => readBlock(read, b, width)) };
}

/**
 * Hidden states after the last block for T packed rows x (T×m, m =
 * bounds[K]): `recurrenceOf(b)` runs block b's recurrence (sequences start
 * over where it says); with `keep`, only those rows of the last block are
 * computed and returned (keep.length × m), else every row (T×m).
 */
export function forwardRows(
  kern: ForwardKernels,
  model: InferenceModel,
  bounds: Int32Array,
  x: Float32Array,
  t: number,
  recurrenceOf: (block: number) => Recurrence,
  keep: Int32Array | null,
): Float32Array {
  const shape: BlockShape = { bounds, ldw: model.width, eps: model.eps };
  const last = model.blocks.length - 1;
  return model.blocks.reduce((h, w, b) => blockForward(kern, w, shape, h, t, recurrenceOf(b), b === last ? keep : null, 0, null).out, x);
}

/** The last row of each of B packed sequences with row starts `starts` (B+1 entries). */
export function lastRows(starts: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: starts.length - 1 }, (_, b) => starts[b + 1] - 1);
}

/**
 * The recurrent state of a stream at size m, per block b: h = hRe[b] + i·hIm[b]
 * (Float32Array(m) each) after the rows fed so far; zeros before the first.
 * Plain typed arrays: a stream is saved and restored by copying them.
 */
export interface StreamState {
  readonly hRe: Float32Array[];
  readonly hIm: Float32Array[];
}

/** The state of a stream that has seen nothing, at size m. */
export function emptyStreamState(model: InferenceModel, m: number): StreamState {
  return { hRe: model.blocks.map(() => new Float32Array(m)), hIm: model.blocks.map(() => new Float32Array(m)) };
}

/**
 * One streaming step: the output (1×m) of the row x (1×m) following the rows
 * already in `state`, which it advances. Equals the last row of
 * {@link forwardRows} over all the rows fed, scanned with stepSegments.
 */
export function streamStep(kern: ForwardKernels, model: InferenceModel, bounds: Int32Array, x: Float32Array, state: StreamState): Float32Array {
  return forwardRows(kern, model, bounds, x, 1, (b) => stepFrom(state.hRe[b], state.hIm[b]), null);
}
