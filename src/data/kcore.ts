/**
 * k-core filtering of an interaction list: repeatedly drop the interactions of
 * users and items with fewer than k interactions until every remaining user and
 * item has at least k (the "5-core" of the Amazon datasets).
 */

/**
 * Compute the k-core of a bipartite interaction list.
 *
 * Shapes: users, items: [E] dense indices (users in 0..numUsers-1, items in
 * 0..numItems-1), one entry per interaction; repeated pairs count as separate
 * interactions. Returns keep: [E], 1 where the interaction survives.
 *
 * @param users    user index of each interaction
 * @param items    item index of each interaction
 * @param numUsers number of distinct user indices
 * @param numItems number of distinct item indices
 * @param k        minimum interactions per user and per item (k <= 1 keeps all)
 */
export function kCoreMask(users: Int32Array, items: Int32Array, numUsers: number, numItems: number, k: number): Uint8Array {
  const count = users.length;
  const keep = new Uint8Array(count).fill(1);
  if (k <= 1) return keep;
  const userDegree = new Int32Array(numUsers);
  const itemDegree = new Int32Array(numItems);
  for (let e = 0; e < count; e++) {
    userDegree[users[e]]++;
    itemDegree[items[e]]++;
  }
  // Each pass removes every interaction touching a user or item below k; the
  // degrees it lowers may push others below k, so repeat until nothing changes.
  for (let changed = true; changed;) {
    changed = false;
    for (let e = 0; e < count; e++) {
      if (keep[e] === 1 && (userDegree[users[e]] < k || itemDegree[items[e]] < k)) {
        keep[e] = 0;
        userDegree[users[e]]--;
        itemDegree[items[e]]--;
        changed = true;
      }
    }
  }
  return keep;
}
