// Why: the model input: each token id selects a row of a learned table, and each position adds a
// learned absolute position vector (BERT/RoBERTa style). The backward is a scatter-add, done
// without atomics so the result is the same for any thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/Rng.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// Token embedding E [vocab, dim] plus learned absolute position embedding P [max_len, dim]:
///   y[b, t, :] = E[tokens[b, t], :] + P[t, :].
/// Registers "<name>.token" and "<name>.position" (both kEmbedding).
struct Embedding {
  std::int64_t vocab = 0;
  std::int64_t max_len = 0;
  std::int64_t dim = 0;
  ParamRef token;
  ParamRef position;

  Embedding() = default;
  template <typename T>
  Embedding(ParameterStore<T>& store, const std::string& name, std::int64_t vocab,
            std::int64_t max_len, std::int64_t dim);
};

/// E, P ~ N(0, stddev^2), drawn from `rng` in that order (row-major).
template <typename T>
void embedding_init(const Embedding& layer, ParameterStore<T>& store, Rng& rng,
                    double stddev = 0.02);

/// tokens: [batch, len] with ids in [0, vocab) (checked; the error names [b, t] and the id);
/// len <= max_len; y: [batch, len, dim] (overwritten).
template <typename T>
void embedding_forward(const Embedding& layer, const ParameterStore<T>& store,
                       std::span<const std::int32_t> tokens, std::int64_t batch, std::int64_t len,
                       std::span<T> y);

/// Given dy [batch, len, dim]: dE[tokens[b, t], :] += dy[b, t, :] and dP[t, :] += dy[b, t, :]
/// (accumulated into the store's gradients, in (b, t) order for every column).
template <typename T>
void embedding_backward(const Embedding& layer, ParameterStore<T>& store,
                        std::span<const std::int32_t> tokens, std::int64_t batch, std::int64_t len,
                        std::span<const T> dy);

}  // namespace diffuser::nn
