/**
 * Inference engine for an exported fMRLRec model, in plain TypeScript: no Node
 * module and no native kernel, so the same code runs in Node and in a browser.
 *
 * A model of width W serves every size m of its ladder up to W exactly: the
 * size-m model is the prefix of width m of every tensor (docs/method.md §6), so the
 * engine runs the forward on the top-left m×m blocks of the stored matrices,
 * at a cost that grows with m² rather than W². The forward is the model's
 * inference forward (src/model/inference.ts), the one evaluation runs, so the
 * two agree to float rounding at every size.
 *
 * Two ways to get a user vector, with the same mathematics (docs/method.md §4):
 * - from a full history (`userVector`): layer by layer over all positions
 *   (matrix rows reused across positions), then the recurrence as a scan over
 *   the last `maxLen` items, as evaluation does;
 * - streaming (`startStream` / `push`): one step per new interaction. Each
 *   block keeps its complex recurrent state h = λ ⊙ h + u, so an interaction
 *   costs one position of work instead of re-reading the history. A stream
 *   never forgets (its window is unbounded); it equals `userVector` whenever the
 *   history is at most `maxLen` long, and `userVector(history, m, Infinity)`
 *   always (both run the recurrence in float32 steps).
 * An empty history is the padding item alone (its output row), as in
 * evaluation. Scores of size m: user[0:m] · E[i, 0:m] for items 1..N.
 * Items added after training (`addItems`) are appended to the table and
 * scored like the others at every size.
 * With a count prior (src/model/count-prior.ts), the rankings (`rank`,
 * `rankBatch`) given the user's history add β_m · log(1 + c_i) to the scores of
 * the items with a count c_i: the items a network-only ranking would return,
 * merged with the counted items at their bonused scores — so the result is
 * exactly the top k of the blended scores. A bonus only lifts an item, so the
 * network's top k (none of them excluded) holds every item of the blended top
 * k that has no count; only a negative β (a fit never gives one) needs the
 * network's list widened by the number of counted items.
 * Many users at once (`userVectors`, `scoreBatch`, `rankBatch`) share every
 * matrix product, which is where a server gains throughput; the products and
 * the catalogue ranking go through {@link EngineKernels} that a host may
 * replace with faster ones (the Node service passes native kernels).
 *
 * Shapes: W = stored width, m = the size served, T = positions, N1 = N + 1.
 */
import type { ExportedConfig } from '../deploy/format';
import { uncheckedForwardLoops } from '../kernels/reference';
import type { ForwardKernels } from '../model/block';
import { chunkBounds } from '../model/config';
import { emptyStreamState, forwardRows, InferenceModel, lastRows, readInferenceModel, StreamState, streamStep } from '../model/inference';
import { stepSegments } from '../model/layers/lru';
import type { ParamReader } from '../model/params';
import { UserError } from '../util/errors';
import type { Float32Tensor } from '../util/safetensors';
import { countBonuses, type CountPrior, type PairCounts } from '../model/count-prior';
import { RankedItem, topK } from './top-k';

export { gatherRows } from '../model/rows';

/**
 * C (m×n, row stride ldc) = alpha · A · Bᵀ + beta · C, with A m×k (stride lda)
 * and B n×k (stride ldb), row-major; beta = 0 overwrites C.
 */
export type Gemm = (
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** The engine's own {@link Gemm}: plain loops, one dot product per entry. */
export const typescriptGemm: Gemm = (m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const v = alpha * dot(a, i * lda, b, j * ldb, k);
      const o = i * ldc + j;
      c[o] = beta === 0 ? v : v + beta * c[o];
    }
  }
};

/**
 * The k best items of b users against an item table, as the native kernel
 * `topItems` (src/kernels/types.ts): users b×d, table n1×d (row 0 padding),
 * ids / scores b×k, best first, ties by lower id, id 0 past the catalogue.
 */
export type TopItems = (users: Float32Array, table: Float32Array, b: number, n1: number, d: number, k: number, ids: Int32Array, scores: Float32Array) => void;

/** The engine's heavy arithmetic, replaceable by a host with faster versions. */
export interface EngineKernels {
  gemm: Gemm;
  /** Ranking of the whole catalogue for many users; absent: `scoreBatch` then {@link topK}. */
  topItems?: TopItems;
}

/** Plain TypeScript arithmetic (the default; what browsers run). */
export const TYPESCRIPT_ENGINE_KERNELS: EngineKernels = { gemm: typescriptGemm };

/** What the engine is built from (decoded files of an exported folder). */
export interface EngineModel {
  config: ExportedConfig;
  /** Parameters by name (src/model names), at the model's width W. */
  weights: Record<string, Float32Tensor>;
  /** E: (N+1)×W item table, row 0 = padding. */
  itemTable: Float32Tensor;
  /** The count prior (absent or null: none). */
  countPrior?: CountPrior | null;
}

/**
 * A user's streaming state at one size m, a plain object of numbers and
 * Float32Arrays (copy it to save a stream, restore the copy to go on):
 * - size: m; length: items pushed so far;
 * - hRe[b], hIm[b] (Float32Array(m) each, one pair per block b): block b's
 *   recurrent state h = hRe + i·hIm after the items pushed (zeros before any);
 * - last: the user vector after the last item pushed (Float32Array(m)), null
 *   before the first.
 */
export interface UserStream extends StreamState {
  readonly size: number;
  length: number;
  last: Float32Array | null;
}

/** Options of {@link InferenceEngine.rank}. */
export interface RankOptions {
  /** How many items to return. */
  k: number;
  /** Items that must not be returned (e.g. the history). */
  exclude?: Iterable<number>;
  /** Rank only these items (ids 1..N) instead of the whole catalogue. */
  candidates?: ArrayLike<number>;
  /** The user's history (oldest first): with a count prior, the items counted near its last items get their bonus. */
  history?: ArrayLike<number>;
  /** Pairs counted since the prior's counts were (the live service's events), added to them. */
  extraCounts?: PairCounts | null;
}

/**
 * The inference forward's kernels over an engine's products: its gemm for
 * every matrix product (the forward multiplies A·Bᵀ only), the TypeScript
 * twins' loops for the bias add and LayerNorm (the engine makes their
 * arguments itself, so it skips their checks).
 */
function forwardKernels(gemm: Gemm): ForwardKernels {
  return {
    sgemm: (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      if (transA || !transB) throw new Error('the inference forward multiplies A·Bᵀ only');
      gemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
    ...uncheckedForwardLoops,
  };
}

/** The inference engine of one exported model: user vectors (from histories or streams), scores and rankings at every size it serves. */
export class InferenceEngine {
  /** Stored width W (the largest size served). */
  readonly width: number;
  /** Sizes served exactly: the ladder up to W. */
  readonly sizes: readonly number[];
  /** N: items are 1..N (it grows with {@link addItems}). */
  get numItems(): number {
    return this.itemCount;
  }
  /** Window L of `userVector`. */
  readonly maxLen: number;
  readonly config: ExportedConfig;
  /** The count prior the rankings add when given a history, or null. */
  readonly countPrior: CountPrior | null;
  private readonly model: InferenceModel;
  private readonly forwardKernels: ForwardKernels;
  private itemCount: number;
  /** E: (N+1)×W. */
  private table: Float32Array;
  private readonly boundsBySize = new Map<number, Int32Array>();
  /** Contiguous item tables by size (see itemTable). */
  private readonly tables = new Map<number, Float32Array>();
  private readonly gemm: Gemm;
  private readonly topItems: TopItems | null;

  /**
   * @param model decoded files of an exported size
   * @param kernels the matrix products and catalogue ranking (default: plain TypeScript)
   */
  constructor(model: EngineModel, kernels: EngineKernels = TYPESCRIPT_ENGINE_KERNELS) {
    this.gemm = kernels.gemm;
    this.topItems = kernels.topItems ?? null;
    this.forwardKernels = forwardKernels(kernels.gemm);
    const { config } = model;
    const mc = config.model;
    this.config = config;
    this.countPrior = model.countPrior ?? null;
    this.sizes = mc.dims.slice();
    this.width = mc.dims[mc.dims.length - 1];
    this.itemCount = mc.numItems;
    this.maxLen = config.maxLen;
    mc.dims.forEach((m, j) => this.boundsBySize.set(m, chunkBounds(mc.dims.slice(0, j + 1))));
    const w = this.width;
    const n1 = mc.numItems + 1;
    const read: ParamReader = (name, shape) => {
      const t = model.weights[name];
      if (!t) throw new UserError(`model weights: parameter ${name} is missing`);
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
        throw new UserError(`model weights: parameter ${name} has shape [${t.shape}], expected [${shape}]`);
      }
      return t.data;
    };
    const { itemTable } = model;
    if (itemTable.shape.length !== 2 || itemTable.shape[0] !== n1 || itemTable.shape[1] !== w) {
      throw new UserError(`item table has shape [${itemTable.shape}], expected [${n1},${w}]`);
    }
    this.table = itemTable.data;
    this.tables.set(w, this.table);
    this.model = readInferenceModel(read, mc.numBlocks, w, mc.layerNormEps);
  }

  /**
   * E[:, 0:m] as a contiguous (N+1)×m table: the stored one for m = W, else a
   * copy made on first use. Scoring reads whole rows, and a strided read of
   * the first m of every W floats would waste most of each cache line.
   */
  private itemTable(m: number): Float32Array {
    let table = this.tables.get(m);
    if (!table) {
      const n1 = this.numItems + 1;
      table = new Float32Array(n1 * m);
      for (let i = 0; i < n1; i++) table.set(this.table.subarray(i * this.width, i * this.width + m), i * m);
      this.tables.set(m, table);
    }
    return table;
  }

  /**
   * Append items N+1, N+2, ... to the item table: `vectors` holds their rows
   * at the stored width W (k×W, row-major); every size scores them from then
   * on, as the first m coordinates of their rows. Returns the first new id.
   */
  addItems(vectors: Float32Array): number {
    const w = this.width;
    const k = vectors.length / w;
    if (!Number.isInteger(k)) throw new RangeError(`${vectors.length} values are not rows of width ${w}`);
    const first = this.itemCount + 1;
    const table = new Float32Array(this.table.length + vectors.length);
    table.set(this.table);
    table.set(vectors, this.table.length);
    this.table = table;
    this.itemCount += k;
    this.tables.clear(); // smaller sizes' copies are made again on first use
    this.tables.set(w, table);
    return first;
  }

  /** Chunk bounds of size m; throws a UserError when m is not a size of this model. */
  private bounds(m: number): Int32Array {
    const b = this.boundsBySize.get(m);
    if (!b) throw new UserError(`size ${m} is not served by this model (sizes: ${this.sizes.join(', ')})`);
    return b;
  }

  /** True when m is one of the sizes this model serves. */
  servesSize(m: number): boolean {
    return this.boundsBySize.has(m);
  }

  private checkUser(user: Float32Array, m: number): void {
    this.bounds(m);
    if (user.length < m) throw new RangeError(`a user vector of width ${user.length} cannot score at size ${m}`);
  }

  private checkItem(item: number): void {
    if (!Number.isInteger(item) || item < 1 || item > this.numItems) throw new RangeError(`item ${item} is not in 1..${this.numItems}`);
  }

  /**
   * The user vector (width m) after a history of item ids (1..N), reading the
   * last `window` items (default: the model's maxLen), layer by layer.
   */
  userVector(history: ArrayLike<number>, m: number = this.width, window: number = this.maxLen): Float32Array {
    return this.userVectors([history], m, window);
  }

  /**
   * User vectors of several histories at once (B×m, row b for history b): their
   * positions are packed back to back and every layer runs once over all of them.
   */
  userVectors(histories: readonly ArrayLike<number>[], m: number = this.width, window: number = this.maxLen): Float32Array {
    const bounds = this.bounds(m);
    const starts = new Int32Array(histories.length + 1);
    histories.forEach((h, b) => {
      starts[b + 1] = starts[b] + Math.max(1, Math.min(h.length, window));
    });
    const t = starts[histories.length];
    const x = new Float32Array(t * m);
    histories.forEach((history, b) => {
      if (history.length === 0) {
        x.set(this.table.subarray(0, m), starts[b] * m); // the padding item alone
        return;
      }
      const first = history.length - (starts[b + 1] - starts[b]);
      for (let r = starts[b]; r < starts[b + 1]; r++) {
        const item = history[first + r - starts[b]];
        this.checkItem(item);
        x.set(this.table.subarray(item * this.width, item * this.width + m), r * m);
      }
    });
    return forwardRows(this.forwardKernels, this.model, bounds, x, t, () => stepSegments(starts), lastRows(starts));
  }

  /** A new, empty stream at size m. */
  startStream(m: number = this.width): UserStream {
    this.bounds(m);
    return { size: m, length: 0, last: null, ...emptyStreamState(this.model, m) };
  }

  /** Feed one interaction into a stream: one position of work per block. */
  push(stream: UserStream, item: number): void {
    this.checkItem(item);
    const m = stream.size;
    const bounds = this.bounds(m);
    const blocks = this.model.blocks.length;
    const states = [...stream.hRe, ...stream.hIm];
    if (states.length !== 2 * blocks || states.some((h) => h.length !== m)) {
      throw new RangeError(`a stream of size ${m} holds ${blocks} pairs of Float32Array(${m}) (hRe, hIm)`);
    }
    const x = this.table.slice(item * this.width, item * this.width + m);
    stream.last = streamStep(this.forwardKernels, this.model, bounds, x, stream);
    stream.length++;
  }

  /** The user vector of a stream (the padding item's output while it is empty). */
  streamVector(stream: UserStream): Float32Array {
    return stream.last ?? this.userVector([], stream.size);
  }

  /** Scores of every item at size m: out[i] = user[0:m]·E[i, 0:m]; out[0] (padding) = −∞. */
  scoreAll(user: Float32Array, m: number): Float32Array {
    this.checkUser(user, m);
    const out = new Float32Array(this.numItems + 1);
    this.gemm(1, this.numItems, m, 1, user, m, this.itemTable(m).subarray(m), m, 0, out.subarray(1), this.numItems);
    out[0] = -Infinity;
    return out;
  }

  /**
   * Scores of every item for B users at once (users: B×m, row-major): row b of
   * the result (B×(N+1)) holds user b's scores, entry 0 (padding) = −∞.
   */
  scoreBatch(users: Float32Array, m: number): Float32Array {
    this.bounds(m);
    const b = users.length / m;
    if (!Number.isInteger(b)) throw new RangeError(`${users.length} values are not rows of width ${m}`);
    const n1 = this.numItems + 1;
    const out = new Float32Array(b * n1);
    this.gemm(b, this.numItems, m, 1, users, m, this.itemTable(m).subarray(m), m, 0, out.subarray(1), n1);
    for (let r = 0; r < b; r++) out[r * n1] = -Infinity;
    return out;
  }

  /** Scores of the given items (ids 1..N) at size m, in the order given. */
  scoreItems(user: Float32Array, m: number, items: ArrayLike<number>): Float32Array {
    this.checkUser(user, m);
    const table = this.itemTable(m);
    const out = new Float32Array(items.length);
    for (let c = 0; c < items.length; c++) {
      this.checkItem(items[c]);
      out[c] = dot(table, items[c] * m, user, 0, m);
    }
    return out;
  }

  /**
   * The count prior's bonus of every item with a count for a history at size m;
   * empty without a prior or a history. `extra` adds pairs counted since
   * (see {@link countBonuses}). Items outside 1..N are left out.
   */
  bonuses(history: ArrayLike<number> | null | undefined, m: number, extra: PairCounts | null = null): Map<number, number> {
    if (!this.countPrior || !history || history.length === 0) return new Map();
    const out = countBonuses(this.countPrior, history, m, extra);
    for (const item of out.keys()) if (item < 1 || item > this.numItems) out.delete(item);
    return out;
  }

  /**
   * The best k[b] items of each of B users (users: B×m) at size m, best first
   * (ties: lower id first), never an item of exclude[b]: the whole catalogue
   * ranked with one pass over the item table for all users. With a count prior
   * and histories[b], user b's items get their bonus (`extraCounts` as in
   * {@link RankOptions}).
   */
  rankBatch(
    users: Float32Array,
    m: number,
    k: readonly number[],
    exclude: readonly (ReadonlySet<number> | null)[],
    histories: readonly (ArrayLike<number> | null)[] = [],
    extraCounts: PairCounts | null = null,
  ): RankedItem[][] {
    const b = k.length;
    if (users.length !== b * m) throw new RangeError(`${users.length} values are not ${b} rows of width ${m}`);
    this.bounds(m);
    const bonuses = k.map((_, r) => this.bonuses(histories[r], m, extraCounts));
    // Enough of the network's ranking that k[r] remain once the excluded (and, when a bonus is negative, the bonused) are set apart.
    const wanted = k.map((kb, r) => Math.min(this.numItems, kb + (exclude[r]?.size ?? 0) + widening(bonuses[r])));
    let ranked: RankedItem[][];
    let networkScores: (r: number, items: readonly number[]) => ArrayLike<number>;
    if (!this.topItems) {
      const scores = this.scoreBatch(users, m);
      const n1 = this.numItems + 1;
      ranked = wanted.map((w, r) => topK(scores.subarray(r * n1, (r + 1) * n1), w, exclude[r], null));
      networkScores = (r, items) => items.map((item) => scores[r * n1 + item]);
    } else {
      const most = Math.max(1, ...wanted);
      const ids = new Int32Array(b * most);
      const scores = new Float32Array(b * most);
      this.topItems(users, this.itemTable(m), b, this.numItems + 1, m, most, ids, scores);
      ranked = wanted.map((w, r) => {
        const out: RankedItem[] = [];
        for (let x = r * most; x < (r + 1) * most && out.length < w; x++) {
          if (ids[x] !== 0 && !exclude[r]?.has(ids[x])) out.push({ id: ids[x], score: scores[x] });
        }
        return out;
      });
      networkScores = (r, items) => this.scoreItems(users.subarray(r * m, (r + 1) * m), m, items);
    }
    return ranked.map((list, r) => withBonuses(list, bonuses[r], (items) => networkScores(r, items), k[r], exclude[r]));
  }

  /** The best k items for a user vector at size m (ties: lower id first); with a count prior and options.history, with their bonus. */
  rank(user: Float32Array, m: number, options: RankOptions): RankedItem[] {
    const exclude = options.exclude ? new Set(options.exclude) : null;
    const bonuses = this.bonuses(options.history, m, options.extraCounts ?? null);
    if (options.candidates) {
      const ids = Array.from(options.candidates);
      const scores = this.scoreItems(user, m, ids);
      if (bonuses.size === 0) return topK(scores, options.k, exclude, ids);
      // In float64, as the whole-catalogue path: a bonus added in float32 would round.
      const blended = Float64Array.from(scores, (z, c) => z + (bonuses.get(ids[c]) ?? 0));
      return topK(blended, options.k, exclude, ids);
    }
    const scores = this.scoreAll(user, m);
    const wanted = Math.min(this.numItems, options.k + (exclude?.size ?? 0) + widening(bonuses));
    return withBonuses(topK(scores, wanted, exclude, null), bonuses, (items) => items.map((item) => scores[item]), options.k, exclude);
  }
}

/**
 * How many more of the network's ranking than k (and the excluded) a ranking
 * with `bonuses` needs: none when every bonus is ≥ 0 — then each of the
 * network's best k scores at least as high blended, so no item without a bonus
 * below them can enter the blended top k — else one per bonused item, which a
 * negative bonus may push out of the top k.
 */
function widening(bonuses: ReadonlyMap<number, number>): number {
  for (const bonus of bonuses.values()) if (bonus < 0) return bonuses.size;
  return 0;
}

/**
 * The best k of a network ranking with bonuses: `byScore` holds at least the
 * best (k + widening(bonuses)) items by network score (none of `exclude`), best
 * first; `networkScores` gives the network scores of a list of items. The
 * items with a bonus are taken out, and every item with a bonus is put back at
 * its network score plus its bonus. Only the items that score at least the
 * lowest blended score of byScore's first k are sorted: those first k all beat
 * any item below it.
 */
function withBonuses(
  byScore: RankedItem[],
  bonuses: ReadonlyMap<number, number>,
  networkScores: (items: readonly number[]) => ArrayLike<number>,
  k: number,
  exclude: ReadonlySet<number> | null | undefined,
): RankedItem[] {
  if (bonuses.size === 0) return byScore.slice(0, k);
  const items: number[] = [];
  for (const item of bonuses.keys()) if (!exclude?.has(item)) items.push(item);
  const z = networkScores(items);
  const blended = items.map((item, c) => z[c] + bonuses.get(item)!);
  const first = byScore.slice(0, k);
  let floor = first.length < k ? -Infinity : Infinity;
  for (const r of first) if (!bonuses.has(r.id)) floor = Math.min(floor, r.score);
  const inFirst = new Set(first.map((r) => r.id));
  items.forEach((item, c) => {
    if (inFirst.has(item)) floor = Math.min(floor, blended[c]);
  });
  const out = byScore.filter((r) => !bonuses.has(r.id) && r.score >= floor);
  items.forEach((item, c) => {
    if (blended[c] >= floor) out.push({ id: item, score: blended[c] });
  });
  out.sort((a, b) => b.score - a.score || a.id - b.id);
  return out.slice(0, k);
}

/** Σ_{j<n} a[ao + j] · b[bo + j]. */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[ao + j] * b[bo + j];
    s1 += a[ao + j + 1] * b[bo + j + 1];
    s2 += a[ao + j + 2] * b[bo + j + 2];
    s3 += a[ao + j + 3] * b[bo + j + 3];
  }
  for (; j < n; j++) s0 += a[ao + j] * b[bo + j];
  return s0 + s1 + (s2 + s3);
}
