// Why: the affine map y = x W^T + b is most of a transformer's arithmetic. It runs as Eigen GEMMs
// on mapped row-major buffers, split into fixed chunks so results do not depend on the thread
// count (Eigen's own OpenMP split would change blocking with the number of threads).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/Rng.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// A fully connected layer: y = x W^T + b, with W of shape [out, in] (row-major, PyTorch's
/// nn.Linear layout) and optional b of shape [out]. Registers "<name>.weight" (kWeight) and,
/// with a bias, "<name>.bias" (kBias).
struct Linear {
  std::int64_t in = 0;
  std::int64_t out = 0;
  bool has_bias = false;
  ParamRef weight;
  ParamRef bias;

  Linear() = default;
  template <typename T>
  Linear(ParameterStore<T>& store, const std::string& name, std::int64_t in, std::int64_t out,
         bool with_bias = true);
};

/// W ~ N(0, stddev^2) drawn in row-major order from `rng` (BERT/RoBERTa use stddev 0.02), b = 0.
template <typename T>
void linear_init(const Linear& layer, ParameterStore<T>& store, Rng& rng, double stddev = 0.02);

/// y[r, o] = sum_i x[r, i] W[o, i] + b[o].  x: [rows, in], y: [rows, out] (overwritten; must
/// not alias x).
template <typename T>
void linear_forward(const Linear& layer, const ParameterStore<T>& store, std::span<const T> x,
                    std::span<T> y, std::int64_t rows);

/// Given dy = dL/dy [rows, out]:
///   dW += dy^T x   ([out, in], accumulated into the store's gradient buffer),
///   db += sum_r dy[r, :],
///   dx  = dy W     ([rows, in], overwritten; pass an empty span to skip it).
template <typename T>
void linear_backward(const Linear& layer, ParameterStore<T>& store, std::span<const T> x,
                     std::span<const T> dy, std::span<T> dx, std::int64_t rows);

}  // namespace diffuser::nn
