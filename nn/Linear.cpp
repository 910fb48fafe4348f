// Why: Linear forward/backward through Eigen GEMMs on fixed chunks (deterministic for any thread
// count: each output element is computed by one GEMM call whose shape does not depend on the
// number of threads; inside an OpenMP region Eigen does not start threads of its own).
#include "nn/Linear.hpp"

#include <Eigen/Core>

#include <fmt/format.h>

#include <algorithm>

#include "nn/Parallel.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using RowVec = Eigen::Matrix<T, 1, Eigen::Dynamic>;

// Fixed work split (never derived from the thread count): rows of x per forward / dx chunk,
// and output features per dW chunk.
constexpr std::int64_t kRowChunk = 128;
constexpr std::int64_t kOutChunk = 32;

template <typename T>
void check_io(const Linear& layer, const ParameterStore<T>& store, std::size_t x_size,
              std::size_t y_size, std::int64_t rows, const char* y_name) {
  const std::string& name = store.tensor(layer.weight).name;
  DIFFUSER_CHECK(rows >= 0, "linear '{}': rows must be >= 0, got {}", name, rows);
  check_size(name, "x", x_size, rows * layer.in, fmt::format("[rows={}, in={}]", rows, layer.in));
  check_size(name, y_name, y_size, rows * layer.out,
             fmt::format("[rows={}, out={}]", rows, layer.out));
}

}  // namespace

template <typename T>
Linear::Linear(ParameterStore<T>& store, const std::string& name, std::int64_t in_features,
               std::int64_t out_features, bool with_bias)
    : in(in_features), out(out_features), has_bias(with_bias) {
  check_positive(name, "in features", in_features);
  check_positive(name, "out features", out_features);
  weight = store.add(name + ".weight", {out, in}, ParamKind::kWeight);
  if (has_bias) bias = store.add(name + ".bias", {out}, ParamKind::kBias);
}

template <typename T>
void linear_init(const Linear& layer, ParameterStore<T>& store, Rng& rng, double stddev) {
  for (T& w : store.value(layer.weight)) w = static_cast<T>(stddev * rng.normal());
  if (layer.has_bias) {
    for (T& b : store.value(layer.bias)) b = T(0);
  }
}

template <typename T>
void linear_forward(const Linear& layer, const ParameterStore<T>& store, std::span<const T> x,
                    std::span<T> y, std::int64_t rows) {
  check_io(layer, store, x.size(), y.size(), rows, "y");
  const std::int64_t in = layer.in, out = layer.out;
  const Eigen::Map<const RowMat<T>> W(store.value(layer.weight).data(), out, in);
  const T* bias = layer.has_bias ? store.value(layer.bias).data() : nullptr;
  const std::int64_t chunks = (rows + kRowChunk - 1) / kRowChunk;
#pragma omp parallel for schedule(static) if (rows * in * out >= kMinParallelWork)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t r0 = c * kRowChunk, len = std::min(kRowChunk, rows - r0);
    const Eigen::Map<const RowMat<T>> X(x.data() + r0 * in, len, in);
    Eigen::Map<RowMat<T>> Y(y.data() + r0 * out, len, out);
    Y.noalias() = X * W.transpose();
    if (bias != nullptr) Y.rowwise() += Eigen::Map<const RowVec<T>>(bias, out);
  }
}

template <typename T>
void linear_backward(const Linear& layer, ParameterStore<T>& store, std::span<const T> x,
                     std::span<const T> dy, std::span<T> dx, std::int64_t rows) {
  check_io(layer, store, x.size(), dy.size(), rows, "dy");
  const std::string& name = store.tensor(layer.weight).name;
  if (!dx.empty()) {
    check_size(name, "dx", dx.size(), rows * layer.in,
               fmt::format("[rows={}, in={}]", rows, layer.in));
  }
  const std::int64_t in = layer.in, out = layer.out;
  const Eigen::Map<const RowMat<T>> X(x.data(), rows, in);
  const Eigen::Map<const RowMat<T>> dY(dy.data(), rows, out);
  const Eigen::Map<const RowMat<T>> W(store.value(layer.weight).data(), out, in);
  Eigen::Map<RowMat<T>> dW(store.grad(layer.weight).data(), out, in);
  T* dbias = layer.has_bias ? store.grad(layer.bias).data() : nullptr;

  // dW and db: chunks of output features; each chunk reduces over all rows in order.
  const std::int64_t out_chunks = (out + kOutChunk - 1) / kOutChunk;
#pragma omp parallel for schedule(static) if (rows * in * out >= kMinParallelWork)
  for (std::int64_t c = 0; c < out_chunks; ++c) {
    const std::int64_t o0 = c * kOutChunk, len = std::min(kOutChunk, out - o0);
    if (rows > 0) dW.middleRows(o0, len).noalias() += dY.middleCols(o0, len).transpose() * X;
    if (dbias != nullptr) {
      double acc[kOutChunk] = {};
      for (std::int64_t r = 0; r < rows; ++r) {
        const T* row = dy.data() + r * out + o0;
        for (std::int64_t o = 0; o < len; ++o) acc[o] += static_cast<double>(row[o]);
      }
      for (std::int64_t o = 0; o < len; ++o) dbias[o0 + o] += static_cast<T>(acc[o]);
    }
  }

  if (dx.empty()) return;
  const std::int64_t row_chunks = (rows + kRowChunk - 1) / kRowChunk;
#pragma omp parallel for schedule(static) if (rows * in * out >= kMinParallelWork)
  for (std::int64_t c = 0; c < row_chunks; ++c) {
    const std::int64_t r0 = c * kRowChunk, len = std::min(kRowChunk, rows - r0);
    Eigen::Map<RowMat<T>> dX(dx.data() + r0 * in, len, in);
    dX.noalias() = dY.middleRows(r0, len) * W;
  }
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                             \
  template Linear::Linear(ParameterStore<T>&, const std::string&, std::int64_t, std::int64_t,  \
                          bool);                                                               \
  template void linear_init<T>(const Linear&, ParameterStore<T>&, Rng&, double);               \
  template void linear_forward<T>(const Linear&, const ParameterStore<T>&, std::span<const T>, \
                                  std::span<T>, std::int64_t);                                 \
  template void linear_backward<T>(const Linear&, ParameterStore<T>&, std::span<const T>,      \
                                   std::span<const T>, std::span<T>, std::int64_t);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
