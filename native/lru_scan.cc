// Diagonal complex linear recurrence over segments (types.ts lruScanForward /
// lruScanBackward). Work is cut into groups of whole segments (balanced by
// rows) and, when there are few groups, blocks of channels; every task walks
// its rows in memory order, vectorised over channels. The previous row's state
// is read back from the output just written.
#include <stdlib.h>
#include <string.h>

#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

struct ScanPlan {
  int64_t groups;        // groups of segments
  int64_t blocks;        // blocks of channels
  int64_t vectors;       // channel vectors: ceil(d / kW)
  int64_t* group_start;  // groups + 1 segment indices
};

// Cuts segments into groups of about equal rows and channels into blocks so
// that there are a few tasks per thread. Depends only on the shapes and the
// thread count.
bool plan_scan(const int32_t* segments, int64_t num_segments, int64_t t, int64_t d, ScanPlan& plan) {
  const int64_t threads = pool_threads();
  const int64_t wanted = (t * d < 32768 || threads == 1) ? 1 : 4 * threads;
  plan.groups = max64(1, min64(num_segments, wanted));
  plan.vectors = (d + kW - 1) / kW;
  plan.blocks = max64(1, min64(plan.vectors, (wanted + plan.groups - 1) / plan.groups));
  plan.group_start = static_cast<int64_t*>(malloc(sizeof(int64_t) * (plan.groups + 1)));
  if (plan.group_start == nullptr) return false;
  int64_t s = 0;
  for (int64_t g = 0; g < plan.groups; ++g) {
    const int64_t first_row = part_start(t, plan.groups, g);
    while (s < num_segments && segments[s] < first_row) ++s;
    plan.group_start[g] = g == 0 ? 0 : s;
  }
  plan.group_start[plan.groups] = num_segments;
  return true;
}

// Channels [c0, c1) of block b.
void block_channels(const ScanPlan& plan, int64_t d, int64_t b, int64_t& c0, int64_t& c1) {
  c0 = part_start(plan.vectors, plan.blocks, b) * kW;
  c1 = min64(part_start(plan.vectors, plan.blocks, b + 1) * kW, d);
}

}  // namespace

bool lru_scan_forward(const float* u_re, const float* u_im, const float* lam_re, const float* lam_im,
                      const int32_t* segments, int64_t num_segments, int64_t t, int64_t d,
                      float* h_re, float* h_im) {
  ScanPlan plan;
  if (!plan_scan(segments, num_segments, t, d, plan)) return false;
  auto task = [&](int index) {
    int64_t c0, c1;
    block_channels(plan, d, index % plan.blocks, c0, c1);
    const int64_t group = index / plan.blocks;
    for (int64_t s = plan.group_start[group]; s < plan.group_start[group + 1]; ++s) {
      for (int64_t r = segments[s]; r < segments[s + 1]; ++r) {
        const int64_t row = r * d;
        if (r == segments[s]) {
          memcpy(h_re + row + c0, u_re + row + c0, sizeof(float) * (c1 - c0));
          memcpy(h_im + row + c0, u_im + row + c0, sizeof(float) * (c1 - c0));
          continue;
        }
        int64_t c = c0;
        for (; c + kW <= c1; c += kW) {
          const Vec lr = load(lam_re + c), li = load(lam_im + c);
          const Vec pr = load(h_re + row - d + c), pi = load(h_im + row - d + c);
          store(h_re + row + c, lr * pr - li * pi + load(u_re + row + c));
          store(h_im + row + c, lr * pi + li * pr + load(u_im + row + c));
        }
        for (; c < c1; ++c) {
          const float pr = h_re[row - d + c], pi = h_im[row - d + c];
          h_re[row + c] = lam_re[c] * pr - lam_im[c] * pi + u_re[row + c];
          h_im[row + c] = lam_re[c] * pi + lam_im[c] * pr + u_im[row + c];
        }
      }
    }
  };
  parallel(static_cast<int>(plan.groups * plan.blocks), task);
  free(plan.group_start);
  return true;
}

bool lru_scan_backward(const float* dh_re, const float* dh_im, const float* h_re, const float* h_im,
                       const float* lam_re, const float* lam_im, const int32_t* segments,
                       int64_t num_segments, int64_t t, int64_t d, float* du_re, float* du_im,
                       float* dlam_re, float* dlam_im) {
  ScanPlan plan;
  if (!plan_scan(segments, num_segments, t, d, plan)) return false;
  // Per group: Σ over its rows of g_r · conj(h_{r-1}), summed per segment in
  // float (segment_re/im) and over segments in double (sum_re/im).
  double* sum_re = static_cast<double*>(calloc(plan.groups * d, sizeof(double)));
  double* sum_im = static_cast<double*>(calloc(plan.groups * d, sizeof(double)));
  float* segment_sums = static_cast<float*>(malloc(sizeof(float) * plan.groups * plan.blocks * 2 * (d + kW)));
  if (sum_re == nullptr || sum_im == nullptr || segment_sums == nullptr) {
    free(sum_re);
    free(sum_im);
    free(segment_sums);
    free(plan.group_start);
    return false;
  }
  auto task = [&](int index) {
    int64_t c0, c1;
    block_channels(plan, d, index % plan.blocks, c0, c1);
    const int64_t group = index / plan.blocks;
    float* segment_re = segment_sums + index * 2 * (d + kW);
    float* segment_im = segment_re + d + kW;
    for (int64_t s = plan.group_start[group]; s < plan.group_start[group + 1]; ++s) {
      const int64_t start = segments[s];
      const int64_t end = segments[s + 1];
      if (end - start < 2) {
        for (int64_t r = start; r < end; ++r) {
          memcpy(du_re + r * d + c0, dh_re + r * d + c0, sizeof(float) * (c1 - c0));
          memcpy(du_im + r * d + c0, dh_im + r * d + c0, sizeof(float) * (c1 - c0));
        }
        continue;
      }
      memset(segment_re + c0, 0, sizeof(float) * (c1 - c0));
      memset(segment_im + c0, 0, sizeof(float) * (c1 - c0));
      for (int64_t r = end - 1; r >= start; --r) {
        const int64_t row = r * d;
        const bool last = r == end - 1;
        const bool first = r == start;
        int64_t c = c0;
        for (; c + kW <= c1; c += kW) {
          Vec gr = load(dh_re + row + c), gi = load(dh_im + row + c);
          if (!last) {  // g_r = dh_r + conj(λ) · g_{r+1}
            const Vec lr = load(lam_re + c), li = load(lam_im + c);
            const Vec nr = load(du_re + row + d + c), ni = load(du_im + row + d + c);
            gr += lr * nr + li * ni;
            gi += lr * ni - li * nr;
          }
          store(du_re + row + c, gr);
          store(du_im + row + c, gi);
          if (!first) {  // dλ += g_r · conj(h_{r-1})
            const Vec pr = load(h_re + row - d + c), pi = load(h_im + row - d + c);
            store(segment_re + c, load(segment_re + c) + gr * pr + gi * pi);
            store(segment_im + c, load(segment_im + c) + gi * pr - gr * pi);
          }
        }
        for (; c < c1; ++c) {
          float gr = dh_re[row + c], gi = dh_im[row + c];
          if (!last) {
            const float nr = du_re[row + d + c], ni = du_im[row + d + c];
            gr += lam_re[c] * nr + lam_im[c] * ni;
            gi += lam_re[c] * ni - lam_im[c] * nr;
          }
          du_re[row + c] = gr;
          du_im[row + c] = gi;
          if (!first) {
            const float pr = h_re[row - d + c], pi = h_im[row - d + c];
            segment_re[c] += gr * pr + gi * pi;
            segment_im[c] += gi * pr - gr * pi;
          }
        }
      }
      for (int64_t c = c0; c < c1; ++c) {
        sum_re[group * d + c] += segment_re[c];
        sum_im[group * d + c] += segment_im[c];
      }
    }
  };
  parallel(static_cast<int>(plan.groups * plan.blocks), task);
  for (int64_t c = 0; c < d; ++c) {
    double re = 0.0, im = 0.0;
    for (int64_t g = 0; g < plan.groups; ++g) {
      re += sum_re[g * d + c];
      im += sum_im[g * d + c];
    }
    dlam_re[c] += static_cast<float>(re);
    dlam_im[c] += static_cast<float>(im);
  }
  free(sum_re);
  free(sum_im);
  free(segment_sums);
  free(plan.group_start);
  return true;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
