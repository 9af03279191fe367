// The KernelTable of one variant, and the per-thread scratch buffers its
// kernels share.
#include "variant.h"

#include <stdlib.h>

#include "gemm.h"
#include "kernels.h"

#define FMRLREC_STRINGIFY2(x) #x
#define FMRLREC_STRINGIFY(x) FMRLREC_STRINGIFY2(x)

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

struct ScratchBuffer {
  float* data = nullptr;
  size_t capacity = 0;
  ~ScratchBuffer() { free(data); }
};

}  // namespace

float* scratch(ScratchSlot slot, size_t floats) {
  static thread_local ScratchBuffer buffers[kScratchSlots];
  ScratchBuffer& buffer = buffers[slot];
  if (buffer.capacity >= floats && buffer.data != nullptr) return buffer.data;
  free(buffer.data);
  buffer.data = allocate_floats(static_cast<int64_t>(floats));
  buffer.capacity = buffer.data != nullptr ? floats : 0;
  return buffer.data;
}

extern const KernelTable kernel_table = {
    FMRLREC_STRINGIFY(FMRLREC_VARIANT),
    sgemm,
    softmax_xent_multi,
    lru_scan_forward,
    lru_scan_backward,
    layer_norm_forward,
    layer_norm_backward,
    rank_targets,
    top_items,
    add_row_vector,
    add_column_sums,
    add_sparse_rows_product,
    adamw_update,
};

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
