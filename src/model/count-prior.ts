/**
 * The count prior: the part of the model that counts which items stood near
 * which in the histories (docs/method.md §5.11). An item's score at size m is
 *
 *   s_i = z_i + β_m · log(1 + c_i),
 *
 * z the network's score, c_i the item's count score for the user under the
 * prior's rule, β_m fitted per size on the validation targets
 * (src/eval/count-prior-fit.ts). Two rules:
 * - followers: the items that came after any of the user's last `context`
 *   items, within `window` steps, in anyone's history;
 * - neighbours: the same pairs counted in either order.
 * A pair k steps apart weighs 2^(window−k); the j-th item from the end of the
 * user's history (j = 0, 1, ...) weighs 2^(context−1−j). Every weight is a
 * whole number, so the counts are exact in float64.
 *
 * The counting baselines (src/eval/baselines.ts) rank by the same counts.
 * Browser-safe: the serving engine applies the prior of an exported model.
 */

/** The rules a count prior can use. */
export const COUNT_RULES = ['followers', 'neighbours'] as const;
export type CountRule = (typeof COUNT_RULES)[number];

/** How pairs are counted and looked up. */
export interface NeighbourRule {
  /** Pairs of items at most this many steps apart are counted; a pair k steps apart weighs 2^(window−k). */
  window: number;
  /** The user's last `context` items are looked up; the j-th from the end (j = 0, 1, ...) weighs 2^(context−1−j). */
  context: number;
  /** Count the item before as well as the item after (a pair in either order). */
  bothWays: boolean;
}

/** How far the followers and neighbours rules look. */
export interface NeighbourReach {
  /** Pairs at most this many steps apart are counted (1..MAX_REACH). */
  window: number;
  /** The user's last this many items are looked up (1..MAX_REACH). */
  context: number;
}

/** The reach of followers and neighbours unless told otherwise (chosen on validation: docs/results.md, "Counting baselines"). */
export const DEFAULT_REACH: NeighbourReach = { window: 3, context: 3 };

/** The largest window or context: the weights, powers of two, then keep every score an exact whole number. */
export const MAX_REACH = 10;

/** Throws a RangeError unless both parts of `reach` are integers in 1..MAX_REACH. */
function checkReach(reach: NeighbourReach): void {
  for (const [name, n] of Object.entries(reach)) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_REACH) throw new RangeError(`${name} must be an integer in 1..${MAX_REACH}, got ${n}`);
  }
}

/** The counting rule of a count prior. */
export function countRule(rule: CountRule, reach: NeighbourReach = DEFAULT_REACH): NeighbourRule {
  checkReach(reach);
  return { window: reach.window, context: reach.context, bothWays: rule === 'neighbours' };
}

/** Every counted pair as three parallel arrays, ordered by (first, second): what the exported file holds. */
export interface PairArrays {
  first: Int32Array;
  second: Int32Array;
  weight: Float64Array;
}

/**
 * What ranking with a count prior needs of its counts: {@link PairCounts}
 * while counting, {@link PackedPairCounts} once loaded from a file.
 */
export abstract class PairCountSource {
  constructor(readonly rule: NeighbourRule) {}

  /** Add w times the count of every pair (a, b) to scores[b]. */
  protected abstract addRow(a: number, w: number, scores: Map<number, number>): void;

  /** Every pair, ordered by (first, second). */
  abstract toArrays(): PairArrays;

  /**
   * Each item's count score for a user: the weighted counts of the user's last
   * rule.context items, added to `into` (default: a new map), which is returned.
   */
  scores(history: ArrayLike<number>, into: Map<number, number> = new Map()): Map<number, number> {
    const { context } = this.rule;
    for (let j = 0; j < context && j < history.length; j++) this.addRow(history[history.length - 1 - j], 2 ** (context - 1 - j), into);
    return into;
  }
}

/** Weighted pair counts: for every item a, the items b counted near it, with their weights summed. */
export class PairCounts extends PairCountSource {
  private readonly near = new Map<number, Map<number, number>>();

  /** The counts of every pair in `histories` (item ids, oldest first). */
  static fromHistories(histories: Iterable<ArrayLike<number>>, rule: NeighbourRule): PairCounts {
    const counts = new PairCounts(rule);
    for (const history of histories) {
      for (let t = 1; t < history.length; t++) counts.addStep(history, t);
    }
    return counts;
  }

  /** Count the pairs that history[t] makes with the items before it: what appending it to history[0..t) adds. */
  addStep(history: ArrayLike<number>, t: number): void {
    const { window, bothWays } = this.rule;
    const b = history[t];
    for (let k = 1; k <= window && t - k >= 0; k++) {
      const a = history[t - k];
      const w = 2 ** (window - k);
      this.add(a, b, w);
      if (bothWays) this.add(b, a, w);
    }
  }

  /** Add `w` to the count of the pair (a, b). */
  add(a: number, b: number, w: number): void {
    let row = this.near.get(a);
    if (!row) this.near.set(a, (row = new Map()));
    row.set(b, (row.get(b) ?? 0) + w);
  }

  /** The items counted near `a` and their weights (undefined: none). */
  row(a: number): ReadonlyMap<number, number> | undefined {
    return this.near.get(a);
  }

  /** Number of (a, b) pairs with a count. */
  get size(): number {
    let n = 0;
    for (const row of this.near.values()) n += row.size;
    return n;
  }

  protected addRow(a: number, w: number, scores: Map<number, number>): void {
    const row = this.near.get(a);
    if (row) for (const [item, n] of row) scores.set(item, (scores.get(item) ?? 0) + w * n);
  }

  toArrays(): PairArrays {
    const n = this.size;
    const first = new Int32Array(n);
    const second = new Int32Array(n);
    const weight = new Float64Array(n);
    let at = 0;
    for (const a of [...this.near.keys()].sort((x, y) => x - y)) {
      const row = this.near.get(a)!;
      for (const b of [...row.keys()].sort((x, y) => x - y)) {
        first[at] = a;
        second[at] = b;
        weight[at++] = row.get(b)!;
      }
    }
    return { first, second, weight };
  }
}

/**
 * Pair counts read from {@link PairArrays} (an exported model's count file),
 * packed in compressed rows: the pairs of first item a are entries
 * start[a] .. start[a + 1] of `second` and `weight`. Read-only; a few bytes
 * per pair where {@link PairCounts} keeps a map entry, so a lookup touches
 * little memory.
 */
export class PackedPairCounts extends PairCountSource {
  private constructor(
    rule: NeighbourRule,
    private readonly start: Int32Array,
    private readonly second: Int32Array,
    private readonly weight: Float32Array | Float64Array,
  ) {
    super(rule);
  }

  /**
   * Pack the pairs of `first`, `second` and `weight` (one length, ordered by
   * (first, second), items ≥ 0).
   * @throws RangeError when they are not
   */
  static fromArrays(rule: NeighbourRule, first: Int32Array, second: Int32Array, weight: Float32Array | Float64Array): PackedPairCounts {
    const n = first.length;
    if (second.length !== n || weight.length !== n) throw new RangeError('pair arrays of different lengths');
    for (let p = 0; p < n; p++) {
      const ordered = p === 0 || first[p] > first[p - 1] || (first[p] === first[p - 1] && second[p] > second[p - 1]);
      if (!ordered || first[p] < 0 || second[p] < 0) throw new RangeError(`pair ${p} is out of order or names a negative item`);
    }
    const start = new Int32Array((n > 0 ? first[n - 1] : 0) + 2);
    for (let p = 0; p < n; p++) start[first[p] + 1]++;
    for (let a = 1; a < start.length; a++) start[a] += start[a - 1];
    return new PackedPairCounts(rule, start, second, weight);
  }

  protected addRow(a: number, w: number, scores: Map<number, number>): void {
    if (a < 0 || a + 1 >= this.start.length) return;
    for (let p = this.start[a]; p < this.start[a + 1]; p++) {
      const item = this.second[p];
      scores.set(item, (scores.get(item) ?? 0) + w * this.weight[p]);
    }
  }

  toArrays(): PairArrays {
    const first = new Int32Array(this.second.length);
    for (let a = 0; a + 1 < this.start.length; a++) first.fill(a, this.start[a], this.start[a + 1]);
    return { first, second: this.second.slice(), weight: Float64Array.from(this.weight) };
  }
}

/** A fitted count prior: the rule, its counts and β per size. */
export interface CountPrior {
  rule: CountRule;
  reach: NeighbourReach;
  /** β_m by size m (keyed like MetricsBySize: "8", "16", ...). */
  beta: Record<string, number>;
  counts: PairCountSource;
}

/**
 * The prior's bonus β_m · log(1 + c_i) of every item with a count for a user
 * whose history is `history` (oldest first), at size m; items not in the map
 * get no bonus. Empty when β_m is 0. `extra` holds pairs counted since the
 * prior's counts were (the live service's events), counted with the same rule.
 */
export function countBonuses(prior: CountPrior, history: ArrayLike<number>, m: number, extra: PairCountSource | null = null): Map<number, number> {
  const beta = prior.beta[String(m)] ?? 0;
  if (beta === 0) return new Map();
  const scores = prior.counts.scores(history);
  if (extra) extra.scores(history, scores);
  for (const [item, c] of scores) scores.set(item, beta * Math.log1p(c));
  return scores;
}
