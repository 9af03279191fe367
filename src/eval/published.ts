/**
 * The paper's published figures, the only place they are typed in (reports and
 * docs take them from here).
 *
 * Source: "Train Once, Deploy Anywhere: Matryoshka Representation Learning for
 * Multimodal Recommendation" (fMRLRec; Wang, Yue, Zeng, Wang, McAuley; EMNLP 2024
 * Findings; arXiv 2409.16627): the main results table (full ranking, D = 1024)
 * and, for Beauty, Recall@10 per size read off the authors' plot (approximate).
 * Restated in docs/method.md §7.
 */

/** Where the figures come from, for report footnotes. */
export const PUBLISHED_SOURCE = 'fMRLRec paper (Wang et al., EMNLP 2024 Findings, arXiv 2409.16627), as restated in docs/method.md §7';

/** The item features behind the paper's figures (our runs use other encoders; reports say which). */
export const PUBLISHED_FEATURES = 'bge-large text + SigLIP image (frozen), D=1024';

/** The model width of the paper's figures. */
export const PUBLISHED_WIDTH = 1024;

/** One row of the paper's results table: test metrics of the largest size (D = 1024). */
export interface PublishedRow {
  /** Dataset as the paper names it (Beauty, Sports, Toys, Clothing); compare case-insensitively. */
  dataset: string;
  /** The paper's model: "LRURec (ID only)" or "fMRLRec". */
  model: string;
  /** What the model is, in the words reports use for runs (see report/method-label.ts). */
  method: string;
  /** The item features and width behind the row. */
  features: string;
  'NDCG@5': number;
  'Recall@5': number;
  'NDCG@10': number;
  'Recall@10': number;
}

const LRUREC = { method: 'item-ID embeddings only (LRURec)', features: `item IDs only, D=${PUBLISHED_WIDTH}` };
const FMRLREC = { method: "frozen features → projection (the paper's method)", features: PUBLISHED_FEATURES };

/** The paper's results table (docs/method.md §7). */
export const PUBLISHED_TABLE: readonly PublishedRow[] = [
  { dataset: 'Beauty', model: 'LRURec (ID only)', ...LRUREC, 'NDCG@5': 0.0339, 'Recall@5': 0.0565, 'NDCG@10': 0.0438, 'Recall@10': 0.0871 },
  { dataset: 'Beauty', model: 'fMRLRec', ...FMRLREC, 'NDCG@5': 0.0415, 'Recall@5': 0.0613, 'NDCG@10': 0.052, 'Recall@10': 0.0939 },
  { dataset: 'Sports', model: 'LRURec (ID only)', ...LRUREC, 'NDCG@5': 0.0204, 'Recall@5': 0.0344, 'NDCG@10': 0.0266, 'Recall@10': 0.0536 },
  { dataset: 'Sports', model: 'fMRLRec', ...FMRLREC, 'NDCG@5': 0.023, 'Recall@5': 0.0349, 'NDCG@10': 0.0284, 'Recall@10': 0.0516 },
  { dataset: 'Toys', model: 'LRURec (ID only)', ...LRUREC, 'NDCG@5': 0.0366, 'Recall@5': 0.0601, 'NDCG@10': 0.0463, 'Recall@10': 0.0901 },
  { dataset: 'Toys', model: 'fMRLRec', ...FMRLREC, 'NDCG@5': 0.0461, 'Recall@5': 0.0672, 'NDCG@10': 0.0552, 'Recall@10': 0.0956 },
  { dataset: 'Clothing', model: 'LRURec (ID only)', ...LRUREC, 'NDCG@5': 0.0104, 'Recall@5': 0.0192, 'NDCG@10': 0.014, 'Recall@10': 0.0304 },
  { dataset: 'Clothing', model: 'fMRLRec', ...FMRLREC, 'NDCG@5': 0.0193, 'Recall@5': 0.0333, 'NDCG@10': 0.0259, 'Recall@10': 0.0541 },
];

/** A published per-size curve: one metric of one model on one dataset, by size. */
export interface PublishedCurve {
  dataset: string;
  model: string;
  metric: 'NDCG@10' | 'Recall@10';
  /** Values read off a plot, so approximate. */
  bySize: ReadonlyArray<{ size: number; value: number }>;
}

/** The paper's per-size curves (docs/method.md §7): fMRLRec Recall@10 on Beauty, read off the plot. */
export const PUBLISHED_CURVES: readonly PublishedCurve[] = [
  {
    dataset: 'Beauty',
    model: 'fMRLRec',
    metric: 'Recall@10',
    bySize: [
      { size: 8, value: 0.015 },
      { size: 16, value: 0.018 },
      { size: 32, value: 0.024 },
      { size: 64, value: 0.036 },
      { size: 128, value: 0.053 },
      { size: 256, value: 0.072 },
      { size: 512, value: 0.089 },
      { size: 1024, value: 0.094 },
    ],
  },
];

/** The paper's table rows for a dataset name (case-insensitive; none for other datasets). */
export function publishedRows(dataset: string): PublishedRow[] {
  return PUBLISHED_TABLE.filter((r) => r.dataset.toLowerCase() === dataset.toLowerCase());
}

/** The paper's per-size curves for a dataset name (case-insensitive). */
export function publishedCurves(dataset: string): PublishedCurve[] {
  return PUBLISHED_CURVES.filter((c) => c.dataset.toLowerCase() === dataset.toLowerCase());
}
