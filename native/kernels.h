// The kernels of one variant as a table of plain functions. Each variant
// (baseline, avx2, avx512) compiles the same sources into its own namespace and
// exports one KernelTable; the addon (addon.cc) checks arguments, then calls
// through the table of the variant it was asked for. Argument meanings follow
// src/kernels/types.ts; these functions trust their arguments (sizes checked,
// arrays long enough, no output overlapping an input) and return false only
// when scratch memory cannot be allocated.
#pragma once

#include <stdint.h>

namespace fmrlrec {

// The most sizes (dims entries) a multi-size kernel accepts.
constexpr int kMaxSizes = 64;

struct KernelTable {
  const char* name;  // "baseline", "avx2" or "avx512"

  bool (*sgemm)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

  // scales: num_dims entries, the gradient's factor per size; loss_per_size (num_dims entries) is always
  // written; grad_h / grad_e may be null.
  bool (*softmax_xent_multi)(const float* h, const float* e, int64_t t, int64_t n1, int64_t d, const int32_t* targets,
                             const int32_t* dims, int num_dims, const float* scales, float* grad_h, float* grad_e,
                             double* loss_per_size);

  // segments has num_segments + 1 entries.
  bool (*lru_scan_forward)(const float* u_re, const float* u_im, const float* lam_re, const float* lam_im,
                           const int32_t* segments, int64_t num_segments, int64_t t, int64_t d, float* h_re,
                           float* h_im);

  bool (*lru_scan_backward)(const float* dh_re, const float* dh_im, const float* h_re, const float* h_im,
                            const float* lam_re, const float* lam_im, const int32_t* segments, int64_t num_segments,
                            int64_t t, int64_t d, float* du_re, float* du_im, float* dlam_re, float* dlam_im);

  // bounds has num_chunks + 1 entries.
  bool (*layer_norm_forward)(const float* x, int64_t t, int64_t d, const int32_t* bounds, int num_chunks,
                             const float* gamma, const float* beta, float eps, float* y, float* mean, float* rstd);

  bool (*layer_norm_backward)(const float* dy, const float* x, int64_t t, int64_t d, const int32_t* bounds,
                              int num_chunks, const float* gamma, const float* mean, const float* rstd, float* dx,
                              float* dgamma, float* dbeta);

  // exclude_offsets / exclude_items may both be null.
  bool (*rank_targets)(const float* h, const float* e, int64_t b, int64_t n1, int64_t d, const int32_t* targets,
                       const int32_t* dims, int num_dims, const int32_t* exclude_offsets, const int32_t* exclude_items,
                       int32_t* ranks);

  bool (*top_items)(const float* h, const float* e, int64_t b, int64_t n1, int64_t d, int64_t k, int32_t* ids,
                    float* scores);

  bool (*add_row_vector)(float* y, int64_t t, int64_t d, const float* v);

  bool (*add_column_sums)(const float* x, int64_t t, int64_t d, float* acc);

  // row_start has rows + 1 entries; every entry's column is a row of b.
  bool (*add_sparse_rows_product)(float* c, int64_t rows, int64_t d, const int32_t* row_start, const int32_t* columns,
                                  const float* weights, const float* b);

  // The range's arrays (params + offset, ...), size elements each.
  bool (*adamw_update)(float* params, const float* grads, float* m, float* v, int64_t size, double beta1, double beta2,
                       double eps, double step_size, double inv_sqrt_bc2, double keep);
};

namespace baseline {
extern const KernelTable kernel_table;
}
namespace avx2 {
extern const KernelTable kernel_table;
}
namespace avx512 {
extern const KernelTable kernel_table;
}

}  // namespace fmrlrec
