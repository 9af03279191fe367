// The k best items of every user (types.ts topItems): the service's "score the
// whole catalogue, keep the best k", without a users × items score matrix.
//
// Tiles are (item sliver) × (user sliver) as in rank_targets: the users are
// packed once as B slivers, the items are read in place from e as A rows (the
// item table is never copied), and the snapshot kernel gives the scores. A task
// is a block of users × a group of item chunks; each user keeps a heap of its k
// best so far, and a vector compare of each tile row against the users' current
// k-th best skips most items. Fewer than kSmallBatch users, whose tiles would be
// mostly padding, get plain dot products instead (their scores may differ from
// the tiles' by float32 rounding). The groups' heaps are merged at the end. The
// order (higher score first, equal scores by lower id) is total and a score does
// not depend on where it is computed, so the result does not depend on the
// thread count.
#include <math.h>
#include <stdlib.h>

#include "gemm.h"
#include "kernels.h"
#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int64_t kBlockUsers = (96 + kNR - 1) / kNR * kNR;
// Below this many users, scores come from dot products instead of tiles.
constexpr int64_t kSmallBatch = 4;

struct Entry {
  float score;
  int32_t id;
};

// True when a ranks below b (lower score; among equal scores, the higher id).
inline bool below(Entry a, Entry b) { return a.score < b.score || (a.score == b.score && a.id > b.id); }

// A heap of at most k entries whose root is the worst kept.
struct Heap {
  Entry* entries;
  int64_t* count;
};

// Puts e at the root of the heap a[0 .. n) (n >= 1) in place of the root and
// restores the order downwards.
void replace_root(Entry* a, int64_t n, Entry e) {
  int64_t i = 0;
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && below(a[c + 1], a[c])) ++c;
    if (!below(a[c], e)) break;
    a[i] = a[c];
    i = c;
  }
  a[i] = e;
}

// Keeps e if it is among the k best seen.
void offer(Heap h, int64_t k, Entry e) {
  int64_t& n = *h.count;
  Entry* a = h.entries;
  if (n == k) {
    if (below(a[0], e)) replace_root(a, n, e);
    return;
  }
  int64_t i = n++;  // append, sift up
  while (i > 0) {
    const int64_t parent = (i - 1) / 2;
    if (!below(e, a[parent])) break;
    a[i] = a[parent];
    i = parent;
  }
  a[i] = e;
}

struct TopProblem {
  const float* e;
  const float* users_packed;  // every user packed as B slivers (round_up(b, kNR) × d)
  int64_t users, n1, d, k;
  int64_t chunk, chunks, item_groups, blocks;
  Entry* heaps;     // group g, user u: heaps + (g·users + u)·k
  int64_t* counts;  // group g, user u: counts[g·users + u]
};

// The heaps of the users of `block` over the item chunks of `group`.
bool top_block(const TopProblem& r, int64_t block, int64_t group) {
  float* scores = scratch(kScratchLogits, r.chunk * kBlockUsers);  // item i, user q at i·kBlockUsers + q
  float* edge_items = scratch(kScratchItemsPacked, kMR * r.d);
  if (scores == nullptr || edge_items == nullptr) return false;
  float* out[1] = {scores};
  const int32_t ends[1] = {static_cast<int32_t>(r.d)};
  const int64_t u0 = block * kBlockUsers;
  const int64_t users = min64(kBlockUsers, r.users - u0);
  auto heap = [&](int64_t q) {
    const int64_t at = group * r.users + u0 + q;
    return Heap{r.heaps + at * r.k, r.counts + at};
  };
  for (int64_t q = 0; q < users; ++q) *heap(q).count = 0;
  for (int64_t c = part_start(r.chunks, r.item_groups, group); c < part_start(r.chunks, r.item_groups, group + 1);
       ++c) {
    const int64_t j0 = c * r.chunk;
    const int64_t items = min64(r.chunk, r.n1 - j0);
    for (int64_t i = 0; i < items; i += kMR) {
      const bool whole = items - i >= kMR;
      if (!whole) pack_rows_as_a(r.e, r.d, j0 + i, items - i, r.d, edge_items);
      for (int64_t q = 0; q < users; q += kNR) {
        const float* b = r.users_packed + (u0 + q) * r.d;
        if (whole)
          snapshot_tile_rows(r.e + (j0 + i) * r.d, r.d, b, ends, 1, out, i * kBlockUsers + q, kBlockUsers);
        else
          snapshot_tile(edge_items, b, ends, 1, out, i * kBlockUsers + q, kBlockUsers);
      }
    }
    // Vectorised over users: a lane passes when its score is not below the
    // user's k-th best (−∞ while the heap fills; NaN passes here and is
    // dropped below); lanes past the block's users never pass.
    for (int64_t q = 0; q < users; q += kW) {
      const VecI valid = lane_index() < static_cast<int32_t>(users - q);
      Vec threshold;
      for (int l = 0; l < kW; ++l) {
        const bool live = q + l < users;
        const Heap h = live ? heap(q + l) : Heap{nullptr, nullptr};
        threshold[l] = live && *h.count == r.k ? h.entries[0].score : -INFINITY;
      }
      for (int64_t i = j0 == 0 ? 1 : 0; i < items; ++i) {  // item 0 is the padding
        const Vec z = load(scores + i * kBlockUsers + q);
        const VecI pass = ~(z < threshold) & valid;
        bool any = false;
        for (int l = 0; l < kW; ++l) any |= pass[l] != 0;
        if (!any) continue;
        for (int l = 0; l < kW; ++l) {
          if (pass[l] == 0 || z[l] != z[l]) continue;
          const Heap h = heap(q + l);
          offer(h, r.k, Entry{z[l], static_cast<int32_t>(j0 + i)});
          if (*h.count == r.k) threshold[l] = h.entries[0].score;
        }
      }
    }
  }
  return true;
}

// Σ_p a[p] · b[p] in vector lanes (for the users of a small batch).
inline float dot(const float* a, const float* b, int64_t n) {
  Vec acc0 = Vec{}, acc1 = Vec{};
  int64_t p = 0;
  for (; p + 2 * kW <= n; p += 2 * kW) {
    acc0 += load(a + p) * load(b + p);
    acc1 += load(a + p + kW) * load(b + p + kW);
  }
  for (; p + kW <= n; p += kW) acc0 += load(a + p) * load(b + p);
  float sum = hsum(acc0 + acc1);
  for (; p < n; ++p) sum += a[p] * b[p];
  return sum;
}

// The heap of one user over the item chunks of `group` by dot products: a
// tile of kNR users would be mostly padding for a batch this small.
void top_user_by_dots(const TopProblem& r, const float* user, int64_t u, int64_t group) {
  const int64_t at = group * r.users + u;
  const Heap h{r.heaps + at * r.k, r.counts + at};
  *h.count = 0;
  float threshold = -INFINITY;
  const int64_t i0 = max64(1, part_start(r.chunks, r.item_groups, group) * r.chunk);  // item 0 is the padding
  const int64_t i1 = min64(r.n1, part_start(r.chunks, r.item_groups, group + 1) * r.chunk);
  for (int64_t i = i0; i < i1; ++i) {
    const float z = dot(user, r.e + i * r.d, r.d);
    if (z < threshold || z != z) continue;
    offer(h, r.k, Entry{z, static_cast<int32_t>(i)});
    if (*h.count == r.k) threshold = h.entries[0].score;
  }
}

}  // namespace

bool top_items(const float* h, const float* e, int64_t b, int64_t n1, int64_t d, int64_t k, int32_t* ids,
               float* scores) {
  if (b == 0 || k == 0) return true;
  TopProblem r;
  r.e = e;
  r.users = b;
  r.n1 = n1;
  r.d = d;
  r.k = k;
  r.chunk = max64(kMR, snapshot_chunk(d) / kMR * kMR);
  r.chunks = (n1 + r.chunk - 1) / r.chunk;
  r.blocks = (b + kBlockUsers - 1) / kBlockUsers;
  const int64_t threads = pool_threads();
  r.item_groups = threads == 1 ? 1 : min64(r.chunks, max64(1, (2 * threads + r.blocks - 1) / r.blocks));
  const int64_t slivers = (b + kNR - 1) / kNR;
  float* users_packed = allocate_floats(slivers * kNR * d);
  r.heaps = static_cast<Entry*>(malloc(sizeof(Entry) * r.item_groups * b * k));
  r.counts = static_cast<int64_t*>(malloc(sizeof(int64_t) * r.item_groups * b));
  Entry* merged = static_cast<Entry*>(malloc(sizeof(Entry) * k));
  bool failed = users_packed == nullptr || r.heaps == nullptr || r.counts == nullptr || merged == nullptr;
  if (!failed && b < kSmallBatch) {
    auto run = [&](int task) {
      top_user_by_dots(r, h + (task / r.item_groups) * d, task / r.item_groups, task % r.item_groups);
    };
    parallel(static_cast<int>(b * r.item_groups), run);
  } else if (!failed) {
    r.users_packed = users_packed;
    pack_rows_as_b(h, d, 0, b, d, users_packed);
    auto run = [&](int task) {
      if (!top_block(r, task / r.item_groups, task % r.item_groups)) __atomic_store_n(&failed, true, __ATOMIC_RELAXED);
    };
    parallel(static_cast<int>(r.blocks * r.item_groups), run);
  }
  if (!failed) {
    // Merge the groups' heaps of each user, then write them out best first.
    for (int64_t u = 0; u < b; ++u) {
      int64_t count = 0;
      const Heap out{merged, &count};
      for (int64_t g = 0; g < r.item_groups; ++g) {
        const int64_t at = g * b + u;
        for (int64_t x = 0; x < r.counts[at]; ++x) offer(out, k, r.heaps[at * k + x]);
      }
      for (int64_t x = count; x < k; ++x) {
        ids[u * k + x] = 0;
        scores[u * k + x] = -INFINITY;
      }
      // Pop the worst into the last free slot until the heap is empty.
      for (; count > 0; --count) {
        ids[u * k + count - 1] = merged[0].id;
        scores[u * k + count - 1] = merged[0].score;
        if (count > 1) replace_root(merged, count - 1, merged[count - 1]);
      }
    }
  }
  free(users_packed);
  free(r.heaps);
  free(r.counts);
  free(merged);
  return !failed;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
