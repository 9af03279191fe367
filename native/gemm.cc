// Blocked single-precision matrix product (the BLIS scheme): op(B) is packed
// into panels of kKC × kNC, op(A) into blocks of kMC × kKC, and a register-tiled
// micro-kernel multiplies one kMR-row sliver of A by one kNR-column sliver of B.
// The blocking, and so the order of every sum, is the same whatever the number
// of threads: results are bit-equal for any thread count.
#include "gemm.h"

#include <stdlib.h>

#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int64_t kKC = kNR == 32 ? 192 : 256;  // depth of a block: a B sliver (kKC × kNR) stays in L1
constexpr int64_t kMC = (144 / kMR) * kMR;      // rows of an A block (kMC × kKC stays in L2)
constexpr int64_t kNC = 2048;                   // columns of a B panel (kKC × kNC stays in L3)

// acc += A sliver · B sliver over p = p0 .. p1-1, all in registers, for the
// first kVectors vectors of the B sliver's columns. Element (i, p) of the A
// sliver is a[p·a_step + i] (packed, or op(A) read in place from a transposed
// A), or a[i·a_step + p] when kRowMajorA (read in place from a row-major A);
// the B sliver's row p starts at b + p·b_step.
template <bool kRowMajorA, int kVectors = kNV>
__attribute__((always_inline)) inline void accumulate(Vec (&acc)[kMR][kNV], const float* __restrict a, int64_t a_step,
                                                      const float* __restrict b, int64_t b_step, int64_t p0,
                                                      int64_t p1) {
  for (int64_t p = p0; p < p1; ++p) {
    Vec bv[kVectors];
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) bv[v] = load(b + p * b_step + v * kW);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      Vec av = splat(kRowMajorA ? a[i * a_step + p] : a[p * a_step + i]);
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[i][v] += av * bv[v];
    }
  }
}

// C (kMR × kVectors·kW, row stride ldc) = alpha · A·B + beta · C (beta = 0: C
// not read); A and B slivers as in accumulate(). kVectors = 1 serves slivers
// whose columns fit one vector (the narrow chunks of small ladder sizes).
template <bool kRowMajorA, int kVectors = kNV>
void micro_kernel(int64_t kc, const float* a, int64_t a_step, const float* b, int64_t b_step, float* c, int64_t ldc,
                  float alpha, float beta) {
  Vec acc[kMR][kNV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) {
    // C's lines are needed only after the kc-long loop: fetch them meanwhile.
    __builtin_prefetch(c + i * ldc, 1, 3);
    __builtin_prefetch(c + i * ldc + kVectors * kW - 1, 1, 3);
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) acc[i][v] = Vec{};
  }
  accumulate<kRowMajorA, kVectors>(acc, a, a_step, b, b_step, 0, kc);
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) {
      float* out = c + i * ldc + v * kW;
      Vec result = acc[i][v] * alpha;
      if (beta != 0.0f) result += load(out) * beta;
      store(out, result);
    }
  }
}

// Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into kMR-row slivers (zero rows past mc).
void pack_a(bool trans_a, const float* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
  for (int64_t s = 0; s < mc; s += kMR) {
    int64_t rows = min64(kMR, mc - s);
    float* o = out + s * kc;
    if (!trans_a) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* src = a + (i0 + s + r) * lda + p0;
        for (int64_t p = 0; p < kc; ++p) o[p * kMR + r] = src[p];
      }
      for (int64_t r = rows; r < kMR; ++r)
        for (int64_t p = 0; p < kc; ++p) o[p * kMR + r] = 0.0f;
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * lda + i0 + s;
        for (int64_t r = 0; r < rows; ++r) o[p * kMR + r] = src[r];
        for (int64_t r = rows; r < kMR; ++r) o[p * kMR + r] = 0.0f;
      }
    }
  }
}

// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into kNR-column slivers (zero columns past nc).
void pack_b(bool trans_b, const float* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  for (int64_t s = 0; s < nc; s += kNR) {
    int64_t cols = min64(kNR, nc - s);
    float* o = out + s * kc;
    if (!trans_b) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = b + (p0 + p) * ldb + j0 + s;
        if (cols == kNR) {
          for (int v = 0; v < kNV; ++v) store(o + p * kNR + v * kW, load(src + v * kW));
        } else {
          for (int64_t j = 0; j < cols; ++j) o[p * kNR + j] = src[j];
          for (int64_t j = cols; j < kNR; ++j) o[p * kNR + j] = 0.0f;
        }
      }
    } else {
      for (int64_t j = 0; j < cols; ++j) {
        const float* src = b + (j0 + s + j) * ldb + p0;
        for (int64_t p = 0; p < kc; ++p) o[p * kNR + j] = src[p];
      }
      for (int64_t j = cols; j < kNR; ++j)
        for (int64_t p = 0; p < kc; ++p) o[p * kNR + j] = 0.0f;
    }
  }
}

// C[mc × nc] = alpha · (packed A block) · (packed B panel) + beta · C.
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const float* ap, const float* bp, float alpha, float beta,
                  float* c, int64_t ldc) {
  alignas(64) float edge[kMR * kNR];
  for (int64_t j = 0; j < nc; j += kNR) {
    int64_t cols = min64(kNR, nc - j);
    for (int64_t i = 0; i < mc; i += kMR) {
      int64_t rows = min64(kMR, mc - i);
      const float* a = ap + i * kc;
      const float* b = bp + j * kc;
      if (rows == kMR && cols == kNR) {
        micro_kernel<false>(kc, a, kMR, b, kNR, c + i * ldc + j, ldc, alpha, beta);
        continue;
      }
      micro_kernel<false>(kc, a, kMR, b, kNR, edge, kNR, 1.0f, 0.0f);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t q = 0; q < cols; ++q) {
          float* out = c + (i + r) * ldc + j + q;
          float product = alpha * edge[r * kNR + q];
          *out = beta == 0.0f ? product : product + beta * *out;
        }
      }
    }
  }
}

// C = beta · C (the whole product when k = 0 or alpha = 0).
void scale_c(int64_t m, int64_t n, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
  }
}

}  // namespace

void pack_rows_as_a(const float* src, int64_t ld, int64_t r0, int64_t rows, int64_t depth, float* out) {
  pack_a(false, src, ld, r0, rows, 0, depth, out);
}

void pack_rows_as_b(const float* src, int64_t ld, int64_t r0, int64_t rows, int64_t depth, float* out) {
  pack_b(true, src, ld, 0, depth, r0, rows, out);
}

void pack_gathered_rows_as_a(const float* src, int64_t ld, const int32_t* index, int count, int64_t depth, float* out) {
  for (int i = 0; i < count; ++i) {
    const float* row = src + index[i] * ld;
    for (int64_t p = 0; p < depth; ++p) out[p * kMR + i] = row[p];
  }
  for (int i = count; i < kMR; ++i)
    for (int64_t p = 0; p < depth; ++p) out[p * kMR + i] = 0.0f;
}

namespace {

template <bool kRowMajorA>
void snapshot(const float* a, int64_t a_step, const float* b, const int32_t* ends, int num_ends, float* const* out,
              int64_t offset, int64_t ld) {
  Vec acc[kMR][kNV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) acc[i][v] = Vec{};
  int64_t p = 0;
  for (int s = 0; s < num_ends; ++s) {
    accumulate<kRowMajorA>(acc, a, a_step, b, kNR, p, ends[s]);
    p = ends[s];
    float* o = out[s] + offset;
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) store(o + i * ld + v * kW, acc[i][v]);
  }
}

}  // namespace

void snapshot_tile(const float* a, const float* b, const int32_t* ends, int num_ends, float* const* out, int64_t offset,
                   int64_t ld) {
  snapshot<false>(a, kMR, b, ends, num_ends, out, offset, ld);
}

void snapshot_tile_rows(const float* a, int64_t lda, const float* b, const int32_t* ends, int num_ends,
                        float* const* out, int64_t offset, int64_t ld) {
  snapshot<true>(a, lda, b, ends, num_ends, out, offset, ld);
}

int64_t snapshot_chunk(int64_t depth) {
  int64_t items = (131072 / max64(depth, 1)) / kNR * kNR;
  return min64(512, max64(2 * kNR, items));
}

bool gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return true;
  if (k == 0 || alpha == 0.0f) {
    scale_c(m, n, beta, c, ldc);
    return true;
  }
  float* ap = scratch(kScratchGemmA, kMC * kKC);
  float* bp = scratch(kScratchGemmB, kKC * min64(round_up(n, kNR), kNC));
  if (ap == nullptr || bp == nullptr) return false;
  for (int64_t jc = 0; jc < n; jc += kNC) {
    int64_t nc = min64(kNC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKC) {
      int64_t kc = min64(kKC, k - pc);
      pack_b(trans_b, b, ldb, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < m; ic += kMC) {
        int64_t mc = min64(kMC, m - ic);
        pack_a(trans_a, a, lda, ic, mc, pc, kc, ap);
        macro_kernel(mc, nc, kc, ap, bp, alpha, pc == 0 ? beta : 1.0f, c + ic * ldc + jc, ldc);
      }
    }
  }
  return true;
}

void pack_b_panel(const float* b, int64_t ldb, int64_t k, int64_t n, float* out) {
  pack_b(false, b, ldb, 0, k, 0, n, out);
}

bool gemm_packed_b(bool trans_a, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b_packed,
                   float* c, int64_t ldc) {
  if (m == 0 || n == 0 || k == 0) return true;
  const int64_t whole_rows = m / kMR * kMR;
  float* a_edge = nullptr;
  if (whole_rows < m) {
    a_edge = scratch(kScratchGemmA, kMR * k);
    if (a_edge == nullptr) return false;
    pack_a(trans_a, a, lda, whole_rows, m - whole_rows, 0, k, a_edge);
  }
  alignas(64) float edge[kMR * kNR];
  // B slivers outer: one stays in L1 while A's slivers are read in place.
  for (int64_t j = 0; j < n; j += kNR) {
    const int64_t cols = min64(kNR, n - j);
    const bool narrow = kNV > 1 && cols <= kW;  // one vector of columns is enough
    const int64_t width = narrow ? kW : kNR;    // columns the micro-kernel writes
    const float* b = b_packed + j * k;
    for (int64_t i = 0; i < m; i += kMR) {
      const int64_t rows = min64(kMR, m - i);
      const bool whole = rows == kMR && cols == width;
      float* out = whole ? c + i * ldc + j : edge;
      const int64_t ld_out = whole ? ldc : kNR;
      const float beta = whole ? 1.0f : 0.0f;
      const float* a_sliver = rows < kMR ? a_edge : trans_a ? a + i : a + i * lda;
      const int64_t a_step = rows < kMR ? kMR : lda;
      const bool row_major = rows == kMR && !trans_a;
      if (narrow && row_major)
        micro_kernel<true, 1>(k, a_sliver, a_step, b, kNR, out, ld_out, 1.0f, beta);
      else if (narrow)
        micro_kernel<false, 1>(k, a_sliver, a_step, b, kNR, out, ld_out, 1.0f, beta);
      else if (row_major)
        micro_kernel<true>(k, a_sliver, a_step, b, kNR, out, ld_out, 1.0f, beta);
      else
        micro_kernel<false>(k, a_sliver, a_step, b, kNR, out, ld_out, 1.0f, beta);
      if (whole) continue;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t q = 0; q < cols; ++q) c[(i + r) * ldc + j + q] += edge[r * kNR + q];
    }
  }
  return true;
}

bool sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const int threads = pool_threads();
  if (threads == 1 || 2.0 * m * n * k < 4e6 || k == 0 || alpha == 0.0f) {
    return gemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  // One B panel shared by all threads; each task packs its own A block and
  // multiplies it by a slab of the panel. Tasks write disjoint parts of C.
  const int64_t panel_width = min64(round_up(n, kNR), kNC);
  float* bp = allocate_floats(kKC * panel_width);
  if (bp == nullptr) return false;
  bool out_of_memory = false;
  // Row blocks of even height (at most kMC, a multiple of kMR): when there are
  // few of them, their count is a multiple of the thread count, so that no
  // thread is left with a short last block while another works (m = 1,024 in
  // blocks of 144 would give 7 full blocks and one of 16 rows).
  int64_t row_blocks = (m + kMC - 1) / kMC;
  if (row_blocks < 4 * threads) row_blocks = (row_blocks + threads - 1) / threads * threads;
  const int64_t block_rows = min64(kMC, round_up((m + row_blocks - 1) / row_blocks, kMR));
  row_blocks = (m + block_rows - 1) / block_rows;
  for (int64_t jc = 0; jc < n; jc += kNC) {
    const int64_t nc = min64(kNC, n - jc);
    const int64_t slivers = (nc + kNR - 1) / kNR;
    const int64_t slabs = min64(slivers, max64(1, (2 * threads + row_blocks - 1) / row_blocks));
    for (int64_t pc = 0; pc < k; pc += kKC) {
      const int64_t kc = min64(kKC, k - pc);
      const int64_t pack_tasks = kc * nc < 65536 ? 1 : min64(slivers, 2 * threads);
      auto pack = [&](int task) {
        int64_t s0 = part_start(slivers, pack_tasks, task) * kNR;
        int64_t s1 = min64(part_start(slivers, pack_tasks, task + 1) * kNR, nc);
        pack_b(trans_b, b, ldb, pc, kc, jc + s0, s1 - s0, bp + s0 * kc);
      };
      parallel(static_cast<int>(pack_tasks), pack);
      const float block_beta = pc == 0 ? beta : 1.0f;
      auto multiply = [&](int task) {
        int64_t block = task / slabs;
        int64_t slab = task % slabs;
        int64_t ic = block * block_rows;
        int64_t mc = min64(block_rows, m - ic);
        int64_t j0 = part_start(slivers, slabs, slab) * kNR;
        int64_t j1 = min64(part_start(slivers, slabs, slab + 1) * kNR, nc);
        float* ap = scratch(kScratchGemmA, kMC * kKC);
        if (ap == nullptr) {
          __atomic_store_n(&out_of_memory, true, __ATOMIC_RELAXED);
          return;
        }
        pack_a(trans_a, a, lda, ic, mc, pc, kc, ap);
        macro_kernel(mc, j1 - j0, kc, ap, bp + j0 * kc, alpha, block_beta, c + ic * ldc + jc + j0, ldc);
      };
      parallel(static_cast<int>(row_blocks * slabs), multiply);
    }
  }
  free(bp);
  return !out_of_memory;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
