// Why: residual connections y = x + f(x). Their backward sends dy to both branches, so with
// layer backwards that overwrite their input gradients the caller needs an accumulate step.
#pragma once

#include <cstdint>
#include <span>

#include "core/Error.hpp"
#include "nn/Parallel.hpp"

namespace diffuser::nn {

/// y = x + fx element-wise (all the same size; y may alias x or fx).
template <typename T>
void residual_forward(std::span<const T> x, std::span<const T> fx, std::span<T> y) {
  DIFFUSER_CHECK(x.size() == fx.size() && x.size() == y.size(),
                 "residual_forward: sizes differ (x {}, fx {}, y {})", x.size(), fx.size(),
                 y.size());
  const auto n = static_cast<std::int64_t>(x.size());
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] + fx[i];
}

/// dst += src element-wise (same size): adds a branch's input gradient to the skip path's.
template <typename T>
void add_into(std::span<T> dst, std::span<const T> src) {
  DIFFUSER_CHECK(dst.size() == src.size(), "add_into: sizes differ (dst {}, src {})", dst.size(),
                 src.size());
  const auto n = static_cast<std::int64_t>(dst.size());
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
  for (std::int64_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace diffuser::nn
