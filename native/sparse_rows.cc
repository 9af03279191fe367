// C += S·B for a sparse S in compressed rows (types.ts addSparseRowsProduct),
// exact: every element of C takes the products of its row's entries in entry
// order, each product rounded to float32 and then added with one float32 add,
// as the TypeScript twin does, so every variant and thread count gives the
// twin's bits. A block of C stays in registers while the row's entries stream
// past. Tasks are ranges of rows of nearly equal cost (entries plus one per
// row); when one row alone is more than a task's share, the columns are cut
// too (whole cache lines). Neither cut changes the order of any element's adds.
#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

constexpr int64_t kSerialWork = 32768;  // below this many elements touched (cost × d), one task
constexpr int64_t kLineFloats = 16;     // floats per 64-byte cache line
constexpr int kBlock = 4;               // vectors of C kept in registers at once

// Columns [k0, k1) of one row of C (cs) += the entries [p0, p1) of its row of S
// times the rows of B they name, entry by entry.
static void add_row_slice(float* cs, const int32_t* columns, const float* weights, int64_t p0, int64_t p1,
                          const float* b, int64_t d, int64_t k0, int64_t k1) {
  int64_t k = k0;
  for (; k + kBlock * kW <= k1; k += kBlock * kW) {
    Vec acc[kBlock];
    for (int i = 0; i < kBlock; ++i) acc[i] = load(cs + k + i * kW);
    for (int64_t p = p0; p < p1; ++p) {
      const Vec w = splat(weights[p]);
      const float* bs = b + static_cast<int64_t>(columns[p]) * d + k;
      for (int i = 0; i < kBlock; ++i) acc[i] = acc[i] + rounded(w * load(bs + i * kW));
    }
    for (int i = 0; i < kBlock; ++i) store(cs + k + i * kW, acc[i]);
  }
  for (; k + kW <= k1; k += kW) {
    Vec acc = load(cs + k);
    for (int64_t p = p0; p < p1; ++p) {
      acc = acc + rounded(splat(weights[p]) * load(b + static_cast<int64_t>(columns[p]) * d + k));
    }
    store(cs + k, acc);
  }
  for (; k < k1; ++k) {
    float acc = cs[k];
    for (int64_t p = p0; p < p1; ++p) acc = acc + rounded(weights[p] * b[static_cast<int64_t>(columns[p]) * d + k]);
    cs[k] = acc;
  }
}

}  // namespace

bool add_sparse_rows_product(float* c, int64_t rows, int64_t d, const int32_t* row_start, const int32_t* columns,
                             const float* weights, const float* b) {
  // The cost of rows [0, r): their entries, plus one per row (its slice of C
  // is read and written once). Strictly increasing in r.
  auto cost = [&](int64_t r) { return static_cast<int64_t>(row_start[r]) + r; };
  const int64_t total = cost(rows);
  const int64_t lines = (d + kLineFloats - 1) / kLineFloats;
  int64_t row_parts = 1, column_parts = 1;
  if (total * d >= kSerialWork && rows > 0) {
    const int64_t wanted = 4 * static_cast<int64_t>(pool_threads());
    int64_t heaviest = 0;
    for (int64_t r = 0; r < rows; ++r) heaviest = max64(heaviest, cost(r + 1) - cost(r));
    // Enough column parts that the heaviest row's slices are about a task's share each.
    column_parts = max64(1, min64(lines, min64(wanted, (heaviest * wanted + total - 1) / total)));
    row_parts = max64(1, min64(rows, wanted / column_parts));
  }
  // The first row whose cost reaches part `index` of the total.
  auto row_bound = [&](int64_t index) {
    const int64_t target = part_start(total, row_parts, index);
    int64_t lo = 0, hi = rows;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (cost(mid) < target)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  };
  auto task = [&](int index) {
    const int64_t row_part = index / column_parts, column_part = index % column_parts;
    const int64_t k0 = part_start(lines, column_parts, column_part) * kLineFloats;
    const int64_t k1 = min64(d, part_start(lines, column_parts, column_part + 1) * kLineFloats);
    const int64_t end = row_bound(row_part + 1);
    for (int64_t row = row_bound(row_part); row < end; ++row) {
      if (row_start[row] == row_start[row + 1]) continue;  // an empty row leaves C as it is
      add_row_slice(c + row * d, columns, weights, row_start[row], row_start[row + 1], b, d, k0, k1);
    }
  };
  parallel(static_cast<int>(row_parts * column_parts), task);
  return true;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
