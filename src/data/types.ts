/**
 * Core data types shared by every layer of fmrlrec.
 *
 * Items are numbered 1..N; 0 is the padding item. Users are numbered 0..U-1 in
 * file order. Every sequence is chronological.
 */

/** Text and image attributes of one item (all optional). */
export interface ItemInfo {
  /** External id, an Amazon ASIN for the Amazon datasets. */
  asin?: string;
  title?: string;
  brand?: string;
  price?: string | number;
  /** Flat list of category names (most general first). */
  categories?: string[];
  /** Main image URL, when known. */
  imageUrl?: string;
}

/** A sequential-recommendation dataset held in memory. */
export interface Dataset {
  /** Short name (e.g. "beauty"), used in reports. */
  name: string;
  /** N: items are 1..N, 0 is padding. */
  numItems: number;
  /** One chronological item sequence per user; values in 1..N. */
  sequences: Int32Array[];
  /** External user id per user index (length U). */
  userIds: string[];
  /** External item id per item (length N+1; index 0 is "" for padding). */
  itemIds: string[];
  /** Attributes per item (length N+1; index 0 is null). null when unknown. */
  items: (ItemInfo | null)[];
}

/** Leave-one-out split of every user's sequence (docs/method.md §2). */
export interface Split {
  /** Training sequence per user: all but the last two items. */
  train: Int32Array[];
  /** Validation target per user: the second-last item. */
  validTarget: Int32Array;
  /** Test target per user: the last item. */
  testTarget: Int32Array;
}

/**
 * A batch of variable-length sequences packed back to back, with no padding
 * positions except the explicit padding *item* that starts a training input
 * (docs/method.md §5). Position t of sequence b is row offsets[b] + t.
 */
export interface PackedBatch {
  /** Number of sequences B. */
  size: number;
  /** B+1 row offsets; sequence b occupies rows [offsets[b], offsets[b+1]). */
  offsets: Int32Array;
  /** Input item per row (0 = the padding item). Length T = offsets[B]. */
  inputs: Int32Array;
  /** Target item per row; 0 = no target at this row (ignored by the loss). */
  targets: Int32Array;
  /** User index of each sequence (length B). */
  users: Int32Array;
}
