// Why: the stack of encoder layers (and, for pre-LN, the final LayerNorm that pre-LN stacks need
// because their residual stream is never normalised otherwise), keeping every layer's input for
// the backward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/Rng.hpp"
#include "nn/EncoderLayer.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/ModelConfig.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// config.layers EncoderLayers "layers.0" .. "layers.{L-1}" then, for pre-LN only, "final_ln":
///   x_0 = x;  x_{l+1} = EncoderLayer_l(x_l);  y = final_ln(x_L) (pre-LN) or x_L (post-LN).
struct Encoder {
  NormPlacement norm = NormPlacement::kPre;
  std::int64_t dim = 0;
  std::vector<EncoderLayer> layers;
  LayerNorm final_ln;  ///< pre-LN only

  Encoder() = default;
  template <typename T>
  Encoder(ParameterStore<T>& store, const ModelConfig& config);
};

/// Every layer with encoder_layer_init (in order), then final_ln = (1, 0).
template <typename T>
void encoder_init(const Encoder& encoder, ParameterStore<T>& store, Rng& rng, double stddev = 0.02);

/// Forward state: every layer input and output x_0 .. x_L ([L+1, rows, d]), each layer's saved
/// state, and the final LayerNorm's statistics ([rows] each, pre-LN).
template <typename T>
struct EncoderSaved {
  std::int64_t rows = 0;
  std::vector<T> acts;
  std::vector<EncoderLayerSaved<T>> layers;
  std::vector<T> final_mean, final_rstd;

  /// Bytes of everything above (the model's activation memory, less embeddings and head).
  std::size_t bytes() const;
};

/// Backward temporaries, reused across steps.
template <typename T>
struct EncoderScratch {
  std::vector<T> grad_a, grad_b;  ///< [rows, d] each
  EncoderLayerScratch<T> layer;
};

/// x, y: [rows, d] with rows = call.batch · call.n (y overwritten). Fills `saved`.
template <typename T>
void encoder_forward(const Encoder& encoder, const ParameterStore<T>& store,
                     const EncoderCall& call, std::span<const T> x, std::span<T> y,
                     EncoderSaved<T>& saved);

/// Given dy [rows, d]: accumulates every parameter gradient of the stack; dx [rows, d]
/// (overwritten, may not alias dy).
template <typename T>
void encoder_backward(const Encoder& encoder, ParameterStore<T>& store, std::span<const T> dy,
                      std::span<T> dx, const EncoderSaved<T>& saved, EncoderScratch<T>& scratch);

}  // namespace diffuser::nn
