// Why: everything that configures one attention call (heads, diffusion, dropout, memory mode) in
// one value, so the CPU, dense and CUDA backends and the nn layer take the same description.
#pragma once

#include <cstdint>

#include "core/Diffusion.hpp"

namespace diffuser::attention {

/// What forward keeps for backward (the bytes are per sequence; see AttentionSaved::bytes()).
///  - kStoreHops: the hop states Y_1..Y_{K-1} ((K-1)·n·H·D values; Y_K = theta_K V is not
///    stored, it is rebuilt from V). Backward makes K transposed passes and no extra products.
///  - kRecompute: no hop states are kept between forward and backward; backward first rebuilds
///    Y_1..Y_{K-1} by Horner (K-1 extra A·Y products) into a temporary buffer of the same size
///    that is freed when backward returns. In a model, only one layer's hop states are alive
///    at a time instead of every layer's.
enum class MemoryMode { kStoreHops, kRecompute };

/// Options of a sparse (or dense reference) attention call.
struct AttentionOptions {
  /// Number of heads H; the activation width H·D must be a multiple of it.
  int heads = 1;
  /// Diffusion coefficients theta_0..theta_K (default: plain attention Z = A V).
  Diffusion diffusion;
  /// Attention dropout probability p in [0, 1) on the edge weights a_e (after the softmax);
  /// kept weights are scaled by 1 / (1 - p). The mask is AttentionDropout's formula.
  double dropout = 0.0;
  /// Dropout seed and stream (counter_uniform(seed, stream, index)); give each layer and step
  /// its own stream (e.g. stream = step * layers + layer) so masks differ between them.
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  /// Hop-state storage for backward.
  MemoryMode memory = MemoryMode::kStoreHops;
};

}  // namespace diffuser::attention
