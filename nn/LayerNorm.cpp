// Why: LayerNorm forward/backward. Rows are independent (OpenMP over rows); the gamma/beta
// gradients reduce over rows, so they are split by feature columns and each column is summed in
// row order by one thread: the same result for any thread count, without atomics.
#include "nn/LayerNorm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nn/Parallel.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

constexpr std::int64_t kColChunk = 32;

template <typename T>
void check_rows(const LayerNorm& layer, const ParameterStore<T>& store, std::int64_t rows,
                std::size_t x, std::size_t y, std::size_t mean, std::size_t rstd,
                const char* y_name) {
  const std::string& name = store.tensor(layer.weight).name;
  DIFFUSER_CHECK(rows >= 0, "layernorm '{}': rows must be >= 0, got {}", name, rows);
  const auto shape = fmt::format("[rows={}, dim={}]", rows, layer.dim);
  check_size(name, "x", x, rows * layer.dim, shape);
  check_size(name, y_name, y, rows * layer.dim, shape);
  check_size(name, "mean", mean, rows, fmt::format("[rows={}]", rows));
  check_size(name, "rstd", rstd, rows, fmt::format("[rows={}]", rows));
}

}  // namespace

template <typename T>
LayerNorm::LayerNorm(ParameterStore<T>& store, const std::string& name, std::int64_t dim_,
                     double eps_)
    : dim(dim_), eps(eps_) {
  check_positive(name, "dim", dim_);
  DIFFUSER_CHECK(std::isfinite(eps_) && eps_ > 0, "layernorm '{}': eps must be > 0, got {}", name,
                 eps_);
  weight = store.add(name + ".weight", {dim}, ParamKind::kNorm);
  bias = store.add(name + ".bias", {dim}, ParamKind::kNorm);
}

template <typename T>
void layernorm_init(const LayerNorm& layer, ParameterStore<T>& store) {
  for (T& g : store.value(layer.weight)) g = T(1);
  for (T& b : store.value(layer.bias)) b = T(0);
}

template <typename T>
void layernorm_forward(const LayerNorm& layer, const ParameterStore<T>& store, std::span<const T> x,
                       std::span<T> y, std::span<T> mean, std::span<T> rstd, std::int64_t rows) {
  check_rows(layer, store, rows, x.size(), y.size(), mean.size(), rstd.size(), "y");
  const std::int64_t d = layer.dim;
  const T* gamma = store.value(layer.weight).data();
  const T* beta = store.value(layer.bias).data();
#pragma omp parallel for schedule(static) if (rows * d >= kMinParallelWork)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* xr = x.data() + r * d;
    T* yr = y.data() + r * d;
    double sum = 0;
    for (std::int64_t c = 0; c < d; ++c) sum += static_cast<double>(xr[c]);
    const double mu = sum / static_cast<double>(d);
    double sq = 0;
    for (std::int64_t c = 0; c < d; ++c) {
      const double t = static_cast<double>(xr[c]) - mu;
      sq += t * t;
    }
    const double rs = 1.0 / std::sqrt(sq / static_cast<double>(d) + layer.eps);
    mean[r] = static_cast<T>(mu);
    rstd[r] = static_cast<T>(rs);
    const T m = static_cast<T>(mu), s = static_cast<T>(rs);
    for (std::int64_t c = 0; c < d; ++c) yr[c] = (xr[c] - m) * s * gamma[c] + beta[c];
  }
}

template <typename T>
void layernorm_backward(const LayerNorm& layer, ParameterStore<T>& store, std::span<const T> x,
                        std::span<const T> mean, std::span<const T> rstd, std::span<const T> dy,
                        std::span<T> dx, std::int64_t rows) {
  check_rows(layer, store, rows, x.size(), dy.size(), mean.size(), rstd.size(), "dy");
  check_size(store.tensor(layer.weight).name, "dx", dx.size(), rows * layer.dim,
             fmt::format("[rows={}, dim={}]", rows, layer.dim));
  const std::int64_t d = layer.dim;
  const T* gamma = store.value(layer.weight).data();
  T* dgamma = store.grad(layer.weight).data();
  T* dbeta = store.grad(layer.bias).data();

#pragma omp parallel for schedule(static) if (rows * d >= kMinParallelWork)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* xr = x.data() + r * d;
    const T* dyr = dy.data() + r * d;
    T* dxr = dx.data() + r * d;
    const T m = mean[r], s = rstd[r];
    double sum_g = 0, sum_gx = 0;
    for (std::int64_t c = 0; c < d; ++c) {
      const double g = static_cast<double>(dyr[c]) * static_cast<double>(gamma[c]);
      sum_g += g;
      sum_gx += g * static_cast<double>((xr[c] - m) * s);
    }
    const T mg = static_cast<T>(sum_g / static_cast<double>(d));
    const T mgx = static_cast<T>(sum_gx / static_cast<double>(d));
    for (std::int64_t c = 0; c < d; ++c) {
      const T xhat = (xr[c] - m) * s;
      dxr[c] = s * (dyr[c] * gamma[c] - mg - xhat * mgx);
    }
  }

  const std::int64_t chunks = (d + kColChunk - 1) / kColChunk;
#pragma omp parallel for schedule(static) if (rows * d >= kMinParallelWork)
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
    const std::int64_t c0 = chunk * kColChunk, len = std::min(kColChunk, d - c0);
    double acc_g[kColChunk] = {}, acc_b[kColChunk] = {};
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* xr = x.data() + r * d + c0;
      const T* dyr = dy.data() + r * d + c0;
      const T m = mean[r], s = rstd[r];
      for (std::int64_t c = 0; c < len; ++c) {
        acc_g[c] += static_cast<double>(dyr[c]) * static_cast<double>((xr[c] - m) * s);
        acc_b[c] += static_cast<double>(dyr[c]);
      }
    }
    for (std::int64_t c = 0; c < len; ++c) {
      dgamma[c0 + c] += static_cast<T>(acc_g[c]);
      dbeta[c0 + c] += static_cast<T>(acc_b[c]);
    }
  }
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                                 \
  template LayerNorm::LayerNorm(ParameterStore<T>&, const std::string&, std::int64_t, double);     \
  template void layernorm_init<T>(const LayerNorm&, ParameterStore<T>&);                           \
  template void layernorm_forward<T>(const LayerNorm&, const ParameterStore<T>&,                   \
                                     std::span<const T>, std::span<T>, std::span<T>, std::span<T>, \
                                     std::int64_t);                                                \
  template void layernorm_backward<T>(const LayerNorm&, ParameterStore<T>&, std::span<const T>,    \
                                      std::span<const T>, std::span<const T>, std::span<const T>,  \
                                      std::span<T>, std::int64_t);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
