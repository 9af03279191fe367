// Chunk-wise layer norm (types.ts layerNormForward / layerNormBackward): every
// row and every chunk [bounds[k], bounds[k+1]) is normalised on its own. Tasks
// are blocks of rows; dGamma / dBeta are summed per task in float and over
// tasks in task order in double.
#include <math.h>
#include <stdlib.h>

#include "variant.h"

namespace fmrlrec {
namespace FMRLREC_VARIANT {
namespace {

int64_t row_tasks(int64_t t, int64_t d) {
  if (t * d < 32768) return 1;
  return min64(t, 4 * static_cast<int64_t>(pool_threads()));
}

// Σ x[0..n) and Σ (x − mean)² over one chunk.
float chunk_sum(const float* x, int64_t n) {
  Vec acc = Vec{};
  int64_t i = 0;
  for (; i + kW <= n; i += kW) acc += load(x + i);
  float sum = hsum(acc);
  for (; i < n; ++i) sum += x[i];
  return sum;
}

float chunk_squares(const float* x, int64_t n, float mean) {
  Vec acc = Vec{};
  const Vec mu = splat(mean);
  int64_t i = 0;
  for (; i + kW <= n; i += kW) {
    Vec centred = load(x + i) - mu;
    acc += centred * centred;
  }
  float sum = hsum(acc);
  for (; i < n; ++i) sum += (x[i] - mean) * (x[i] - mean);
  return sum;
}

}  // namespace

bool layer_norm_forward(const float* x, int64_t t, int64_t d, const int32_t* bounds, int num_chunks, const float* gamma,
                        const float* beta, float eps, float* y, float* mean, float* rstd) {
  const int64_t tasks = row_tasks(t, d);
  auto task = [&](int index) {
    for (int64_t row = part_start(t, tasks, index); row < part_start(t, tasks, index + 1); ++row) {
      for (int k = 0; k < num_chunks; ++k) {
        const int64_t lo = bounds[k];
        const int64_t n = bounds[k + 1] - lo;
        const float* xs = x + row * d + lo;
        float* ys = y + row * d + lo;
        const float mu = chunk_sum(xs, n) / static_cast<float>(n);
        const float r = 1.0f / sqrtf(chunk_squares(xs, n, mu) / static_cast<float>(n) + eps);
        mean[row * num_chunks + k] = mu;
        rstd[row * num_chunks + k] = r;
        const Vec vmu = splat(mu), vr = splat(r);
        int64_t i = 0;
        for (; i + kW <= n; i += kW)
          store(ys + i, (load(xs + i) - vmu) * vr * load(gamma + lo + i) + load(beta + lo + i));
        for (; i < n; ++i) ys[i] = (xs[i] - mu) * r * gamma[lo + i] + beta[lo + i];
      }
    }
  };
  parallel(static_cast<int>(tasks), task);
  return true;
}

bool layer_norm_backward(const float* dy, const float* x, int64_t t, int64_t d, const int32_t* bounds, int num_chunks,
                         const float* gamma, const float* mean, const float* rstd, float* dx, float* dgamma,
                         float* dbeta) {
  const int64_t tasks = row_tasks(t, d);
  // Per task: Σ dy·xhat then Σ dy, each d floats (padded to whole vectors).
  const int64_t padded = round_up(d, kW);
  float* partial = static_cast<float*>(calloc(tasks * 2 * padded, sizeof(float)));
  if (partial == nullptr) return false;
  auto task = [&](int index) {
    float* sum_gamma = partial + index * 2 * padded;
    float* sum_beta = sum_gamma + padded;
    for (int64_t row = part_start(t, tasks, index); row < part_start(t, tasks, index + 1); ++row) {
      for (int k = 0; k < num_chunks; ++k) {
        const int64_t lo = bounds[k];
        const int64_t n = bounds[k + 1] - lo;
        const float* xs = x + row * d + lo;
        const float* dys = dy + row * d + lo;
        float* dxs = dx + row * d + lo;
        const float mu = mean[row * num_chunks + k];
        const float r = rstd[row * num_chunks + k];
        const Vec vmu = splat(mu), vr = splat(r);
        // Means over the chunk of dxhat = dy·gamma and of dxhat·xhat.
        Vec acc_dxhat = Vec{}, acc_dxhat_xhat = Vec{};
        int64_t i = 0;
        for (; i + kW <= n; i += kW) {
          const Vec xhat = (load(xs + i) - vmu) * vr;
          const Vec g = load(dys + i);
          const Vec dxhat = g * load(gamma + lo + i);
          acc_dxhat += dxhat;
          acc_dxhat_xhat += dxhat * xhat;
          store(sum_gamma + lo + i, load(sum_gamma + lo + i) + g * xhat);
          store(sum_beta + lo + i, load(sum_beta + lo + i) + g);
        }
        float sum_dxhat = hsum(acc_dxhat), sum_dxhat_xhat = hsum(acc_dxhat_xhat);
        for (; i < n; ++i) {
          const float xhat = (xs[i] - mu) * r;
          const float dxhat = dys[i] * gamma[lo + i];
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * xhat;
          sum_gamma[lo + i] += dys[i] * xhat;
          sum_beta[lo + i] += dys[i];
        }
        const float mean_dxhat = sum_dxhat / static_cast<float>(n);
        const float mean_dxhat_xhat = sum_dxhat_xhat / static_cast<float>(n);
        const Vec vm1 = splat(mean_dxhat), vm2 = splat(mean_dxhat_xhat);
        i = 0;
        for (; i + kW <= n; i += kW) {
          const Vec xhat = (load(xs + i) - vmu) * vr;
          const Vec dxhat = load(dys + i) * load(gamma + lo + i);
          store(dxs + i, vr * (dxhat - vm1 - xhat * vm2));
        }
        for (; i < n; ++i) {
          const float xhat = (xs[i] - mu) * r;
          dxs[i] = r * (dys[i] * gamma[lo + i] - mean_dxhat - xhat * mean_dxhat_xhat);
        }
      }
    }
  };
  parallel(static_cast<int>(tasks), task);
  for (int64_t c = 0; c < d; ++c) {
    double g = 0.0, b = 0.0;
    for (int64_t index = 0; index < tasks; ++index) {
      g += partial[index * 2 * padded + c];
      b += partial[index * 2 * padded + padded + c];
    }
    dgamma[c] += static_cast<float>(g);
    dbeta[c] += static_cast<float>(b);
  }
  free(partial);
  return true;
}

}  // namespace FMRLREC_VARIANT
}  // namespace fmrlrec
