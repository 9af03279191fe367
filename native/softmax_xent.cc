// Fused multi-size softmax cross-entropy (types.ts softmaxXentMulti).
//
// Shapes: T rows of h (only rows with a target take part: A of them), n1 items
// of e, sizes dims[0 .. K-1], depth = dims[K-1] <= d.
//
// The items are cut into chunks of `chunk` items and the chunks into a few
// contiguous groups per thread (a group is one task). For a tile of (rows
// block × item chunk) the snapshot kernel yields the logits of every size in
// one pass over the depth (size k's logits are the running dot product read
// out at dims[k]).
//   Pass 1: per (row, size), an online max and sum of exp over the group's
//           chunks, merged over groups in group order → logsumexp; the target's
//           logit is read from the tile that holds it.
//   Pass 2 (only if a gradient is wanted): recompute the tile's logits; going
//           down the sizes, G = Σ_{k' >= k} scale_k'·(softmax_k' − onehot) is the
//           gradient of the logits for the dims of chunk C(k) = [dims[k-1],
//           dims[k]), so gradH[rows, C(k)] += G · e[items, C(k)] and
//           gradE[items, C(k)] += Gᵀ · h[rows, C(k)], G read in place and the
//           other operand packed once (h per call, e per chunk). gradE rows of
//           a chunk belong to one task; gradH is summed per group and the
//           groups are added in group order. The groups depend only on the
//           shapes and the thread count, so results are deterministic for a
//           thread count.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "kernels.h"
#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int64_t kBlockRows = (96 + kMR - 1) / kMR * kMR;  // rows of h per tile

struct Problem {
  const float* h;         // A × d rows that have a target (h itself when every row has one)
  const float* h_packed;  // the same rows, packed block by block for the snapshot kernel
  const int32_t* target;  // A targets (> 0)
  const float* e;
  int64_t rows, n1, d, depth;
  const int32_t* dims;
  int sizes;
  float scales[kMaxSizes];  // the gradient's factor per size
  int64_t block_rows;       // rows per block (a multiple of kMR)
  int64_t chunk;            // items per chunk (a multiple of kNR)
  int64_t chunks, groups;
  // Gradient products: the dims of size k's chunk C(k), padded to whole kNR
  // slivers, start at column panel_start[k] of a panel of panel_start[sizes].
  int64_t panel_start[kMaxSizes + 1];
  const float* h_panels;  // row block at r0: h[block, C(k)] packed at (r0 · panel_cols + panel_start[k] · rows)
};

// The logits of every size for rows [r0, r0+rows) × the chunk packed in
// items_packed: logits + k·stride + r·chunk + j, stride = block_rows·chunk.
void tile_logits(const Problem& p, int64_t r0, int64_t rows, const float* items_packed, int64_t items, float* logits) {
  const int64_t stride = p.block_rows * p.chunk;
  float* out[kMaxSizes];
  for (int k = 0; k < p.sizes; ++k) out[k] = logits + k * stride;
  const float* block = p.h_packed + r0 * p.depth;
  // Item slivers outer: one stays in L1 while the rows' slivers stream from L2.
  for (int64_t j = 0; j < items; j += kNR) {
    for (int64_t i = 0; i < rows; i += kMR) {
      snapshot_tile(block + i * p.depth, items_packed + j * p.depth, p.dims, p.sizes, out, i * p.chunk + j, p.chunk);
    }
  }
}

struct Stats {
  float* max;     // groups × A × K running max
  double* sum;    // groups × A × K running Σ exp(z − max)
  float* target;  // A × K target logits
};

void pass_one_group(const Problem& p, const Stats& s, int64_t group, bool& out_of_memory) {
  const int64_t stride = p.block_rows * p.chunk;
  float* items_packed = scratch(kScratchItemsPacked, p.chunk * p.depth);
  float* logits = scratch(kScratchLogits, p.sizes * stride);
  if (items_packed == nullptr || logits == nullptr) {
    __atomic_store_n(&out_of_memory, true, __ATOMIC_RELAXED);
    return;
  }
  float* group_max = s.max + group * p.rows * p.sizes;
  double* group_sum = s.sum + group * p.rows * p.sizes;
  for (int64_t i = 0; i < p.rows * p.sizes; ++i) {
    group_max[i] = -INFINITY;
    group_sum[i] = 0.0;
  }
  for (int64_t c = part_start(p.chunks, p.groups, group); c < part_start(p.chunks, p.groups, group + 1); ++c) {
    const int64_t j0 = c * p.chunk;
    const int64_t items = min64(p.chunk, p.n1 - j0);
    pack_rows_as_b(p.e, p.d, j0, items, p.depth, items_packed);
    for (int64_t r0 = 0; r0 < p.rows; r0 += p.block_rows) {
      const int64_t rows = min64(p.block_rows, p.rows - r0);
      tile_logits(p, r0, rows, items_packed, items, logits);
      for (int k = 0; k < p.sizes; ++k) {
        for (int64_t r = 0; r < rows; ++r) {
          const float* z = logits + k * stride + r * p.chunk;
          const int64_t at = (r0 + r) * p.sizes + k;
          Vec vmx = splat(-INFINITY);
          for (int64_t j = 0; j < items; j += kW) {
            Vec v = load(z + j);
            vmx = vmax(vmx,
                       items - j >= kW ? v : (lane_index() < static_cast<int32_t>(items - j) ? v : splat(-INFINITY)));
          }
          const float old_max = group_max[at];
          const float new_max = fmaxf(old_max, hmax(vmx));
          const Vec shift = splat(new_max);
          Vec vsum = Vec{};
          for (int64_t j = 0; j < items; j += kW) {
            Vec ez = vexp(load(z + j) - shift);
            vsum += items - j >= kW ? ez : keep_first(ez, static_cast<int>(items - j));
          }
          const double rescale = old_max == -INFINITY ? 0.0 : exp(static_cast<double>(old_max) - new_max);
          group_sum[at] = group_sum[at] * rescale + hsum(vsum);
          group_max[at] = new_max;
          const int64_t target = p.target[r0 + r];
          if (target >= j0 && target < j0 + items) s.target[at] = z[target - j0];
        }
      }
    }
  }
}

void pass_two_group(const Problem& p, const float* lse, float* grad_h_group, float* grad_e, int64_t group,
                    bool& out_of_memory) {
  const int64_t stride = p.block_rows * p.chunk;
  float* items_packed = scratch(kScratchItemsPacked, p.chunk * p.depth);
  float* logits = scratch(kScratchLogits, p.sizes * stride);
  float* grad = scratch(kScratchGradient, stride);
  const int64_t panel_cols = p.panel_start[p.sizes];
  float* item_panels = grad_h_group != nullptr ? scratch(kScratchItemPanels, p.chunk * panel_cols) : nullptr;
  if (items_packed == nullptr || logits == nullptr || grad == nullptr ||
      (grad_h_group != nullptr && item_panels == nullptr)) {
    __atomic_store_n(&out_of_memory, true, __ATOMIC_RELAXED);
    return;
  }
  for (int64_t c = part_start(p.chunks, p.groups, group); c < part_start(p.chunks, p.groups, group + 1); ++c) {
    const int64_t j0 = c * p.chunk;
    const int64_t items = min64(p.chunk, p.n1 - j0);
    pack_rows_as_b(p.e, p.d, j0, items, p.depth, items_packed);
    for (int k = 0; grad_h_group != nullptr && k < p.sizes; ++k) {
      const int64_t lo = k == 0 ? 0 : p.dims[k - 1];
      pack_b_panel(p.e + j0 * p.d + lo, p.d, items, p.dims[k] - lo, item_panels + p.panel_start[k] * items);
    }
    for (int64_t r0 = 0; r0 < p.rows; r0 += p.block_rows) {
      const int64_t rows = min64(p.block_rows, p.rows - r0);
      tile_logits(p, r0, rows, items_packed, items, logits);
      for (int k = p.sizes - 1; k >= 0; --k) {
        const Vec scale = splat(p.scales[k]);
        for (int64_t r = 0; r < rows; ++r) {
          const float* z = logits + k * stride + r * p.chunk;
          float* g = grad + r * p.chunk;
          const Vec shift = splat(lse[(r0 + r) * p.sizes + k]);
          // Lanes past `items` hold harmless values that no product reads.
          for (int64_t j = 0; j < items; j += kW) {
            Vec softmax = vexp(load(z + j) - shift) * scale;
            store(g + j, k == p.sizes - 1 ? softmax : load(g + j) + softmax);
          }
          const int64_t target = p.target[r0 + r];
          if (target >= j0 && target < j0 + items) g[target - j0] -= p.scales[k];
        }
        const int64_t lo = k == 0 ? 0 : p.dims[k - 1];
        const int64_t width = p.dims[k] - lo;
        bool ok = true;
        if (grad_h_group != nullptr) {
          ok &= gemm_packed_b(false, rows, width, items, grad, p.chunk, item_panels + p.panel_start[k] * items,
                              grad_h_group + r0 * p.d + lo, p.d);
        }
        if (grad_e != nullptr) {
          ok &= gemm_packed_b(true, items, width, rows, grad, p.chunk,
                              p.h_panels + r0 * panel_cols + p.panel_start[k] * rows, grad_e + j0 * p.d + lo, p.d);
        }
        if (!ok) {
          __atomic_store_n(&out_of_memory, true, __ATOMIC_RELAXED);
          return;
        }
      }
    }
  }
}

}  // namespace

bool softmax_xent_multi(const float* h, const float* e, int64_t t, int64_t n1, int64_t d, const int32_t* targets,
                        const int32_t* dims, int num_dims, const float* scales, float* grad_h, float* grad_e,
                        double* loss_per_size) {
  for (int k = 0; k < num_dims; ++k) loss_per_size[k] = 0.0;
  if (grad_h != nullptr) memset(grad_h, 0, sizeof(float) * t * d);
  if (grad_e != nullptr) memset(grad_e, 0, sizeof(float) * n1 * d);

  // The rows that have a target, copied together unless that is every row.
  int64_t rows = 0;
  for (int64_t i = 0; i < t; ++i) rows += targets[i] > 0;
  if (rows == 0) return true;
  Problem p;
  p.e = e;
  p.rows = rows;
  p.n1 = n1;
  p.d = d;
  p.depth = dims[num_dims - 1];
  p.dims = dims;
  p.sizes = num_dims;
  for (int k = 0; k < num_dims; ++k) p.scales[k] = scales[k];
  p.block_rows = kBlockRows;
  p.chunk = snapshot_chunk(p.depth);
  p.chunks = (n1 + p.chunk - 1) / p.chunk;
  // A few groups per thread, so that a thread slowed by other work leaves
  // little behind; fewer when their gradH partial sums would pass 256 MB.
  const int64_t threads = pool_threads();
  p.groups = min64(4 * threads, p.chunks);
  while (p.groups > threads && grad_h != nullptr && p.groups * rows * d > (int64_t{64} << 20)) --p.groups;
  p.panel_start[0] = 0;
  for (int k = 0; k < num_dims; ++k) {
    p.panel_start[k + 1] = p.panel_start[k] + round_up(dims[k] - (k == 0 ? 0 : dims[k - 1]), kNR);
  }

  const int64_t padded_rows = round_up(rows, p.block_rows);
  const bool gradients = grad_h != nullptr || grad_e != nullptr;
  int32_t* row_of = static_cast<int32_t*>(malloc(sizeof(int32_t) * rows));
  int32_t* row_target = static_cast<int32_t*>(malloc(sizeof(int32_t) * rows));
  float* h_rows = rows == t ? nullptr : static_cast<float*>(malloc(sizeof(float) * rows * d));
  float* h_packed = allocate_floats(padded_rows * p.depth);
  float* stat_max = static_cast<float*>(malloc(sizeof(float) * p.groups * rows * num_dims));
  double* stat_sum = static_cast<double*>(malloc(sizeof(double) * p.groups * rows * num_dims));
  float* target_logit = static_cast<float*>(malloc(sizeof(float) * rows * num_dims));
  float* lse = static_cast<float*>(malloc(sizeof(float) * rows * num_dims));
  float* grad_h_groups = grad_h != nullptr ? static_cast<float*>(calloc(p.groups * rows * d, sizeof(float))) : nullptr;
  float* h_panels = grad_e != nullptr ? allocate_floats(padded_rows * p.panel_start[num_dims]) : nullptr;
  bool out_of_memory = row_of == nullptr || row_target == nullptr || (rows != t && h_rows == nullptr) ||
                       h_packed == nullptr || stat_max == nullptr || stat_sum == nullptr || target_logit == nullptr ||
                       lse == nullptr || (grad_h != nullptr && grad_h_groups == nullptr) ||
                       (grad_e != nullptr && h_panels == nullptr);
  if (!out_of_memory) {
    for (int64_t i = 0, a = 0; i < t; ++i) {
      if (targets[i] <= 0) continue;
      row_of[a] = static_cast<int32_t>(i);
      row_target[a] = targets[i];
      if (h_rows != nullptr) memcpy(h_rows + a * d, h + i * d, sizeof(float) * d);
      ++a;
    }
    p.h = h_rows != nullptr ? h_rows : h;
    p.h_packed = h_packed;
    p.target = row_target;
    p.h_panels = h_panels;
    for (int64_t r0 = 0; r0 < rows; r0 += p.block_rows) {
      const int64_t block = min64(p.block_rows, rows - r0);
      pack_rows_as_a(p.h, d, r0, block, p.depth, h_packed + r0 * p.depth);
      for (int k = 0; h_panels != nullptr && k < num_dims; ++k) {
        const int64_t lo = k == 0 ? 0 : dims[k - 1];
        pack_b_panel(p.h + r0 * d + lo, d, block, dims[k] - lo,
                     h_panels + r0 * p.panel_start[num_dims] + p.panel_start[k] * block);
      }
    }

    Stats stats{stat_max, stat_sum, target_logit};
    auto pass_one = [&](int group) { pass_one_group(p, stats, group, out_of_memory); };
    parallel(static_cast<int>(p.groups), pass_one);

    // Merge the groups' running sums in group order; loss = logsumexp − target logit.
    for (int64_t r = 0; r < rows && !out_of_memory; ++r) {
      for (int k = 0; k < num_dims; ++k) {
        const int64_t at = r * num_dims + k;
        float max = -INFINITY;
        for (int64_t g = 0; g < p.groups; ++g) max = fmaxf(max, stat_max[g * rows * num_dims + at]);
        double sum = 0.0;
        for (int64_t g = 0; g < p.groups; ++g) {
          const float group_max = stat_max[g * rows * num_dims + at];
          if (group_max != -INFINITY)
            sum += stat_sum[g * rows * num_dims + at] * exp(static_cast<double>(group_max) - max);
        }
        const double logsumexp = max + log(sum);
        lse[at] = static_cast<float>(logsumexp);
        loss_per_size[k] += logsumexp - target_logit[at];
      }
    }

    if (gradients && !out_of_memory) {
      auto pass_two = [&](int group) {
        pass_two_group(p, lse, grad_h_groups != nullptr ? grad_h_groups + group * rows * d : nullptr, grad_e, group,
                       out_of_memory);
      };
      parallel(static_cast<int>(p.groups), pass_two);
    }
    if (grad_h != nullptr && !out_of_memory) {
      const int64_t parts = min64(rows, 4 * pool_threads());
      auto reduce = [&](int part) {
        for (int64_t r = part_start(rows, parts, part); r < part_start(rows, parts, part + 1); ++r) {
          float* out = grad_h + static_cast<int64_t>(row_of[r]) * d;
          for (int64_t g = 0; g < p.groups; ++g) {
            const float* in = grad_h_groups + (g * rows + r) * d;
            for (int64_t c = 0; c < p.depth; ++c) out[c] += in[c];
          }
        }
      };
      parallel(static_cast<int>(parts), reduce);
    }
  }
  free(row_of);
  free(row_target);
  free(h_rows);
  free(h_packed);
  free(stat_max);
  free(stat_sum);
  free(target_logit);
  free(lse);
  free(grad_h_groups);
  free(h_panels);
  return !out_of_memory;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
