// Why: embedding lookup and its scatter-add backward. The token-table gradient is split by
// feature columns (each thread owns whole columns and walks the tokens in order), the position
// gradient by positions: deterministic for any thread count, no atomics.
#include "nn/Embedding.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "nn/Parallel.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

constexpr std::int64_t kColChunk = 32;

template <typename T>
void check_inputs(const Embedding& layer, const ParameterStore<T>& store,
                  std::span<const std::int32_t> tokens, std::int64_t batch, std::int64_t len,
                  std::size_t y_size, const char* y_name) {
  const std::string& name = store.tensor(layer.token).name;
  DIFFUSER_CHECK(batch >= 0 && len >= 0, "embedding '{}': batch {} and len {} must be >= 0", name,
                 batch, len);
  DIFFUSER_CHECK(len <= layer.max_len,
                 "embedding '{}': sequence length {} exceeds the position table ({} positions)",
                 name, len, layer.max_len);
  check_size(name, "tokens", tokens.size(), batch * len,
             fmt::format("[batch={}, len={}]", batch, len));
  check_size(name, y_name, y_size, batch * len * layer.dim,
             fmt::format("[batch={}, len={}, dim={}]", batch, len, layer.dim));
  for (std::int64_t i = 0; i < batch * len; ++i) {
    const std::int32_t id = tokens[i];
    DIFFUSER_CHECK(id >= 0 && id < layer.vocab,
                   "embedding '{}': token {} at [b={}, t={}] out of range [0, {})", name, id,
                   i / len, i % len, layer.vocab);
  }
}

}  // namespace

template <typename T>
Embedding::Embedding(ParameterStore<T>& store, const std::string& name, std::int64_t vocab_,
                     std::int64_t max_len_, std::int64_t dim_)
    : vocab(vocab_), max_len(max_len_), dim(dim_) {
  check_positive(name, "vocab", vocab_);
  check_positive(name, "max_len", max_len_);
  check_positive(name, "dim", dim_);
  DIFFUSER_CHECK(vocab_ <= 2147483647, "embedding '{}': vocab {} exceeds int32", name, vocab_);
  token = store.add(name + ".token", {vocab, dim}, ParamKind::kEmbedding);
  position = store.add(name + ".position", {max_len, dim}, ParamKind::kEmbedding);
}

template <typename T>
void embedding_init(const Embedding& layer, ParameterStore<T>& store, Rng& rng, double stddev) {
  for (T& v : store.value(layer.token)) v = static_cast<T>(stddev * rng.normal());
  for (T& v : store.value(layer.position)) v = static_cast<T>(stddev * rng.normal());
}

template <typename T>
void embedding_forward(const Embedding& layer, const ParameterStore<T>& store,
                       std::span<const std::int32_t> tokens, std::int64_t batch, std::int64_t len,
                       std::span<T> y) {
  check_inputs(layer, store, tokens, batch, len, y.size(), "y");
  const std::int64_t d = layer.dim;
  const T* E = store.value(layer.token).data();
  const T* P = store.value(layer.position).data();
#pragma omp parallel for schedule(static) if (batch * len * d >= kMinParallelWork)
  for (std::int64_t i = 0; i < batch * len; ++i) {
    const T* e = E + static_cast<std::int64_t>(tokens[i]) * d;
    const T* p = P + (i % len) * d;
    T* out = y.data() + i * d;
    for (std::int64_t c = 0; c < d; ++c) out[c] = e[c] + p[c];
  }
}

template <typename T>
void embedding_backward(const Embedding& layer, ParameterStore<T>& store,
                        std::span<const std::int32_t> tokens, std::int64_t batch, std::int64_t len,
                        std::span<const T> dy) {
  check_inputs(layer, store, tokens, batch, len, dy.size(), "dy");
  const std::int64_t d = layer.dim;
  T* dE = store.grad(layer.token).data();
  T* dP = store.grad(layer.position).data();
  const std::int64_t chunks = (d + kColChunk - 1) / kColChunk;
#pragma omp parallel for schedule(static) if (batch * len * d >= kMinParallelWork)
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
    const std::int64_t c0 = chunk * kColChunk, width = std::min(kColChunk, d - c0);
    for (std::int64_t i = 0; i < batch * len; ++i) {
      T* e = dE + static_cast<std::int64_t>(tokens[i]) * d + c0;
      const T* g = dy.data() + i * d + c0;
      for (std::int64_t c = 0; c < width; ++c) e[c] += g[c];
    }
  }
#pragma omp parallel for schedule(static) if (batch * len * d >= kMinParallelWork)
  for (std::int64_t t = 0; t < len; ++t) {
    T* p = dP + t * d;
    for (std::int64_t b = 0; b < batch; ++b) {
      const T* g = dy.data() + (b * len + t) * d;
      for (std::int64_t c = 0; c < d; ++c) p[c] += g[c];
    }
  }
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                               \
  template Embedding::Embedding(ParameterStore<T>&, const std::string&, std::int64_t,            \
                                std::int64_t, std::int64_t);                                     \
  template void embedding_init<T>(const Embedding&, ParameterStore<T>&, Rng&, double);           \
  template void embedding_forward<T>(const Embedding&, const ParameterStore<T>&,                 \
                                     std::span<const std::int32_t>, std::int64_t, std::int64_t,  \
                                     std::span<T>);                                              \
  template void embedding_backward<T>(const Embedding&, ParameterStore<T>&,                      \
                                      std::span<const std::int32_t>, std::int64_t, std::int64_t, \
                                      std::span<const T>);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
