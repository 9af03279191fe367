// Full-ranking ranks of the targets for every size (types.ts rankTargets).
//
// The item table is packed once; tasks are (block of users × group of item
// chunks). For each tile the snapshot kernel yields the scores of every size;
// a score counts against the target when it is not below the target's score
// (ties and NaN count against). Item 0, the target itself and the row's
// excluded items are then taken back out. The target's score comes from the
// same snapshot kernel (on a sliver of gathered target rows), so it is bit-equal
// to the target's score inside the tiles. Counts are added atomically: integer
// sums, so the result does not depend on the order.
#include <stdlib.h>

#include "gemm.h"
#include "kernels.h"
#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

int compare_items(const void* a, const void* b) {
  const int32_t x = *static_cast<const int32_t*>(a), y = *static_cast<const int32_t*>(b);
  return (x > y) - (x < y);
}

// First position in sorted[lo..hi) whose value is >= value.
int64_t lower_bound(const int32_t* sorted, int64_t lo, int64_t hi, int64_t value) {
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

struct Ranking {
  const float* h;
  const float* e;
  const float* e_packed;  // the item table packed as B slivers (round_up(n1, kNR) × depth)
  const int32_t* target;
  int64_t users, n1, d, depth;
  const int32_t* dims;
  int sizes;
  const int32_t* exclude_offsets;  // input lists (null: no exclusions)
  const int32_t* exclude_items;
  int32_t* excluded;               // per user u: sorted distinct excluded items other than 0 and
  int64_t* excluded_end;           //   the target, at [exclude_offsets[u] − exclude_offsets[0], excluded_end[u])
  float* target_score;             // users × sizes
  int32_t* ranks;
  int64_t chunk, chunks, item_groups, blocks;
};

// Packs the users of block `block`; returns their count.
int64_t pack_users(const Ranking& r, int64_t block, float* packed) {
  const int64_t u0 = block * kSnapshotRows;
  const int64_t users = min64(kSnapshotRows, r.users - u0);
  pack_rows_as_a(r.h, r.d, u0, users, r.depth, packed);
  return users;
}

// For the users of one block: target scores, ranks = 1, sorted exclusions.
bool prepare_block(const Ranking& r, int64_t block) {
  float* packed_users = scratch(kScratchRowsPacked, kSnapshotRows * r.depth);
  float* packed_targets = scratch(kScratchItemsPacked, kNR * r.depth);
  float* tile = scratch(kScratchLogits, r.sizes * kMR * kNR);
  if (packed_users == nullptr || packed_targets == nullptr || tile == nullptr) return false;
  float* out[kMaxSizes];
  for (int k = 0; k < r.sizes; ++k) out[k] = tile + k * kMR * kNR;
  const int64_t u0 = block * kSnapshotRows;
  const int64_t users = pack_users(r, block, packed_users);
  for (int64_t i = 0; i < users; i += kMR) {
    const int count = static_cast<int>(min64(kMR, users - i));
    pack_gathered_rows_as_b(r.e, r.d, r.target + u0 + i, count, r.depth, packed_targets);
    snapshot_tile(packed_users + i * r.depth, packed_targets, r.dims, r.sizes, out, 0, kNR);
    for (int q = 0; q < count; ++q) {
      for (int k = 0; k < r.sizes; ++k) {
        r.target_score[(u0 + i + q) * r.sizes + k] = out[k][q * kNR + q];
        r.ranks[(u0 + i + q) * r.sizes + k] = 1;
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

// Counts, for the users of `block` and the chunks of `group`, the items whose
// score is not below the target's, and adds the counts into ranks.
bool count_block(const Ranking& r, int64_t block, int64_t group) {
  const int64_t stride = kSnapshotRows * r.chunk;
  float* packed_users = scratch(kScratchRowsPacked, kSnapshotRows * r.depth);
  float* scores = scratch(kScratchLogits, r.sizes * stride);
  if (packed_users == nullptr || scores == nullptr) return false;
  float* out[kMaxSizes];
  for (int k = 0; k < r.sizes; ++k) out[k] = scores + k * stride;
  const int64_t u0 = block * kSnapshotRows;
  const int64_t users = pack_users(r, block, packed_users);
  int64_t counts[kSnapshotRows * kMaxSizes] = {};
  for (int64_t c = part_start(r.chunks, r.item_groups, group); c < part_start(r.chunks, r.item_groups, group + 1); ++c) {
    const int64_t j0 = c * r.chunk;
    const int64_t items = min64(r.chunk, r.n1 - j0);
    for (int64_t i = 0; i < users; i += kMR) {
      for (int64_t j = 0; j < items; j += kNR) {
        snapshot_tile(packed_users + i * r.depth, r.e_packed + (j0 + j) * r.depth, r.dims, r.sizes, out,
                      i * r.chunk + j, r.chunk);
      }
    }
    for (int64_t q = 0; q < users; ++q) {
      const int64_t u = u0 + q;
      const int64_t target = r.target[u];
      const int64_t ex_begin = r.exclude_offsets == nullptr ? 0
          : lower_bound(r.excluded, r.exclude_offsets[u] - r.exclude_offsets[0], r.excluded_end[u], j0);
      const int64_t ex_end = r.exclude_offsets == nullptr ? 0
          : lower_bound(r.excluded, ex_begin, r.excluded_end[u], j0 + items);
      for (int k = 0; k < r.sizes; ++k) {
        const float* z = out[k] + q * r.chunk;
        const float threshold = r.target_score[u * r.sizes + k];
        const Vec vt = splat(threshold);
        VecI not_below = VecI{};
        for (int64_t j = 0; j < items; j += kW) {
          VecI counted = ~(load(z + j) < vt);
          if (items - j < kW) counted &= lane_index() < static_cast<int32_t>(items - j);
          not_below -= counted;  // counted lanes are -1
        }
        int64_t count = 0;
        for (int l = 0; l < kW; ++l) count += not_below[l];
        if (j0 == 0 && !(z[0] < threshold)) --count;
        if (target >= j0 && target < j0 + items && !(z[target - j0] < threshold)) --count;
        for (int64_t x = ex_begin; x < ex_end; ++x) {
          if (!(z[r.excluded[x] - j0] < threshold)) --count;
        }
        counts[q * r.sizes + k] += count;
      }
    }
  }
  for (int64_t q = 0; q < users; ++q) {
    for (int k = 0; k < r.sizes; ++k) {
      __atomic_fetch_add(&r.ranks[(u0 + q) * r.sizes + k], static_cast<int32_t>(counts[q * r.sizes + k]),
                         __ATOMIC_RELAXED);
    }
  }
  return true;
}

}  // namespace

bool rank_targets(const float* h, const float* e, int64_t b, int64_t n1, int64_t d,
                  const int32_t* targets, const int32_t* dims, int num_dims,
                  const int32_t* exclude_offsets, const int32_t* exclude_items, int32_t* ranks) {
  if (b == 0) return true;
  Ranking r;
  r.h = h;
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
  r.chunk = snapshot_chunk(r.depth);
  r.chunks = (n1 + r.chunk - 1) / r.chunk;
  r.blocks = (b + kSnapshotRows - 1) / kSnapshotRows;
  const int64_t threads = pool_threads();
  r.item_groups = min64(r.chunks, max64(1, (2 * threads + r.blocks - 1) / r.blocks));

  const int64_t excluded_count = exclude_offsets == nullptr ? 0 : exclude_offsets[b] - exclude_offsets[0];
  const int64_t slivers = (n1 + kNR - 1) / kNR;
  float* e_packed = static_cast<float*>(aligned_alloc(64, sizeof(float) * round_up(slivers * kNR * r.depth, 16)));
  r.target_score = static_cast<float*>(malloc(sizeof(float) * b * num_dims));
  r.excluded = static_cast<int32_t*>(malloc(sizeof(int32_t) * (excluded_count + 1)));
  r.excluded_end = static_cast<int64_t*>(malloc(sizeof(int64_t) * b));
  bool failed = e_packed == nullptr || r.target_score == nullptr || r.excluded == nullptr || r.excluded_end == nullptr;
  if (!failed) {
    r.e_packed = e_packed;
    const int64_t pack_tasks = min64(slivers, 4 * threads);
    auto pack = [&](int task) {
      const int64_t s0 = part_start(slivers, pack_tasks, task) * kNR;
      const int64_t s1 = min64(part_start(slivers, pack_tasks, task + 1) * kNR, n1);
      pack_rows_as_b(e, d, s0, s1 - s0, r.depth, e_packed + s0 * r.depth);
    };
    parallel(static_cast<int>(pack_tasks), pack);
    auto prepare = [&](int block) {
      if (!prepare_block(r, block)) __atomic_store_n(&failed, true, __ATOMIC_RELAXED);
    };
    parallel(static_cast<int>(r.blocks), prepare);
  }
  if (!failed) {
    auto count = [&](int task) {
      if (!count_block(r, task / r.item_groups, task % r.item_groups)) __atomic_store_n(&failed, true, __ATOMIC_RELAXED);
    };
    parallel(static_cast<int>(r.blocks * r.item_groups), count);
  }
  free(e_packed);
  free(r.target_score);
  free(r.excluded);
  free(r.excluded_end);
  return !failed;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
