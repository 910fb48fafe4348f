// Why: the dropout kernels; the mask is recomputed from (seed, stream, index) in both passes.
#include "nn/Dropout.hpp"

#include <cmath>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "nn/Parallel.hpp"

namespace diffuser::nn {

namespace {

constexpr std::uint64_t kSiteBits = 20;

template <typename T>
void apply(const Dropout& d, std::span<const T> in, std::span<T> out, const char* what) {
  DIFFUSER_CHECK(in.size() == out.size(), "{}: buffers differ in size ({} vs {})", what, in.size(),
                 out.size());
  DIFFUSER_CHECK(std::isfinite(d.p) && d.p >= 0.0f && d.p < 1.0f,
                 "{}: dropout probability must be in [0, 1), got {}", what, d.p);
  const auto n = static_cast<std::int64_t>(in.size());
  if (d.p == 0.0f) {
    if (in.data() != out.data()) {
      for (std::int64_t i = 0; i < n; ++i) out[i] = in[i];
    }
    return;
  }
  const T scale = static_cast<T>(1.0 / (1.0 - static_cast<double>(d.p)));
#pragma omp parallel for schedule(static) if (n >= kMinParallelWork)
  for (std::int64_t i = 0; i < n; ++i) {
    const bool keep =
        counter_uniform(d.seed, d.stream, d.index_base + static_cast<std::uint64_t>(i)) >= d.p;
    out[i] = keep ? in[i] * scale : T(0);
  }
}

}  // namespace

std::uint64_t dropout_stream(std::uint64_t step, std::uint64_t site) {
  DIFFUSER_CHECK(site < (std::uint64_t{1} << kSiteBits), "dropout site {} out of range [0, 2^20)",
                 site);
  DIFFUSER_CHECK(step < (std::uint64_t{1} << (64 - kSiteBits)),
                 "dropout step {} out of range [0, 2^44)", step);
  return (step << kSiteBits) | site;
}

bool dropout_keep(const Dropout& d, std::uint64_t index) {
  return counter_uniform(d.seed, d.stream, d.index_base + index) >= d.p;
}

template <typename T>
void dropout_forward(const Dropout& d, std::span<const T> x, std::span<T> y) {
  apply(d, x, y, "dropout_forward");
}

template <typename T>
void dropout_backward(const Dropout& d, std::span<const T> dy, std::span<T> dx) {
  apply(d, dy, dx, "dropout_backward");
}

template void dropout_forward<float>(const Dropout&, std::span<const float>, std::span<float>);
template void dropout_forward<double>(const Dropout&, std::span<const double>, std::span<double>);
template void dropout_backward<float>(const Dropout&, std::span<const float>, std::span<float>);
template void dropout_backward<double>(const Dropout&, std::span<const double>, std::span<double>);

}  // namespace diffuser::nn
