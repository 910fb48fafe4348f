// Why: element-wise activation kernels (OpenMP over elements; each element independent, so the
// result does not depend on the thread count).
#include "nn/Activation.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>

#include "core/Error.hpp"
#include "nn/Parallel.hpp"

namespace diffuser::nn {

namespace {

void check_same(const char* what, std::size_t a, std::size_t b) {
  DIFFUSER_CHECK(a == b, "{}: buffers differ in size ({} vs {})", what, a, b);
}

}  // namespace

std::string_view to_string(Activation a) {
  switch (a) {
    case Activation::kGelu:
      return "gelu";
    case Activation::kRelu:
      return "relu";
    case Activation::kTanh:
      return "tanh";
  }
  return "unknown";
}

Activation parse_activation(std::string_view name) {
  if (name == "gelu") return Activation::kGelu;
  if (name == "relu") return Activation::kRelu;
  if (name == "tanh") return Activation::kTanh;
  fail("unknown activation '{}' (expected gelu, relu or tanh)", name);
}

template <typename T>
void gelu_forward(std::span<const T> x, std::span<T> y) {
  check_same("gelu_forward", x.size(), y.size());
  const auto n = static_cast<std::int64_t>(x.size());
  const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = T(0.5) * v * (T(1) + std::erf(v * inv_sqrt2));
  }
}

template <typename T>
void gelu_backward(std::span<const T> x, std::span<const T> dy, std::span<T> dx) {
  check_same("gelu_backward", x.size(), dy.size());
  check_same("gelu_backward", x.size(), dx.size());
  const auto n = static_cast<std::int64_t>(x.size());
  const T inv_sqrt2 = static_cast<T>(1.0 / std::numbers::sqrt2);
  const T inv_sqrt2pi = static_cast<T>(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
  for (std::int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T cdf = T(0.5) * (T(1) + std::erf(v * inv_sqrt2));
    const T pdf = inv_sqrt2pi * std::exp(T(-0.5) * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

template <typename T>
void activation_forward(Activation a, std::span<const T> x, std::span<T> y) {
  check_same("activation_forward", x.size(), y.size());
  const auto n = static_cast<std::int64_t>(x.size());
  switch (a) {
    case Activation::kGelu:
      gelu_forward(x, y);
      return;
    case Activation::kRelu:
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
      for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
      return;
    case Activation::kTanh:
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
      for (std::int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
      return;
  }
}

template <typename T>
void activation_backward(Activation a, std::span<const T> x, std::span<const T> y,
                         std::span<const T> dy, std::span<T> dx) {
  check_same("activation_backward", x.size(), y.size());
  check_same("activation_backward", x.size(), dy.size());
  check_same("activation_backward", x.size(), dx.size());
  const auto n = static_cast<std::int64_t>(x.size());
  switch (a) {
    case Activation::kGelu:
      gelu_backward(x, dy, dx);
      return;
    case Activation::kRelu:
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
      for (std::int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
      return;
    case Activation::kTanh:
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
      for (std::int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (T(1) - y[i] * y[i]);
      return;
  }
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                         \
  template void gelu_forward<T>(std::span<const T>, std::span<T>);                         \
  template void gelu_backward<T>(std::span<const T>, std::span<const T>, std::span<T>);    \
  template void activation_forward<T>(Activation, std::span<const T>, std::span<T>);       \
  template void activation_backward<T>(Activation, std::span<const T>, std::span<const T>, \
                                       std::span<const T>, std::span<T>);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
