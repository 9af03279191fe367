/**
 * A user's live state at the model's full width W, how new events advance it,
 * and its bytes in the store. A recommendation at size m reads the first m
 * coordinates of the width-W user vector, which is exactly the size-m model's
 * user vector (every size is the prefix of the model, docs/method.md §6).
 *
 * The window. The model is trained and evaluated on the last L = maxLen items
 * of a history, and POST /v1/recommend reads those. The live state does the same:
 * - while the history has at most L items, the state is the engine's stream
 *   (startStream / push): one position of work per event, never re-reading the
 *   history; its output equals the full-history reading;
 * - past L items, each batch of a user's events recomputes the vector from the
 *   user's last L items (kept in the state, so nothing is read back from the
 *   event log): L positions of work per batch, exactly the trained window.
 * A stream that never forgets would weigh items older than L, which the model
 * never saw in training.
 */
import type { InferenceEngine, UserStream } from '../serve/engine';

/** A user's state, decoded. */
export interface UserState {
  /** Events applied: the history's length. */
  length: number;
  /** The engine's stream at width W while length <= maxLen; null past the window. */
  stream: UserStream | null;
  /** The user vector at width W (the output after the last event); null before the first. */
  vector: Float32Array | null;
  /** Item ids of the last min(length, maxLen) events, oldest first. */
  recent: Int32Array;
  /** Distinct item ids of the whole history, ascending (what exclude_history removes). */
  seen: Int32Array;
}

/** "FMUS", little-endian. */
const MAGIC = 0x53554d46;
const FORMAT = 1;
const HEADER_BYTES = 32;
const HAS_STREAM = 1;
const HAS_VECTOR = 2;

/**
 * Advance users' states by their new items (item ids, oldest first; each list
 * non-empty): priors[u] null is a new user. Streams of the priors are advanced
 * in place. Users past the window share one forward over their windows.
 */
export function advanceUserStates(engine: InferenceEngine, priors: readonly (UserState | null)[], items: readonly (readonly number[])[]): UserState[] {
  const w = engine.width;
  const window = engine.maxLen;
  const next: UserState[] = [];
  const windowed: number[] = [];
  priors.forEach((prior, u) => {
    const added = items[u];
    const state = prior ?? { length: 0, stream: engine.startStream(w), vector: null, recent: new Int32Array(0), seen: new Int32Array(0) };
    const length = state.length + added.length;
    const recent = Int32Array.from([...state.recent, ...added].slice(-window));
    const seen = Int32Array.from(new Set([...state.seen, ...added])).sort();
    if (length <= window && state.stream) {
      for (const item of added) engine.push(state.stream, item);
      next.push({ length, stream: state.stream, vector: engine.streamVector(state.stream), recent, seen });
    } else {
      next.push({ length, stream: null, vector: null, recent, seen });
      windowed.push(u);
    }
  });
  if (windowed.length > 0) {
    const vectors = engine.userVectors(
      windowed.map((u) => next[u].recent),
      w,
    );
    windowed.forEach((u, row) => {
      next[u].vector = vectors.slice(row * w, (row + 1) * w);
    });
  }
  return next;
}

/**
 * The bytes of a state (little-endian): a 32-byte header (magic, format,
 * flags, W, blocks, length, |recent|, |seen|), then per block h (re, im)
 * when streaming and the vector, as float32, then recent and seen as int32.
 */
export function encodeUserState(state: UserState): Uint8Array {
  const stream = state.stream;
  const vector = state.vector;
  const w = stream?.size ?? vector?.length ?? 0;
  const blocks = stream?.hRe.length ?? 0;
  const bytes = new Uint8Array(HEADER_BYTES + (stream ? blocks * 2 * w * 4 : 0) + (vector ? w * 4 : 0) + (state.recent.length + state.seen.length) * 4);
  const view = new DataView(bytes.buffer);
  const header = [
    MAGIC,
    FORMAT | (((stream ? HAS_STREAM : 0) | (vector ? HAS_VECTOR : 0)) << 16),
    w,
    blocks,
    state.length,
    state.recent.length,
    state.seen.length,
    0,
  ];
  header.forEach((v, i) => view.setUint32(i * 4, v, true));
  let at = HEADER_BYTES;
  if (stream) {
    for (let b = 0; b < blocks; b++) {
      for (const h of [stream.hRe[b], stream.hIm[b]]) {
        for (let i = 0; i < w; i++, at += 4) view.setFloat32(at, h[i], true);
      }
    }
  }
  if (vector) for (let i = 0; i < w; i++, at += 4) view.setFloat32(at, vector[i], true);
  for (const list of [state.recent, state.seen]) for (let i = 0; i < list.length; i++, at += 4) view.setInt32(at, list[i], true);
  return bytes;
}

/** Decode a state written by {@link encodeUserState} for this engine's model; throws when it is not one. */
export function decodeUserState(bytes: Uint8Array, engine: InferenceEngine): UserState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_BYTES || view.getUint32(0, true) !== MAGIC || (view.getUint32(4, true) & 0xffff) !== FORMAT) {
    throw new Error('a stored user state is not in the format of this fmrlrec');
  }
  const [flagsAndFormat, w, blocks, length, recentCount, seenCount] = [1, 2, 3, 4, 5, 6].map((i) => view.getUint32(i * 4, true));
  const flags = flagsAndFormat >>> 16;
  const hasStream = (flags & HAS_STREAM) !== 0;
  const hasVector = (flags & HAS_VECTOR) !== 0;
  const expected = HEADER_BYTES + (hasStream ? blocks * 2 * w * 4 : 0) + (hasVector ? w * 4 : 0) + (recentCount + seenCount) * 4;
  if ((hasStream || hasVector) && w !== engine.width) throw new Error(`a stored user state has width ${w}; this model's is ${engine.width}`);
  if (hasStream && blocks !== engine.config.model.numBlocks)
    throw new Error(`a stored user state has ${blocks} blocks; this model has ${engine.config.model.numBlocks}`);
  if (bytes.length !== expected) throw new Error(`a stored user state has ${bytes.length} bytes, its header says ${expected}`);
  let at = HEADER_BYTES;
  const floats = () => {
    const out = new Float32Array(w);
    for (let i = 0; i < w; i++, at += 4) out[i] = view.getFloat32(at, true);
    return out;
  };
  const ints = (n: number) => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++, at += 4) out[i] = view.getInt32(at, true);
    return out;
  };
  const hRe: Float32Array[] = [];
  const hIm: Float32Array[] = [];
  if (hasStream) {
    for (let b = 0; b < blocks; b++) {
      hRe.push(floats());
      hIm.push(floats());
    }
  }
  const vector = hasVector ? floats() : null;
  const stream: UserStream | null = hasStream ? { size: w, length, hRe, hIm, last: vector } : null;
  return { length, stream, vector, recent: ints(recentCount), seen: ints(seenCount) };
}
