// Why: the whole-model tests (gradient checks, determinism, causality, the PyTorch reference)
// share tiny configurations, batches and a way to set every parameter to well-scaled random
// values, so they are written once here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/Rng.hpp"
#include "graph/PatternSpec.hpp"
#include "nn/Batch.hpp"
#include "nn/CrossEntropy.hpp"
#include "nn/Model.hpp"
#include "nn/ModelConfig.hpp"

namespace diffuser::testing {

/// A tiny model: vocab 7, max_len 8, 2 layers, d 8, 2 heads, MLP 12; no dropout; the pattern
/// has a window, a global token and a random key per row so rows have different degrees;
/// diffusion PPR(alpha 0.3, 3 hops) so every power of A carries visible weight.
inline nn::ModelConfig tiny_config(nn::ModelKind kind, nn::AttentionVariant variant,
                                   nn::NormPlacement norm) {
  nn::ModelConfig c;
  c.kind = kind;
  c.vocab = 7;
  c.num_classes = kind == nn::ModelKind::kCausalLm ? 7 : 3;
  c.max_len = 8;
  c.layers = 2;
  c.dim = 8;
  c.heads = 2;
  c.mlp_dim = 12;
  c.norm = norm;
  c.dropout = 0.0;
  c.attention_dropout = 0.0;
  c.variant = variant;
  c.pattern = graph::parse_pattern_spec("window=1,global=1,random=1,seed=5");
  c.diffusion = diffuser::Diffusion::ppr(0.3, 3);
  return c;
}

/// A batch of `batch` sequences of length `len` with lengths len, len - 2, len, ... (so padding
/// is exercised), random tokens and labels matching the config's kind.
inline nn::Batch tiny_batch(const nn::ModelConfig& c, std::int64_t batch, std::int64_t len,
                            std::uint64_t seed) {
  Rng rng(seed);
  nn::Batch b;
  b.batch = batch;
  b.len = len;
  auto fill = [&](std::vector<std::int32_t>& tokens, std::vector<std::int32_t>& lengths) {
    tokens.resize(static_cast<std::size_t>(batch * len));
    for (auto& t : tokens) t = static_cast<std::int32_t>(rng.uniform_below(c.vocab));
    lengths.resize(static_cast<std::size_t>(batch));
    for (std::int64_t i = 0; i < batch; ++i) {
      lengths[i] = static_cast<std::int32_t>(i % 2 == 1 && len > 2 ? len - 2 : len);
    }
  };
  fill(b.tokens, b.lengths);
  if (c.kind == nn::ModelKind::kDualEncoder) {
    fill(b.tokens2, b.lengths2);
    b.lengths2[0] = static_cast<std::int32_t>(len > 1 ? len - 1 : len);
  }
  if (c.kind == nn::ModelKind::kCausalLm) {
    b.labels.assign(static_cast<std::size_t>(batch * len), nn::kIgnoreLabel);
    for (std::int64_t i = 0; i < batch; ++i) {
      for (std::int64_t t = 0; t < b.lengths[i]; ++t) {
        b.labels[i * len + t] = static_cast<std::int32_t>(rng.uniform_below(c.vocab));
      }
    }
  } else {
    b.labels.resize(static_cast<std::size_t>(batch));
    for (auto& y : b.labels) y = static_cast<std::int32_t>(rng.uniform_below(c.num_classes));
  }
  return b;
}

/// Sets every parameter to a random value of a scale that makes every path of the model matter
/// (the default init's 0.02 leaves attention nearly uniform and gradients tiny): weights and
/// embeddings N(0, 0.5^2), biases N(0, 0.1^2), LayerNorm gains 1 + N(0, 0.1^2) and shifts
/// N(0, 0.1^2), learnable theta = its initial value + N(0, 0.05^2).
template <typename T>
void randomize_parameters(nn::Model<T>& model, std::uint64_t seed) {
  Rng rng(seed);
  auto& store = model.params();
  for (const auto& info : store.tensors()) {
    const auto values = store.value(store.ref(info.name));
    const bool is_theta = info.name.size() >= 6 && info.name.ends_with(".theta");
    const bool is_gain = info.kind == nn::ParamKind::kNorm && info.name.ends_with(".weight");
    for (T& v : values) {
      if (is_theta) {
        v += static_cast<T>(0.05 * rng.normal());
      } else if (is_gain) {
        v = static_cast<T>(1.0 + 0.1 * rng.normal());
      } else if (info.kind == nn::ParamKind::kBias || info.kind == nn::ParamKind::kNorm) {
        v = static_cast<T>(0.1 * rng.normal());
      } else {
        v = static_cast<T>(0.5 * rng.normal());
      }
    }
  }
}

}  // namespace diffuser::testing
