// Matrix products of one variant: the packed register-tiled micro-kernels, the
// serial blocked gemm the other kernels call inside their own tasks, and the
// "snapshot" tile kernel that yields the dot products of every prefix size in
// one pass (used for the multi-size logits and scores).
#pragma once

#include <stdint.h>

#include "simd.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {

// Packs rows [r0, r0+rows) of the row-major matrix src (row stride ld), columns
// [0, depth), into kMR-row slivers: sliver s holds, for p = 0..depth-1, the kMR
// values src[r0 + s·kMR + i, p] (0 for rows past `rows`). Fills
// round_up(rows, kMR) · depth floats.
void pack_rows_as_a(const float* src, int64_t ld, int64_t r0, int64_t rows, int64_t depth, float* out);

// Packs rows [r0, r0+rows) of src (row stride ld), columns [0, depth), as the
// columns of kNR-column slivers: sliver s holds, for p = 0..depth-1, the kNR
// values src[r0 + s·kNR + j, p] (0 past `rows`). Fills round_up(rows, kNR) · depth.
void pack_rows_as_b(const float* src, int64_t ld, int64_t r0, int64_t rows, int64_t depth, float* out);

// Like pack_rows_as_a for one sliver whose row i is row index[i] of src
// (count <= kMR; rows past count are 0). Fills kMR · depth floats.
void pack_gathered_rows_as_a(const float* src, int64_t ld, const int32_t* index, int count, int64_t depth, float* out);

// One kMR × kNR tile of dot products of an A sliver and a packed B sliver,
// read out at several depths: for s = 0..num_ends-1, out[s][offset + i·ld + j]
// gets Σ_{p < ends[s]} A[i, p] · b[p·kNR + j] (ends ascending). snapshot_tile
// takes a packed A sliver (A[i, p] = a[p·kMR + i]); snapshot_tile_rows reads kMR
// rows of a row-major matrix in place (A[i, p] = a[i·lda + p]). An entry's sum
// is the same chain of operations wherever its row and column sit and however
// A is held, so equal inputs give bit-equal results.
void snapshot_tile(const float* a, const float* b, const int32_t* ends, int num_ends, float* const* out, int64_t offset,
                   int64_t ld);
void snapshot_tile_rows(const float* a, int64_t lda, const float* b, const int32_t* ends, int num_ends,
                        float* const* out, int64_t offset, int64_t ld);

// Items per chunk for the kernels built on the snapshot tiles (softmax,
// ranking): about 512 KB of item rows (items × depth floats), so that a chunk
// stays in L2; a multiple of kNR.
int64_t snapshot_chunk(int64_t depth);

// C = alpha · op(A) · op(B) + beta · C on the calling thread (beta = 0: C is
// not read). Uses the caller's scratch slots kScratchGemmA / kScratchGemmB.
bool gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Packs the row-major k × n matrix b (row stride ldb) as a panel of kNR-column
// slivers for gemm_packed_b: round_up(n, kNR) · k floats, zero-padded.
void pack_b_panel(const float* b, int64_t ldb, int64_t k, int64_t n, float* out);

// C (m × n) += op(A) · B on the calling thread, with B packed by pack_b_panel
// and op(A) read in place (only a partial last sliver is packed): op(A) is A
// (row-major m × k, row stride lda) or, when trans_a, Aᵀ (A stored k × m).
// For operands that sit in cache. Uses the scratch slot kScratchGemmA.
bool gemm_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b_packed,
                   float* c, int64_t ldc);

// The same product as gemm_serial on the thread pool (the public sgemm kernel).
bool sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
