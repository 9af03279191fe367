// Bias add and bias gradient (types.ts addRowVector / addColumnSums), exact:
// every add is one float32 add, in the order of the TypeScript twin, so every
// variant and thread count gives the twin's bits. addRowVector splits the rows
// into tasks; addColumnSums splits the columns (whole cache lines per task),
// never the rows, so each column is still summed in row order.
#include <string.h>

#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int64_t kSerialWork = 32768;   // below this many elements, one task
constexpr int64_t kLineFloats = 16;      // floats per 64-byte cache line
constexpr int64_t kBlockColumns = 1024;  // columns summed at once in a local buffer (4 KiB)

}  // namespace

bool add_row_vector(float* y, int64_t t, int64_t d, const float* v) {
  const int64_t tasks = t * d < kSerialWork ? 1 : min64(t, 4 * static_cast<int64_t>(pool_threads()));
  auto task = [&](int index) {
    for (int64_t row = part_start(t, tasks, index); row < part_start(t, tasks, index + 1); ++row) {
      float* ys = y + row * d;
      int64_t j = 0;
      for (; j + kW <= d; j += kW) store(ys + j, load(ys + j) + load(v + j));
      for (; j < d; ++j) ys[j] += v[j];
    }
  };
  parallel(static_cast<int>(tasks), task);
  return true;
}

bool add_column_sums(const float* x, int64_t t, int64_t d, float* acc) {
  const int64_t lines = (d + kLineFloats - 1) / kLineFloats;
  const int64_t tasks = t * d < kSerialWork ? 1 : min64(lines, 4 * static_cast<int64_t>(pool_threads()));
  auto task = [&](int index) {
    const int64_t end = min64(d, part_start(lines, tasks, index + 1) * kLineFloats);
    // The sums of a block of columns live in a local buffer (in L1, and no
    // cache line of acc is shared with another task while rows stream past).
    float sum[kBlockColumns];
    for (int64_t c0 = part_start(lines, tasks, index) * kLineFloats; c0 < end; c0 += kBlockColumns) {
      const int64_t n = min64(kBlockColumns, end - c0);
      memcpy(sum, acc + c0, sizeof(float) * n);
      for (int64_t row = 0; row < t; ++row) {
        const float* xs = x + row * d + c0;
        int64_t j = 0;
        for (; j + kW <= n; j += kW) store(sum + j, load(sum + j) + load(xs + j));
        for (; j < n; ++j) sum[j] += xs[j];
      }
      memcpy(acc + c0, sum, sizeof(float) * n);
    }
  };
  parallel(static_cast<int>(tasks), task);
  return true;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
