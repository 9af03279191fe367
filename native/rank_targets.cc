// Full-ranking ranks of the targets for every size (types.ts rankTargets).
//
// Tiles are (chunk of items) × (block of users): the users are packed once per
// call as B slivers, the items are read in place from e as A rows (so the item
// table is never copied), and the snapshot kernel yields the scores of every
// size. A score counts against the target when it is not below the target's
// score (ties and NaN count against); item 0, the target itself and the user's
// excluded items are then taken back out. The target's score comes from the
// same snapshot kernel (the target rows gathered into an A sliver), so it is
// bit-equal to the target's score inside the tiles. Tasks are (block of users ×
// group of item chunks); counts are added atomically: integer sums, so the
// result does not depend on the order.
#include <stdlib.h>

#include "gemm.h"
#include "kernels.h"
#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int64_t kBlockUsers = (96 + kNR - 1) / kNR * kNR;

int compare_items(const void* a, const void* b) {
  const int32_t x = *static_cast<const int32_t*>(a), y = *static_cast<const int32_t*>(b);
  return (x > y) - (x < y);
}

// First position in sorted[lo..hi) whose value is >= value.
int64_t lower_bound(const int32_t* sorted, int64_t lo, int64_t hi, int64_t value) {
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (sorted[mid] < value)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

struct Ranking {
  const float* e;
  const float* users_packed;  // every user packed as B slivers (round_up(b, kNR) × depth)
  const int32_t* target;
  int64_t users, n1, d, depth;
  const int32_t* dims;
  int sizes;
  const int32_t* exclude_offsets;  // input lists (null: no exclusions)
  const int32_t* exclude_items;
  int32_t* excluded;      // per user u: sorted distinct excluded items other than 0 and
  int64_t* excluded_end;  //   the target, at [exclude_offsets[u] − exclude_offsets[0], excluded_end[u])
  float* target_score;    // users × sizes
  int32_t* ranks;
  int64_t chunk, chunks, item_groups, blocks;
};

// For the users of one NR sliver: target scores, ranks = 1, sorted exclusions.
bool prepare_sliver(const Ranking& r, int64_t sliver) {
  float* gathered = scratch(kScratchRowsPacked, kMR * r.depth);
  float* tile = scratch(kScratchLogits, r.sizes * kMR * kNR);
  if (gathered == nullptr || tile == nullptr) return false;
  float* out[kMaxSizes];
  for (int k = 0; k < r.sizes; ++k) out[k] = tile + k * kMR * kNR;
  const int64_t u0 = sliver * kNR;
  const int64_t users = min64(kNR, r.users - u0);
  // Tile row i holds the target of user u0 + q0 + i, column q0 + i that user.
  for (int64_t q0 = 0; q0 < users; q0 += kMR) {
    const int count = static_cast<int>(min64(kMR, users - q0));
    pack_gathered_rows_as_a(r.e, r.d, r.target + u0 + q0, count, r.depth, gathered);
    snapshot_tile(gathered, r.users_packed + u0 * r.depth, r.dims, r.sizes, out, 0, kNR);
    for (int i = 0; i < count; ++i) {
      for (int k = 0; k < r.sizes; ++k) {
        r.target_score[(u0 + q0 + i) * r.sizes + k] = out[k][i * kNR + q0 + i];
        r.ranks[(u0 + q0 + i) * r.sizes + k] = 1;
      }
    }
  }
  if (r.exclude_offsets == nullptr) return true;
  for (int64_t u = u0; u < u0 + users; ++u) {
    const int64_t start = r.exclude_offsets[u] - r.exclude_offsets[0];
    int64_t end = start;
    for (int64_t x = r.exclude_offsets[u]; x < r.exclude_offsets[u + 1]; ++x) {
      const int32_t item = r.exclude_items[x];
      if (item != 0 && item != r.target[u]) r.excluded[end++] = item;
    }
    qsort(r.excluded + start, static_cast<size_t>(end - start), sizeof(int32_t), compare_items);
    int64_t distinct = start;
    for (int64_t x = start; x < end; ++x) {
      if (x == start || r.excluded[x] != r.excluded[x - 1]) r.excluded[distinct++] = r.excluded[x];
    }
    r.excluded_end[u] = distinct;
  }
  return true;
}

// Counts, for the users of `block` and the item chunks of `group`, the items
// whose score is not below the target's, and adds the counts into ranks.
bool count_block(const Ranking& r, int64_t block, int64_t group) {
  const int64_t stride = r.chunk * kBlockUsers;  // one size's scores: item i, user q at i·kBlockUsers + q
  float* scores = scratch(kScratchLogits, r.sizes * stride);
  float* edge_items = scratch(kScratchItemsPacked, kMR * r.depth);
  if (scores == nullptr || edge_items == nullptr) return false;
  float* out[kMaxSizes];
  for (int k = 0; k < r.sizes; ++k) out[k] = scores + k * stride;
  const int64_t u0 = block * kBlockUsers;
  const int64_t users = min64(kBlockUsers, r.users - u0);
  int32_t counts[kMaxSizes * kBlockUsers] = {};  // size k, user q: minus the count
  for (int64_t c = part_start(r.chunks, r.item_groups, group); c < part_start(r.chunks, r.item_groups, group + 1);
       ++c) {
    const int64_t j0 = c * r.chunk;
    const int64_t items = min64(r.chunk, r.n1 - j0);
    for (int64_t i = 0; i < items; i += kMR) {
      const bool whole = items - i >= kMR;
      if (!whole) pack_rows_as_a(r.e, r.d, j0 + i, items - i, r.depth, edge_items);
      for (int64_t q = 0; q < users; q += kNR) {
        const float* b = r.users_packed + (u0 + q) * r.depth;
        if (whole)
          snapshot_tile_rows(r.e + (j0 + i) * r.d, r.d, b, r.dims, r.sizes, out, i * kBlockUsers + q, kBlockUsers);
        else
          snapshot_tile(edge_items, b, r.dims, r.sizes, out, i * kBlockUsers + q, kBlockUsers);
      }
    }
    // Vectorised over users: lanes of users past the block hold values nobody reads.
    for (int k = 0; k < r.sizes; ++k) {
      for (int64_t q = 0; q < users; q += kW) {
        Vec threshold;
        for (int l = 0; l < kW; ++l) threshold[l] = r.target_score[min64(u0 + q + l, r.users - 1) * r.sizes + k];
        VecI below = VecI{};
        const float* z = out[k] + q;
        for (int64_t i = 0; i < items; ++i) below += ~(load(z + i * kBlockUsers) < threshold);
        int32_t* count = counts + k * kBlockUsers + q;
        for (int l = 0; l < kW; ++l) count[l] += below[l];
      }
    }
    // Take back item 0, the target and the excluded items where they were counted.
    for (int64_t q = 0; q < users; ++q) {
      const int64_t u = u0 + q;
      const int64_t target = r.target[u];
      const int64_t ex_begin =
          r.exclude_offsets == nullptr
              ? 0
              : lower_bound(r.excluded, r.exclude_offsets[u] - r.exclude_offsets[0], r.excluded_end[u], j0);
      const int64_t ex_end =
          r.exclude_offsets == nullptr ? 0 : lower_bound(r.excluded, ex_begin, r.excluded_end[u], j0 + items);
      for (int k = 0; k < r.sizes; ++k) {
        const float* z = out[k] + q;
        const float threshold = r.target_score[u * r.sizes + k];
        int32_t taken = 0;
        if (j0 == 0 && !(z[0] < threshold)) ++taken;
        if (target >= j0 && target < j0 + items && !(z[(target - j0) * kBlockUsers] < threshold)) ++taken;
        for (int64_t x = ex_begin; x < ex_end; ++x) {
          if (!(z[(r.excluded[x] - j0) * kBlockUsers] < threshold)) ++taken;
        }
        counts[k * kBlockUsers + q] += taken;  // counts hold minus the count
      }
    }
  }
  for (int64_t q = 0; q < users; ++q) {
    for (int k = 0; k < r.sizes; ++k) {
      __atomic_fetch_sub(&r.ranks[(u0 + q) * r.sizes + k], counts[k * kBlockUsers + q], __ATOMIC_RELAXED);
    }
  }
  return true;
}

}  // namespace

bool rank_targets(const float* h, const float* e, int64_t b, int64_t n1, int64_t d, const int32_t* targets,
                  const int32_t* dims, int num_dims, const int32_t* exclude_offsets, const int32_t* exclude_items,
                  int32_t* ranks) {
  if (b == 0) return true;
  Ranking r;
  r.e = e;
  r.target = targets;
  r.users = b;
  r.n1 = n1;
  r.d = d;
  r.depth = dims[num_dims - 1];
  r.dims = dims;
  r.sizes = num_dims;
  r.exclude_offsets = exclude_offsets;
  r.exclude_items = exclude_items;
  r.ranks = ranks;
  r.chunk = max64(kMR, snapshot_chunk(r.depth) / kMR * kMR);
  r.chunks = (n1 + r.chunk - 1) / r.chunk;
  r.blocks = (b + kBlockUsers - 1) / kBlockUsers;
  const int64_t threads = pool_threads();
  r.item_groups = min64(r.chunks, max64(1, (4 * threads + r.blocks - 1) / r.blocks));

  const int64_t excluded_count = exclude_offsets == nullptr ? 0 : exclude_offsets[b] - exclude_offsets[0];
  const int64_t slivers = (b + kNR - 1) / kNR;
  float* users_packed = allocate_floats(slivers * kNR * r.depth);
  r.target_score = static_cast<float*>(malloc(sizeof(float) * b * num_dims));
  r.excluded = static_cast<int32_t*>(malloc(sizeof(int32_t) * (excluded_count + 1)));
  r.excluded_end = static_cast<int64_t*>(malloc(sizeof(int64_t) * b));
  bool failed =
      users_packed == nullptr || r.target_score == nullptr || r.excluded == nullptr || r.excluded_end == nullptr;
  if (!failed) {
    r.users_packed = users_packed;
    pack_rows_as_b(h, d, 0, b, r.depth, users_packed);
    auto prepare = [&](int sliver) {
      if (!prepare_sliver(r, sliver)) __atomic_store_n(&failed, true, __ATOMIC_RELAXED);
    };
    parallel(static_cast<int>(slivers), prepare);
  }
  if (!failed) {
    auto count = [&](int task) {
      if (!count_block(r, task / r.item_groups, task % r.item_groups))
        __atomic_store_n(&failed, true, __ATOMIC_RELAXED);
    };
    parallel(static_cast<int>(r.blocks * r.item_groups), count);
  }
  free(users_packed);
  free(r.target_score);
  free(r.excluded);
  free(r.excluded_end);
  return !failed;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
