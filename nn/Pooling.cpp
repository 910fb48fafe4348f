// Why: pooling kernels (OpenMP over sequences; each output written by one thread).
#include "nn/Pooling.hpp"

#include <fmt/format.h>

#include <vector>

#include "core/Error.hpp"
#include "nn/Parallel.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

void check_shapes(std::span<const std::int32_t> lengths, std::int64_t batch, std::int64_t len,
                  std::int64_t dim, std::size_t x_size, std::size_t y_size, const char* x_name,
                  const char* y_name) {
  DIFFUSER_CHECK(batch >= 0 && len >= 1 && dim >= 1,
                 "pooling: need batch >= 0, len >= 1, dim >= 1 (got {}, {}, {})", batch, len, dim);
  check_size("pooling", x_name, x_size, batch * len * dim,
             fmt::format("[batch={}, len={}, dim={}]", batch, len, dim));
  check_size("pooling", y_name, y_size, batch * dim, fmt::format("[batch={}, dim={}]", batch, dim));
  if (lengths.empty()) return;
  check_size("pooling", "lengths", lengths.size(), batch, fmt::format("[batch={}]", batch));
  for (std::int64_t b = 0; b < batch; ++b) {
    DIFFUSER_CHECK(lengths[b] >= 1 && lengths[b] <= len,
                   "pooling: lengths[{}] = {} out of range [1, {}]", b, lengths[b], len);
  }
}

}  // namespace

std::string_view to_string(Pooling p) { return p == Pooling::kCls ? "cls" : "mean"; }

Pooling parse_pooling(std::string_view name) {
  if (name == "cls") return Pooling::kCls;
  if (name == "mean") return Pooling::kMean;
  fail("unknown pooling '{}' (expected cls or mean)", name);
}

template <typename T>
void pooling_forward(Pooling mode, std::span<const T> x, std::span<const std::int32_t> lengths,
                     std::int64_t batch, std::int64_t len, std::int64_t dim, std::span<T> y) {
  check_shapes(lengths, batch, len, dim, x.size(), y.size(), "x", "y");
#pragma omp parallel for schedule(static) if (batch * len * dim >= kMinParallelWork)
  for (std::int64_t b = 0; b < batch; ++b) {
    const T* xb = x.data() + b * len * dim;
    T* yb = y.data() + b * dim;
    if (mode == Pooling::kCls) {
      for (std::int64_t c = 0; c < dim; ++c) yb[c] = xb[c];
      continue;
    }
    const std::int64_t L = lengths.empty() ? len : lengths[b];
    std::vector<double> sum(static_cast<std::size_t>(dim), 0.0);
    for (std::int64_t t = 0; t < L; ++t) {
      for (std::int64_t c = 0; c < dim; ++c) sum[c] += static_cast<double>(xb[t * dim + c]);
    }
    for (std::int64_t c = 0; c < dim; ++c) yb[c] = static_cast<T>(sum[c] / static_cast<double>(L));
  }
}

template <typename T>
void pooling_backward(Pooling mode, std::span<const T> dy, std::span<const std::int32_t> lengths,
                      std::int64_t batch, std::int64_t len, std::int64_t dim, std::span<T> dx) {
  check_shapes(lengths, batch, len, dim, dx.size(), dy.size(), "dx", "dy");
#pragma omp parallel for schedule(static) if (batch * len * dim >= kMinParallelWork)
  for (std::int64_t b = 0; b < batch; ++b) {
    const T* g = dy.data() + b * dim;
    T* dxb = dx.data() + b * len * dim;
    const std::int64_t L = mode == Pooling::kCls ? 1 : (lengths.empty() ? len : lengths[b]);
    const T scale = mode == Pooling::kCls ? T(1) : static_cast<T>(1.0 / static_cast<double>(L));
    for (std::int64_t t = 0; t < len; ++t) {
      T* row = dxb + t * dim;
      for (std::int64_t c = 0; c < dim; ++c) row[c] = t < L ? g[c] * scale : T(0);
    }
  }
}

template void pooling_forward<float>(Pooling, std::span<const float>, std::span<const std::int32_t>,
                                     std::int64_t, std::int64_t, std::int64_t, std::span<float>);
template void pooling_forward<double>(Pooling, std::span<const double>,
                                      std::span<const std::int32_t>, std::int64_t, std::int64_t,
                                      std::int64_t, std::span<double>);
template void pooling_backward<float>(Pooling, std::span<const float>,
                                      std::span<const std::int32_t>, std::int64_t, std::int64_t,
                                      std::int64_t, std::span<float>);
template void pooling_backward<double>(Pooling, std::span<const double>,
                                       std::span<const std::int32_t>, std::int64_t, std::int64_t,
                                       std::int64_t, std::span<double>);

}  // namespace diffuser::nn
