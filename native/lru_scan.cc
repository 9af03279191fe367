// Diagonal complex linear recurrence over segments (types.ts lruScanForward /
// lruScanBackward). Work is cut into groups of whole segments (balanced by
// rows) and, when there are few groups, blocks of channels; every task walks
// its rows vectorised over channels: the forward pass in memory order, reading
// the previous row's state back from the output just written; the backward pass
// a segment at a time, with g and the segment's dλ sums in registers.
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
                      const int32_t* segments, int64_t num_segments, int64_t t, int64_t d, float* h_re, float* h_im) {
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
                       const float* lam_re, const float* lam_im, const int32_t* segments, int64_t num_segments,
                       int64_t t, int64_t d, float* du_re, float* du_im, float* dlam_re, float* dlam_im) {
  ScanPlan plan;
  if (!plan_scan(segments, num_segments, t, d, plan)) return false;
  // Per group: Σ over its rows of g_r · conj(h_{r-1}), summed over a segment in
  // registers (float) and over segments in double.
  double* sum_re = static_cast<double*>(calloc(plan.groups * d, sizeof(double)));
  double* sum_im = static_cast<double*>(calloc(plan.groups * d, sizeof(double)));
  if (sum_re == nullptr || sum_im == nullptr) {
    free(sum_re);
    free(sum_im);
    free(plan.group_start);
    return false;
  }
  auto task = [&](int index) {
    int64_t c0, c1;
    block_channels(plan, d, index % plan.blocks, c0, c1);
    const int64_t group = index / plan.blocks;
    double* group_re = sum_re + group * d;
    double* group_im = sum_im + group * d;
    for (int64_t s = plan.group_start[group]; s < plan.group_start[group + 1]; ++s) {
      const int64_t start = segments[s];
      const int64_t end = segments[s + 1];
      // Channel vectors across the segment's rows, last row first: g_{end} = 0,
      // g_r = dh_r + conj(λ) · g_{r+1}; dλ += g_r · conj(h_{r-1}) for r > start.
      int64_t c = c0;
      for (; c + kW <= c1; c += kW) {
        const Vec lr = load(lam_re + c), li = load(lam_im + c);
        Vec gr = Vec{}, gi = Vec{}, sr = Vec{}, si = Vec{};
        for (int64_t r = end - 1; r >= start; --r) {
          const int64_t at = r * d + c;
          const Vec next_re = load(dh_re + at) + lr * gr + li * gi;
          gi = load(dh_im + at) + lr * gi - li * gr;
          gr = next_re;
          store(du_re + at, gr);
          store(du_im + at, gi);
          if (r == start) break;
          const Vec pr = load(h_re + at - d), pi = load(h_im + at - d);
          sr += gr * pr + gi * pi;
          si += gi * pr - gr * pi;
        }
        for (int l = 0; l < kW; ++l) {
          group_re[c + l] += sr[l];
          group_im[c + l] += si[l];
        }
      }
      for (; c < c1; ++c) {
        float gr = 0.0f, gi = 0.0f, sr = 0.0f, si = 0.0f;
        for (int64_t r = end - 1; r >= start; --r) {
          const int64_t at = r * d + c;
          const float next_re = dh_re[at] + lam_re[c] * gr + lam_im[c] * gi;
          gi = dh_im[at] + lam_re[c] * gi - lam_im[c] * gr;
          gr = next_re;
          du_re[at] = gr;
          du_im[at] = gi;
          if (r == start) break;
          sr += gr * h_re[at - d] + gi * h_im[at - d];
          si += gi * h_re[at - d] - gr * h_im[at - d];
        }
        group_re[c] += sr;
        group_im[c] += si;
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
  free(plan.group_start);
  return true;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
