// The vector type and register tile of one kernel variant, chosen by the flags
// the file is compiled with (binding.gyp compiles the kernel sources three
// times): AVX-512 → 16 floats, AVX2+FMA → 8 floats, anything else → 4 floats
// (SSE2 on x86-64, NEON or plain scalar code elsewhere). The kernels are written
// once against GCC/Clang vector extensions, so every variant runs the same code
// and differs only in the width and in how the compiler lowers it.
//
// Everything here has internal linkage (static): the variants are linked into
// one addon, and an inline function shared between them could let the linker
// keep an AVX-512 copy for the baseline path.
#pragma once

#include <stdint.h>
#include <string.h>

#if defined(__SSE__)
#include <immintrin.h>  // only for min/max below; the intrinsics are always inlined
#endif

#ifndef FMRLREC_VARIANT
#error "FMRLREC_VARIANT (the variant's namespace) must be defined by the build"
#endif

namespace fmrlrec {
namespace FMRLREC_VARIANT {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
constexpr int kMR = 14;  // rows of the register tile (14 × 2 accumulators + 3 = 31 zmm)
constexpr int kNR = 32;  // columns of the register tile (two vectors)
#elif defined(__AVX2__)
constexpr int kVecBytes = 32;
constexpr int kMR = 6;  // 6 × 2 accumulators + 3 = 15 ymm
constexpr int kNR = 16;
#else
constexpr int kVecBytes = 16;
constexpr int kMR = 6;  // 6 × 2 accumulators + 3 = 15 xmm (a product needs a spare without FMA)
constexpr int kNR = 8;
#endif

constexpr int kW = kVecBytes / 4;  // floats per vector
constexpr int kNV = kNR / kW;      // vectors per tile row

typedef float Vec __attribute__((vector_size(kVecBytes)));
typedef int32_t VecI __attribute__((vector_size(kVecBytes)));

// x − (+0) is x for every x (−0 and NaN included), and compilers fold it to a
// plain broadcast; "0 + x" is not x for x = −0 and costs an extra add.
static inline Vec splat(float x) { return x - Vec{}; }
static inline Vec load(const float* p) {
  Vec v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void store(float* p, Vec v) { memcpy(p, &v, sizeof v); }
// min / max of every lane; when a lane of either is NaN the result is b's lane.
// (GCC lowers "a < b ? a : b" against a constant to compare + blend, so the x86
// instructions, which have exactly these semantics, are named.)
// (The AVX-512 forms are the masked ones with every lane set: the plain ones
// trip GCC 12's -Wmaybe-uninitialized inside its own header.)
#if defined(__AVX512F__)
static inline Vec vmax(Vec a, Vec b) { return (Vec)_mm512_mask_max_ps((__m512)a, 0xFFFF, (__m512)a, (__m512)b); }
static inline Vec vmin(Vec a, Vec b) { return (Vec)_mm512_mask_min_ps((__m512)a, 0xFFFF, (__m512)a, (__m512)b); }
#elif defined(__AVX__)
static inline Vec vmax(Vec a, Vec b) { return (Vec)_mm256_max_ps((__m256)a, (__m256)b); }
static inline Vec vmin(Vec a, Vec b) { return (Vec)_mm256_min_ps((__m256)a, (__m256)b); }
#elif defined(__SSE__)
static inline Vec vmax(Vec a, Vec b) { return (Vec)_mm_max_ps((__m128)a, (__m128)b); }
static inline Vec vmin(Vec a, Vec b) { return (Vec)_mm_min_ps((__m128)a, (__m128)b); }
#else
static inline Vec vmax(Vec a, Vec b) { return a > b ? a : b; }
static inline Vec vmin(Vec a, Vec b) { return a < b ? a : b; }
#endif

// Lane i holds i (for masking the tail of a row).
static inline VecI lane_index() {
  VecI v;
  for (int i = 0; i < kW; ++i) v[i] = i;
  return v;
}

// Lanes at index >= valid become 0.
static inline Vec keep_first(Vec v, int valid) { return lane_index() < valid ? v : Vec{}; }

static inline float hmax(Vec v) {
  float m = v[0];
  for (int i = 1; i < kW; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

static inline float hsum(Vec v) {
  float s = 0.0f;
  for (int i = 0; i < kW; ++i) s += v[i];
  return s;
}

// e^x for every lane (Cephes expf: x = n·ln2 + r, |r| <= ln2/2, degree-6
// polynomial, 2^n built in the exponent bits). Relative error ~2 ulp; inputs
// are clamped to [-87.3, 88.7], so e^x never underflows to 0 (smallest
// 1.2e-38) and a NaN stays NaN.
static inline Vec vexp(Vec x) {
  x = vmin(splat(88.7f), x);
  x = vmax(splat(-87.3f), x);
  const Vec shifter = splat(12582912.0f);  // 1.5 · 2^23: adding it rounds to an integer
  Vec t = x * 1.44269504088896341f + shifter;
  Vec n = t - shifter;
  Vec r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  Vec p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  VecI bits = (VecI)t - 0x4B400000;  // the integer n, read back from t's mantissa
  VecI scale = (bits + 127) << 23;
  return p * (Vec)scale;
}

// A product that must be rounded before it is added, as JavaScript does: the
// kernels are compiled with -ffp-contract=fast, which would fuse a·b + c into
// one multiply-add with a single rounding. An empty asm that takes the value in
// a register hides the product from the optimiser (GCC and clang alike, whatever
// their contraction flags and pragmas); elsewhere a volatile copy does the same.
// For a float, a Vec, or a vector of doubles.
template <class T>
static inline T rounded(T x) {
#if defined(__AVX512F__)
  __asm__("" : "+v"(x));
#elif defined(__SSE2__)
  __asm__("" : "+x"(x));
#elif defined(__aarch64__)
  __asm__("" : "+w"(x));
#else
  volatile T copy = x;
  x = copy;
#endif
  return x;
}

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t round_up(int64_t x, int64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
