// What the kernel sources of one variant share: the entry points that
// variant.cc gathers into the variant's KernelTable, per-thread scratch
// buffers, running a lambda on the thread pool, static work partitions.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "simd.h"
#include "thread_pool.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {

// What a scratch buffer is used for; each thread keeps one buffer per slot.
enum ScratchSlot {
  kScratchGemmA,        // gemm: packed block (or edge sliver) of op(A)
  kScratchGemmB,        // serial gemm: packed panel of op(B)
  kScratchRowsPacked,   // ranking: the users' target rows gathered into an A sliver
  kScratchItemsPacked,  // softmax: a chunk of item rows packed as B; ranking: an edge sliver of items
  kScratchLogits,       // softmax / ranking: the scores of a tile, one buffer per size
  kScratchGradient,     // softmax: gradient of the logits of a tile
  kScratchItemPanels,   // softmax: e[chunk, C(k)] of every size k, packed as B panels
  kScratchSlots
};

// A 64-byte-aligned buffer of at least `floats` floats, owned by the calling
// thread and reused by later calls with the same slot (contents not kept when
// it grows). Null when memory runs out.
float* scratch(ScratchSlot slot, size_t floats);

// The entry points (arguments as in kernels.h; sgemm is declared in gemm.h).
bool softmax_xent_multi(const float* h, const float* e, int64_t t, int64_t n1, int64_t d, const int32_t* targets,
                        const int32_t* dims, int num_dims, const float* scales, float* grad_h, float* grad_e,
                        double* loss_per_size);
bool lru_scan_forward(const float* u_re, const float* u_im, const float* lam_re, const float* lam_im,
                      const int32_t* segments, int64_t num_segments, int64_t t, int64_t d, float* h_re, float* h_im);
bool lru_scan_backward(const float* dh_re, const float* dh_im, const float* h_re, const float* h_im,
                       const float* lam_re, const float* lam_im, const int32_t* segments, int64_t num_segments,
                       int64_t t, int64_t d, float* du_re, float* du_im, float* dlam_re, float* dlam_im);
bool layer_norm_forward(const float* x, int64_t t, int64_t d, const int32_t* bounds, int num_chunks, const float* gamma,
                        const float* beta, float eps, float* y, float* mean, float* rstd);
bool layer_norm_backward(const float* dy, const float* x, int64_t t, int64_t d, const int32_t* bounds, int num_chunks,
                         const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                         float* dbeta);
bool rank_targets(const float* h, const float* e, int64_t b, int64_t n1, int64_t d, const int32_t* targets,
                  const int32_t* dims, int num_dims, const int32_t* exclude_offsets, const int32_t* exclude_items,
                  int32_t* ranks);
bool top_items(const float* h, const float* e, int64_t b, int64_t n1, int64_t d, int64_t k, int32_t* ids,
               float* scores);
bool add_row_vector(float* y, int64_t t, int64_t d, const float* v);
bool add_column_sums(const float* x, int64_t t, int64_t d, float* acc);
bool add_sparse_rows_product(float* c, int64_t rows, int64_t d, const int32_t* row_start, const int32_t* columns,
                             const float* weights, const float* b);
bool adamw_update(float* params, const float* grads, float* m, float* v, int64_t size, double beta1, double beta2,
                  double eps, double step_size, double inv_sqrt_bc2, double keep);

// A 64-byte-aligned array of `count` floats (at least one), released with
// free(); null when memory runs out.
static inline float* allocate_floats(int64_t count) {
  const size_t bytes = (static_cast<size_t>(count > 0 ? count : 1) * sizeof(float) + 63) / 64 * 64;
  return static_cast<float*>(aligned_alloc(64, bytes));
}

// Runs body(task) for task = 0..tasks-1 on the thread pool.
template <class Body>
static void parallel(int tasks, Body& body) {
  parallel_for(
      tasks, [](void* context, int task) { (*static_cast<Body*>(context))(task); }, &body);
}

// Start of part `index` when [0, total) is cut into `parts` nearly equal parts.
static inline int64_t part_start(int64_t total, int64_t parts, int64_t index) { return total * index / parts; }

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
