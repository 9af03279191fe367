/**
 * The compute kernels behind fmrlrec. Two implementations satisfy this
 * interface: the native N-API addon (native/, fast) and a plain TypeScript twin
 * (src/kernels/reference.ts, readable, used to test the addon and as fallback).
 *
 * Conventions: every matrix is row-major Float32Array; a "view" may be a
 * subarray of a larger buffer. Complex tensors are held as two real arrays
 * (re, im). Shapes: T = packed positions, D = model width, N1 = N + 1 items
 * (row 0 = padding), K = number of sizes.
 *
 * Both implementations check their arguments the same way (src/kernels/validate.ts,
 * native/addon.cc) and throw a RangeError "<kernel>: <problem>" for an array too
 * short for its shape ("<name> is too short (has L, needs N)"), a size that is
 * not a non-negative integer, a bad ladder, bounds or segments, an item index
 * out of range, or an output that shares memory with an input or another
 * output (outputs never alias inputs). Ladders (dims, bounds) have at most 64
 * sizes. Native results are deterministic for a fixed thread count; those of
 * addRowVector, addColumnSums, addSparseRowsProduct and adamwUpdate are exact:
 * the twin's bits on every variant and thread count.
 */
export interface Kernels {
  /** "native-avx512" | "native-avx2" | "native-baseline" | "typescript". */
  readonly name: string;
  /** Number of worker threads used by the kernels (1 for the TS twin). */
  threads(): number;
  /**
   * Set the number of worker threads (1..1024; default: the processors this
   * process may use). One pool serves every kernel. No-op for the TS twin.
   */
  setThreads(n: number): void;

  /**
   * C = alpha · op(A) · op(B) + beta · C, op(A) is m×k, op(B) is k×n, C is m×n.
   * lda/ldb/ldc are the row strides of A, B, C as stored (A stored k×m when
   * transA). beta = 0 means C is overwritten (never read; NaN-safe). Every
   * stride is at least max(1, columns as stored).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
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
  ): void;

  /**
   * Fused multi-size softmax cross-entropy (docs/method.md §4 scores, §5 loss).
   * h: T×d hidden states; e: n1×d item table (all n1 items take part in the
   * softmax, padding row 0 included). For each size m in dims (ascending,
   * last = d; a smaller last size leaves the columns past it with zero
   * gradient) and each row t with targets[t] > 0 (targets in 0..n1−1):
   *   z = h[t, 0:m] · e[:, 0:m]ᵀ,  loss_{t,m} = logsumexp(z) − z[targets[t]].
   * Returns Σ_{t,m} loss_{t,m}; lossPerSize[k] (if given) gets Σ_t loss_{t,dims[k]}.
   * If gradH / gradE are given they are OVERWRITTEN with the gradient of
   * scale · Σ_{t,k} w_k · loss_{t,dims[k]} with respect to h (T×d) and e
   * (n1×d), w = sizeWeights (one per size; null: every w_k = 1).
   * Streams over chunks of items: memory O(T × chunk × K), never T × n1 × K.
   */
  softmaxXentMulti(
    h: Float32Array,
    e: Float32Array,
    t: number,
    n1: number,
    d: number,
    targets: Int32Array,
    dims: Int32Array,
    scale: number,
    gradH: Float32Array | null,
    gradE: Float32Array | null,
    lossPerSize: Float64Array | null,
    sizeWeights: Float32Array | null,
  ): number;

  /**
   * Diagonal complex linear recurrence over segments:
   * for rows r in [segments[s], segments[s+1]): h_r = λ ⊙ h_{r−1} + u_r, and
   * h_r = u_r at the first row of a segment. u, h: T×d (re and im arrays);
   * λ: d (re, im). segments has S+1 entries, segments[0] = 0, segments[S] = T,
   * non-decreasing (an empty segment is allowed).
   */
  lruScanForward(
    uRe: Float32Array,
    uIm: Float32Array,
    lamRe: Float32Array,
    lamIm: Float32Array,
    segments: Int32Array,
    t: number,
    d: number,
    hRe: Float32Array,
    hIm: Float32Array,
  ): void;

  /**
   * Backward of lruScanForward for a real loss L. dh = ∂L/∂Re h + i ∂L/∂Im h.
   * Writes (overwrites) du likewise, and ADDS ∂L/∂λ (as re + i im) into
   * dLamRe/dLamIm. Uses the forward outputs h. Within a segment, from its
   * last row back: g_r = dh_r + conj(λ)·g_{r+1} (g past the segment = 0),
   * du_r = g_r, and dλ += g_r·conj(h_{r−1}) for every row but the first.
   */
  lruScanBackward(
    dhRe: Float32Array,
    dhIm: Float32Array,
    hRe: Float32Array,
    hIm: Float32Array,
    lamRe: Float32Array,
    lamIm: Float32Array,
    segments: Int32Array,
    t: number,
    d: number,
    duRe: Float32Array,
    duIm: Float32Array,
    dLamRe: Float32Array,
    dLamIm: Float32Array,
  ): void;

  /**
   * Chunk-wise layer norm (MRL LayerNorm): for every row and every chunk
   * [bounds[k], bounds[k+1]) independently: y = (x − mean)·rstd·gamma + beta,
   * rstd = 1/sqrt(var + eps) (biased variance). bounds = [0, m1, ..., d].
   * Writes y (T×d), mean and rstd (T×K each, K = bounds.length − 1).
   */
  layerNormForward(
    x: Float32Array,
    t: number,
    d: number,
    bounds: Int32Array,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
  ): void;

  /** Backward of layerNormForward: writes dx, ADDS into dGamma and dBeta. */
  layerNormBackward(
    dy: Float32Array,
    x: Float32Array,
    t: number,
    d: number,
    bounds: Int32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dGamma: Float32Array,
    dBeta: Float32Array,
  ): void;

  /**
   * Full-ranking ranks for evaluation (docs/method.md §2), every size in one pass.
   * h: b×d (one row per user), e: n1×d. For row i, size dims[k]:
   * score_j = h[i, 0:m] · e[j, 0:m]; rank = 1 + #{ j in 1..n1−1, j ≠ target,
   * j not excluded for row i : score_j >= score_target }. Item 0 is never ranked.
   * Ties count against the target, and so does NaN: the test is
   * !(score_j < score_target), so a row of equal (or NaN) scores gets the worst
   * rank. targets are in 1..n1−1.
   * exclude (optional): items of row i are excludeItems[excludeOffsets[i] ..
   * excludeOffsets[i+1]) (a target listed there still counts as the target;
   * repeats and item 0 are harmless). Writes ranks[i*K + k]. The native kernel
   * packs the whole item table once per call: pass many users per call.
   */
  rankTargets(
    h: Float32Array,
    e: Float32Array,
    b: number,
    n1: number,
    d: number,
    targets: Int32Array,
    dims: Int32Array,
    excludeOffsets: Int32Array | null,
    excludeItems: Int32Array | null,
    ranks: Int32Array,
  ): void;

  /**
   * The k best items of every user, for serving. h: b×d user vectors, e: n1×d
   * item table (row 0 is the padding item, never returned); score_j =
   * h[i, :] · e[j, :]. Writes ids[i*k + r] and scores[i*k + r], r = 0..k−1:
   * the k highest scores of row i, higher first, equal scores by lower id; NaN
   * scores are never returned, and entries past the items available get id 0
   * and score −Infinity. Scores may differ from a float64 dot product by
   * float32 rounding; the choice among scores that round equal follows them.
   */
  topItems(h: Float32Array, e: Float32Array, b: number, n1: number, d: number, k: number, ids: Int32Array, scores: Float32Array): void;

  /** y[r, j] += v[j] for every row r of the t×d matrix y (float32 adds; the bias add). */
  addRowVector(y: Float32Array, t: number, d: number, v: Float32Array): void;

  /**
   * acc[j] += Σ_r x[r, j] over the rows of the t×d matrix x (the bias
   * gradient), added to acc[j] one row at a time in row order r = 0..t−1, each
   * add rounded to float32.
   */
  addColumnSums(x: Float32Array, t: number, d: number, acc: Float32Array): void;

  /**
   * C += S·B, C rows×d, B bRows×d, S a rows×bRows sparse matrix in compressed
   * rows (the item table's attribute vectors; with S transposed, their
   * gradient). Row r of S holds the entries p in [rowStart[r], rowStart[r+1]),
   * entry p at column columns[p] (in 0..bRows−1) with value weights[p].
   * rowStart has rows + 1 entries and rises from rowStart[0] = 0 (non-decreasing:
   * a row may be empty); columns and weights have rowStart[rows] entries (a
   * column may repeat within a row). For each row r, each entry p in order and
   * k = 0..d−1: c[r, k] = float32(c[r, k] + float32(weights[p] · b[columns[p], k])),
   * a float32 product then a float32 add (no fused multiply-add).
   */
  addSparseRowsProduct(
    c: Float32Array,
    rows: number,
    d: number,
    rowStart: Int32Array,
    columns: Int32Array,
    weights: Float32Array,
    b: Float32Array,
    bRows: number,
  ): void;

  /**
   * One AdamW step over the range [offset, offset + size) of flat params,
   * grads and moments m, v, in float64 as JavaScript computes it, every
   * operation rounded (no fused multiply-add), with c1 = 1 − beta1, c2 = 1 − beta2:
   *   g = grads[i],  mi = beta1·m[i] + c1·g,  vi = beta2·v[i] + (c2·g)·g,
   *   params[i] = params[i]·keep − (stepSize·mi) / (sqrt(vi)·invSqrtBc2 + eps)
   * (the unrounded mi and vi), then m[i] = mi and v[i] = vi, stored as float32.
   * As AdamW calls it: stepSize = lr / (1 − beta1^step), invSqrtBc2 =
   * 1 / sqrt(1 − beta2^step), keep = 1 − lr·weightDecay (1 where not decayed).
   * params, m and v are updated in place (outputs: none may overlap grads).
   */
  adamwUpdate(
    params: Float32Array,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    offset: number,
    size: number,
    beta1: number,
    beta2: number,
    eps: number,
    stepSize: number,
    invSqrtBc2: number,
    keep: number,
  ): void;
}
