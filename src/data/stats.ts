/** Summary counts of a dataset, as in the statistics table of PROVENANCE.md. */
import type { Dataset } from './types';

/** Sizes of a dataset. */
export interface DatasetStats {
  /** Number of users (sequences). */
  users: number;
  /** Number of items N. */
  items: number;
  /** Total sequence length over all users. */
  interactions: number;
  /** Mean sequence length (0 for no users). */
  avgLen: number;
  /** Shortest sequence length (0 for no users). */
  minLen: number;
  /** Longest sequence length (0 for no users). */
  maxLen: number;
}

/** Count users, items and interactions of a dataset. */
export function datasetStats(ds: Dataset): DatasetStats {
  let interactions = 0;
  let minLen = Infinity;
  let maxLen = 0;
  for (const seq of ds.sequences) {
    interactions += seq.length;
    minLen = Math.min(minLen, seq.length);
    maxLen = Math.max(maxLen, seq.length);
  }
  const users = ds.sequences.length;
  return {
    users,
    items: ds.numItems,
    interactions,
    avgLen: users === 0 ? 0 : interactions / users,
    minLen: users === 0 ? 0 : minLen,
    maxLen,
  };
}
