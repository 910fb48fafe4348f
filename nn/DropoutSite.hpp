// Why: every dropout mask of a model must be different from every other one (per training step,
// per layer, per place in the layer) and yet reproducible, so that a resumed run draws exactly
// the masks of an uninterrupted one. This header is the one table that numbers the places.
#pragma once

#include <cstdint>

#include "nn/Dropout.hpp"

namespace diffuser::nn {

/// Largest number of encoder layers: the site numbers below must stay under 2^20
/// (nn/Dropout.hpp's dropout_stream).
inline constexpr std::int64_t kMaxLayers = 65535;

/// Dropout sites per encoder layer (slots 3..15 are reserved).
inline constexpr std::uint64_t kSitesPerLayer = 16;

/// The dropout places inside one encoder layer.
enum class LayerSite : std::uint64_t {
  kAttentionOutput = 0,   ///< after the attention block's output projection
  kMlpOutput = 1,         ///< after the MLP's second linear
  kAttentionWeights = 2,  ///< on the edge weights a_e inside attention (attention_dropout)
};

/// Site of the embedding dropout (after the embedding, or after its LayerNorm in post-LN).
inline constexpr std::uint64_t kEmbeddingSite = 0;

/// Site of `slot` in encoder layer `layer` (0-based): 16·(layer + 1) + slot.
inline std::uint64_t layer_dropout_site(std::int64_t layer, LayerSite slot) {
  return kSitesPerLayer * static_cast<std::uint64_t>(layer + 1) + static_cast<std::uint64_t>(slot);
}

/// The counter stream of a site at optimiser step `step`: dropout_stream(step, site), i.e.
/// step · 2^20 + site. A mask element is kept iff counter_uniform(seed, stream, index) >= p with
/// index the flat element index of the tensor (for attention weights, AttentionDropout.hpp's
/// (b·H + h)·nnz + e).
inline std::uint64_t layer_dropout_stream(std::uint64_t step, std::int64_t layer, LayerSite slot) {
  return dropout_stream(step, layer_dropout_site(layer, slot));
}

}  // namespace diffuser::nn
