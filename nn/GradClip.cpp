// Why: deterministic global gradient norm and clipping over the flat gradient buffer.
#include "nn/GradClip.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "nn/Parallel.hpp"

namespace diffuser::nn {

namespace {

constexpr std::int64_t kChunk = 4096;

}  // namespace

template <typename T>
double grad_norm(const ParameterStore<T>& store) {
  const auto g = store.grads();
  const auto n = static_cast<std::int64_t>(g.size());
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t end = std::min(n, (c + 1) * kChunk);
    double sum = 0;
    for (std::int64_t i = c * kChunk; i < end; ++i) {
      const double v = static_cast<double>(g[i]);
      sum += v * v;
    }
    partial[c] = sum;
  }
  double total = 0;
  for (const double p : partial) total += p;
  if (!std::isfinite(total)) {
    for (const TensorInfo& info : store.tensors()) {
      for (std::size_t i = info.offset; i < info.offset + info.size; ++i) {
        DIFFUSER_CHECK(std::isfinite(static_cast<double>(g[i])),
                       "gradient of '{}' is {} at element {}", info.name, static_cast<double>(g[i]),
                       i - info.offset);
      }
    }
    fail("gradient norm overflows double ({})", total);
  }
  return std::sqrt(total);
}

template <typename T>
double clip_grad_norm(ParameterStore<T>& store, double max_norm) {
  DIFFUSER_CHECK(std::isfinite(max_norm) && max_norm > 0,
                 "clip_grad_norm: max_norm must be > 0, got {}", max_norm);
  const double norm = grad_norm(store);
  if (norm > max_norm) {
    const T scale = static_cast<T>(max_norm / norm);
    auto g = store.grads();
    const auto n = static_cast<std::int64_t>(g.size());
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
    for (std::int64_t i = 0; i < n; ++i) g[i] *= scale;
  }
  return norm;
}

template double grad_norm<float>(const ParameterStore<float>&);
template double grad_norm<double>(const ParameterStore<double>&);
template double clip_grad_norm<float>(ParameterStore<float>&, double);
template double clip_grad_norm<double>(ParameterStore<double>&, double);

}  // namespace diffuser::nn
