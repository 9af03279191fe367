// One AdamW step over a range of the flat parameters (types.ts adamwUpdate),
// bit-identical to the TypeScript twin: float32 values are widened to double,
// every operation is the twin's, in the twin's order, rounded to double (IEEE
// +, −, ×, ÷ and sqrt are correctly rounded, so a vector lane gives the same
// bits as a scalar), and the results are rounded to float32 like a store into
// a Float32Array. Tasks are ranges of whole cache lines; elements are
// independent, so the split does not change any result.
#include <string.h>

#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int kWD = kVecBytes / 8;      // doubles per vector
constexpr int64_t kSerialWork = 32768;  // below this many elements, one task
constexpr int64_t kLineFloats = 16;     // floats per 64-byte cache line

typedef double VecD __attribute__((vector_size(kVecBytes)));
typedef float VecF __attribute__((vector_size(kVecBytes / 2)));  // kWD floats

static inline VecD splat_d(double x) { return x - VecD{}; }  // x − (+0) is x, as splat() in simd.h

static inline VecD load_wide(const float* p) {
  VecF f;
  memcpy(&f, p, sizeof f);
  return __builtin_convertvector(f, VecD);
}

static inline void store_narrow(float* p, VecD x) {
  const VecF f = __builtin_convertvector(x, VecF);
  memcpy(p, &f, sizeof f);
}

static inline VecD vsqrt(VecD x) {
#if defined(__AVX512F__)
  return (VecD)_mm512_mask_sqrt_pd((__m512d)x, 0xFF, (__m512d)x);  // masked form: see vmax in simd.h
#elif defined(__AVX__)
  return (VecD)_mm256_sqrt_pd((__m256d)x);
#elif defined(__SSE2__)
  return (VecD)_mm_sqrt_pd((__m128d)x);
#else
  for (int i = 0; i < kWD; ++i) x[i] = __builtin_sqrt(x[i]);
  return x;
#endif
}

struct Coefficients {
  VecD beta1, beta2, c1, c2, eps, step_size, inv_sqrt_bc2, keep;
};

// kWD elements, in the twin's order of operations.
static inline void update(const Coefficients& k, float* params, const float* grads, float* m, float* v) {
  const VecD g = load_wide(grads);
  const VecD mi = rounded(k.beta1 * load_wide(m)) + rounded(k.c1 * g);
  const VecD vi = rounded(k.beta2 * load_wide(v)) + rounded(k.c2 * g * g);
  store_narrow(m, mi);
  store_narrow(v, vi);
  const VecD denominator = rounded(vsqrt(vi) * k.inv_sqrt_bc2) + k.eps;
  store_narrow(params, rounded(load_wide(params) * k.keep) - k.step_size * mi / denominator);
}

}  // namespace

bool adamw_update(float* params, const float* grads, float* m, float* v, int64_t size, double beta1, double beta2,
                  double eps, double step_size, double inv_sqrt_bc2, double keep) {
  // 1 − beta as JavaScript computes it (one double subtraction).
  const Coefficients k = {splat_d(beta1), splat_d(beta2),     splat_d(1.0 - beta1),  splat_d(1.0 - beta2),
                          splat_d(eps),   splat_d(step_size), splat_d(inv_sqrt_bc2), splat_d(keep)};
  const int64_t lines = (size + kLineFloats - 1) / kLineFloats;
  const int64_t tasks = size < kSerialWork ? 1 : min64(lines, 4 * static_cast<int64_t>(pool_threads()));
  auto task = [&](int index) {
    int64_t i = part_start(lines, tasks, index) * kLineFloats;
    const int64_t end = min64(size, part_start(lines, tasks, index + 1) * kLineFloats);
    for (; i + kWD <= end; i += kWD) update(k, params + i, grads + i, m + i, v + i);
    if (i < end) {
      // The last few elements, through a padded copy (whatever the padding lanes compute is dropped).
      const size_t bytes = sizeof(float) * (end - i);
      float p[kWD] = {}, g[kWD] = {}, mm[kWD] = {}, vv[kWD] = {};
      memcpy(p, params + i, bytes);
      memcpy(g, grads + i, bytes);
      memcpy(mm, m + i, bytes);
      memcpy(vv, v + i, bytes);
      update(k, p, g, mm, vv);
      memcpy(params + i, p, bytes);
      memcpy(m + i, mm, bytes);
      memcpy(v + i, vv, bytes);
    }
  };
  parallel(static_cast<int>(tasks), task);
  return true;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
