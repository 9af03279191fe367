/**
 * Adaptive retrieval, the MRL funnel: shortlist the catalogue with a small size
 * (cheap: m_s floats per item), then rerank the shortlist with a large size.
 * One user vector of the large size serves both steps, since its first m_s
 * coordinates are exactly the size-m_s user vector (docs/method.md §1). Browser-safe.
 */
import type { PairCounts } from '../model/count-prior';
import type { InferenceEngine } from './engine';
import type { RankedItem } from './top-k';

/** How to run the funnel. */
export interface FunnelOptions {
  /** Size that ranks the whole catalogue (or the candidates). */
  shortlistSize: number;
  /** Items kept after the shortlist step (>= k). */
  shortlist: number;
  /** Size that reranks the shortlist (the answer's size). */
  size: number;
  /** Items returned. */
  k: number;
  /** Items never returned. */
  exclude?: Iterable<number>;
  /** Restrict the first step to these items. */
  candidates?: ArrayLike<number>;
  /** The user's history: with a count prior, both steps add its bonuses (at their own size's β). */
  history?: ArrayLike<number>;
  /** Pairs counted since the prior's counts were (see RankOptions). */
  extraCounts?: PairCounts | null;
}

/** The best k items by the funnel; `user` must be a vector of width >= options.size. */
export function funnelRank(engine: InferenceEngine, user: Float32Array, options: FunnelOptions): RankedItem[] {
  const { history, extraCounts } = options;
  const shortlist = engine.rank(user, options.shortlistSize, {
    k: options.shortlist,
    exclude: options.exclude,
    candidates: options.candidates,
    history,
    extraCounts,
  });
  return engine.rank(user, options.size, { k: options.k, candidates: shortlist.map((r) => r.id), history, extraCounts });
}
