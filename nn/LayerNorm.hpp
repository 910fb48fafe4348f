// Why: layer normalisation (Ba, Kiros, Hinton 2016) over the feature dimension, with the
// per-row mean and reciprocal standard deviation saved by the forward pass for the backward.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// y = (x - mean) * rstd * gamma + beta per row of [rows, dim], with mean and the biased variance
/// over the row and rstd = 1 / sqrt(var + eps). Registers "<name>.weight" (gamma) and
/// "<name>.bias" (beta), both [dim] and kNorm. RoBERTa uses eps = 1e-5.
struct LayerNorm {
  std::int64_t dim = 0;
  double eps = 1e-5;
  ParamRef weight;
  ParamRef bias;

  LayerNorm() = default;
  template <typename T>
  LayerNorm(ParameterStore<T>& store, const std::string& name, std::int64_t dim, double eps = 1e-5);
};

/// gamma = 1, beta = 0.
template <typename T>
void layernorm_init(const LayerNorm& layer, ParameterStore<T>& store);

/// x, y: [rows, dim] (y overwritten; may not alias x); mean, rstd: [rows] (written, for
/// layernorm_backward). Statistics are accumulated in double.
template <typename T>
void layernorm_forward(const LayerNorm& layer, const ParameterStore<T>& store, std::span<const T> x,
                       std::span<T> y, std::span<T> mean, std::span<T> rstd, std::int64_t rows);

/// With xhat = (x - mean) rstd and g = dy * gamma (per element):
///   dx = rstd * (g - mean_row(g) - xhat * mean_row(g * xhat))   (overwritten),
///   dgamma += sum_rows dy * xhat,  dbeta += sum_rows dy            (accumulated).
/// dx may not alias dy.
template <typename T>
void layernorm_backward(const LayerNorm& layer, ParameterStore<T>& store, std::span<const T> x,
                        std::span<const T> mean, std::span<const T> rstd, std::span<const T> dy,
                        std::span<T> dx, std::int64_t rows);

}  // namespace diffuser::nn
