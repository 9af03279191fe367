/**
 * Recommendation requests and answers, shared by `fmrlrec recommend`, the HTTP
 * service and the browser demo: check a request, resolve its items, rank, and
 * attach ASINs and titles. Browser-safe.
 */
import { UserError } from '../util/errors';
import type { Catalogue, ItemRef, Resolved } from './catalogue';
import { gatherRows, type InferenceEngine } from './engine';
import { funnelRank } from './funnel';
import type { RankedItem } from './top-k';

/** A recommendation request (the HTTP body uses snake_case names for the same fields). */
export interface RecommendRequest {
  /** The user's items, oldest first: ASINs or ids. */
  history: ItemRef[];
  /** Items to return. */
  k: number;
  /** Size to rank with (default: the model's largest). */
  size?: number;
  /** Never return items of the history. */
  excludeHistory?: boolean;
  /** Rank only these items. */
  candidates?: ItemRef[];
  /** Shortlist with a small size, rerank with `size` (the MRL funnel). */
  funnel?: { size: number; shortlist: number };
}

/** One recommended item. */
export interface RecommendedItem {
  id: number;
  asin: string;
  title: string;
  score: number;
}

/**
 * The answer: `{"size", "history_used", "items"}`, plus `unknown` when some
 * references named no item. `history_used` 0 (an empty history, or one whose
 * items are all unknown) means the items are the answer for a user with no
 * history; callers should say so.
 */
export interface RecommendResponse {
  size: number;
  /** History items the model read: those found in the catalogue, the latest `maxLen` of them at most. */
  history_used: number;
  items: RecommendedItem[];
  unknown?: { history?: ItemRef[]; candidates?: ItemRef[] };
}

/** A request that cannot be answered, naming the offending field; `status` is its HTTP status (400 unless said). */
export class RequestError extends UserError {
  constructor(
    readonly field: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Limits on what one request may ask for. */
export interface RequestLimits {
  maxK: number;
  maxHistory: number;
  maxCandidates: number;
}

/** The service's default request limits: k up to 1000, 10 000 history items, 100 000 candidates. */
export const DEFAULT_LIMITS: RequestLimits = { maxK: 1000, maxHistory: 10_000, maxCandidates: 100_000 };

const REQUEST_FIELDS = new Set(['history', 'k', 'size', 'exclude_history', 'candidates', 'funnel']);

function isItemRef(v: unknown): v is ItemRef {
  return (typeof v === 'string' && v.length > 0 && v.length <= 64) || (typeof v === 'number' && Number.isFinite(v));
}

function itemRefs(body: Record<string, unknown>, field: string, max: number): ItemRef[] {
  const v = body[field];
  if (!Array.isArray(v)) throw new RequestError(field, `"${field}" must be an array of item ASINs (strings) or ids (integers)`);
  if (v.length > max) throw new RequestError(field, `"${field}" has ${v.length} items; at most ${max} are accepted`);
  const bad = v.findIndex((x) => !isItemRef(x));
  if (bad >= 0) throw new RequestError(`${field}[${bad}]`, `"${field}[${bad}]" must be an ASIN (a non-empty string) or an item id (an integer)`);
  return v as ItemRef[];
}

function positiveInteger(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new RequestError(field, `"${field}" must be an integer from 1 to ${max}`);
  return v;
}

/**
 * Check a parsed JSON body `{history, k?, size?, exclude_history?, candidates?,
 * funnel?: {size, shortlist}}` against the engine; throws RequestError naming the field.
 */
export function parseRecommendRequest(body: unknown, engine: InferenceEngine, limits: RequestLimits = DEFAULT_LIMITS): RecommendRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RequestError('body', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!REQUEST_FIELDS.has(key)) throw new RequestError(key, `unknown field "${key}" (fields: ${[...REQUEST_FIELDS].join(', ')})`);
  }
  if (b.history === undefined) throw new RequestError('history', '"history" is required (an array of ASINs or ids, oldest first)');
  const request: RecommendRequest = { history: itemRefs(b, 'history', limits.maxHistory), k: 10 };
  if (b.k !== undefined) request.k = positiveInteger(b.k, 'k', limits.maxK);
  if (b.size !== undefined) request.size = servedSize(b.size, 'size', engine);
  if (b.exclude_history !== undefined) {
    if (typeof b.exclude_history !== 'boolean') throw new RequestError('exclude_history', '"exclude_history" must be true or false');
    request.excludeHistory = b.exclude_history;
  }
  if (b.candidates !== undefined) request.candidates = itemRefs(b, 'candidates', limits.maxCandidates);
  if (b.funnel !== undefined) {
    const f = b.funnel as Record<string, unknown>;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw new RequestError('funnel', '"funnel" must be an object {"size": m, "shortlist": n}');
    for (const key of Object.keys(f)) {
      if (key !== 'size' && key !== 'shortlist') throw new RequestError(`funnel.${key}`, `unknown field "funnel.${key}" (fields: size, shortlist)`);
    }
    request.funnel = { size: servedSize(f.size, 'funnel.size', engine), shortlist: positiveInteger(f.shortlist, 'funnel.shortlist', limits.maxCandidates) };
  }
  checkRequest(request, engine);
  return request;
}

function servedSize(v: unknown, field: string, engine: InferenceEngine): number {
  if (typeof v !== 'number' || !engine.servesSize(v)) throw new RequestError(field, `"${field}" must be one of the model's sizes: ${engine.sizes.join(', ')}`);
  return v;
}

/** Cross-field checks shared by every way of making a request. */
export function checkRequest(request: RecommendRequest, engine: InferenceEngine): void {
  const size = request.size ?? engine.width;
  if (!engine.servesSize(size)) throw new RequestError('size', `size ${size} is not one of the model's sizes: ${engine.sizes.join(', ')}`);
  if (!(Number.isInteger(request.k) && request.k >= 1)) throw new RequestError('k', 'k must be a positive integer');
  const f = request.funnel;
  if (f) {
    if (!engine.servesSize(f.size)) throw new RequestError('funnel.size', `funnel size ${f.size} is not one of the model's sizes: ${engine.sizes.join(', ')}`);
    if (f.size > size) throw new RequestError('funnel.size', `the funnel's shortlist size (${f.size}) must not exceed the ranking size (${size})`);
    if (f.shortlist < request.k) throw new RequestError('funnel.shortlist', `the shortlist (${f.shortlist}) must hold at least k = ${request.k} items`);
  }
}

/** Answer a checked request. Unknown items are reported, not fatal. */
export function recommend(engine: InferenceEngine, catalogue: Catalogue, request: RecommendRequest): RecommendResponse {
  return recommendBatch(engine, catalogue, [request])[0];
}

/**
 * Answer several checked requests together: requests of the same size share
 * one forward pass over all their histories and one scoring product over the
 * catalogue (those without candidates or a funnel), which is what a busy
 * server gains from. Answers come in request order.
 */
export function recommendBatch(engine: InferenceEngine, catalogue: Catalogue, requests: readonly RecommendRequest[]): RecommendResponse[] {
  const answers = new Array<RecommendResponse>(requests.length);
  const bySize = new Map<number, number[]>();
  requests.forEach((r, i) => {
    const size = r.size ?? engine.width;
    const group = bySize.get(size);
    if (group) group.push(i);
    else bySize.set(size, [i]);
  });
  for (const [size, group] of bySize) {
    const histories = group.map((i) => catalogue.resolveAll(requests[i].history));
    const candidates = group.map((i) => (requests[i].candidates ? catalogue.resolveAll(requests[i].candidates!) : null));
    const users = engine.userVectors(
      histories.map((h) => h.ids),
      size,
    );
    const user = (g: number) => users.subarray(g * size, (g + 1) * size);
    const excludes = group.map((i, g) => (requests[i].excludeHistory ? new Set(histories[g].ids) : null));
    const plain = group.map((_, g) => g).filter((g) => !requests[group[g]].funnel && !candidates[g]);
    const plainRanked =
      plain.length > 0
        ? engine.rankBatch(
            gatherRows(users, plain, size),
            size,
            plain.map((g) => requests[group[g]].k),
            plain.map((g) => excludes[g]),
            plain.map((g) => histories[g].ids),
          )
        : [];
    const plainRow = new Map(plain.map((g, row) => [g, row]));
    group.forEach((i, g) => {
      const request = requests[i];
      const exclude = excludes[g];
      const candidateIds = candidates[g] ? [...new Set(candidates[g]!.ids)] : undefined;
      let ranked: RankedItem[];
      if (request.funnel) {
        ranked = funnelRank(engine, user(g), {
          shortlistSize: request.funnel.size,
          shortlist: request.funnel.shortlist,
          size,
          k: request.k,
          exclude: exclude ?? undefined,
          candidates: candidateIds,
          history: histories[g].ids,
        });
      } else if (candidateIds) {
        ranked = engine.rank(user(g), size, { k: request.k, exclude: exclude ?? undefined, candidates: candidateIds, history: histories[g].ids });
      } else {
        ranked = plainRanked[plainRow.get(g)!];
      }
      answers[i] = response(catalogue, size, Math.min(histories[g].ids.length, engine.maxLen), ranked, histories[g], candidates[g]);
    });
  }
  return answers;
}

function response(
  catalogue: Catalogue,
  size: number,
  historyUsed: number,
  ranked: RankedItem[],
  history: Resolved,
  candidates: Resolved | null,
): RecommendResponse {
  const answer: RecommendResponse = {
    size,
    history_used: historyUsed,
    items: ranked.map(({ id, score }) => {
      const entry = catalogue.item(id);
      return { id, asin: entry?.asin ?? '', title: entry?.title ?? '', score };
    }),
  };
  if (history.unknown.length > 0 || (candidates && candidates.unknown.length > 0)) {
    answer.unknown = {};
    if (history.unknown.length > 0) answer.unknown.history = history.unknown;
    if (candidates && candidates.unknown.length > 0) answer.unknown.candidates = candidates.unknown;
  }
  return answer;
}
