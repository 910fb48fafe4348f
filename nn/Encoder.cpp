// Why: the encoder stack's forward (layer after layer into one activation buffer) and backward
// (layers in reverse, ping-ponging between two gradient buffers).
#include "nn/Encoder.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/Error.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

template <typename T>
Encoder::Encoder(ParameterStore<T>& store, const ModelConfig& config)
    : norm(config.norm), dim(config.dim) {
  check_positive("encoder", "layers", config.layers);
  layers.reserve(static_cast<std::size_t>(config.layers));
  for (std::int64_t l = 0; l < config.layers; ++l) {
    layers.emplace_back(store, fmt::format("layers.{}", l), l, config);
  }
  if (norm == NormPlacement::kPre) final_ln = LayerNorm(store, "final_ln", dim, config.ln_eps);
}

template <typename T>
void encoder_init(const Encoder& encoder, ParameterStore<T>& store, Rng& rng, double stddev) {
  for (const EncoderLayer& layer : encoder.layers) encoder_layer_init(layer, store, rng, stddev);
  if (encoder.norm == NormPlacement::kPre) layernorm_init(encoder.final_ln, store);
}

template <typename T>
std::size_t EncoderSaved<T>::bytes() const {
  std::size_t total = (acts.size() + final_mean.size() + final_rstd.size()) * sizeof(T);
  for (const auto& s : layers) total += s.bytes();
  return total;
}

template <typename T>
void encoder_forward(const Encoder& encoder, const ParameterStore<T>& store,
                     const EncoderCall& call, std::span<const T> x, std::span<T> y,
                     EncoderSaved<T>& saved) {
  const std::int64_t rows = call.batch * call.n, d = encoder.dim;
  const auto L = static_cast<std::int64_t>(encoder.layers.size());
  const auto shape = fmt::format("[rows={}, dim={}]", rows, d);
  check_size("encoder", "x", x.size(), rows * d, shape);
  check_size("encoder", "y", y.size(), rows * d, shape);
  const auto rd = static_cast<std::size_t>(rows * d);
  saved.rows = rows;
  saved.acts.resize((L + 1) * rd);
  saved.layers.resize(static_cast<std::size_t>(L));
  std::copy(x.begin(), x.end(), saved.acts.begin());
  const std::span<T> acts(saved.acts);
  for (std::int64_t l = 0; l < L; ++l) {
    encoder_layer_forward(encoder.layers[l], store, call,
                          std::span<const T>(acts.subspan(l * rd, rd)),
                          acts.subspan((l + 1) * rd, rd), saved.layers[l]);
  }
  const std::span<const T> last = acts.subspan(L * rd, rd);
  if (encoder.norm == NormPlacement::kPre) {
    saved.final_mean.resize(static_cast<std::size_t>(rows));
    saved.final_rstd.resize(static_cast<std::size_t>(rows));
    layernorm_forward(encoder.final_ln, store, last, y, std::span<T>(saved.final_mean),
                      std::span<T>(saved.final_rstd), rows);
  } else {
    saved.final_mean.clear();
    saved.final_rstd.clear();
    std::copy(last.begin(), last.end(), y.begin());
  }
}

template <typename T>
void encoder_backward(const Encoder& encoder, ParameterStore<T>& store, std::span<const T> dy,
                      std::span<T> dx, const EncoderSaved<T>& saved, EncoderScratch<T>& scratch) {
  const std::int64_t rows = saved.rows, d = encoder.dim;
  const auto L = static_cast<std::int64_t>(encoder.layers.size());
  const auto rd = static_cast<std::size_t>(rows * d);
  DIFFUSER_CHECK(rows >= 1 && saved.acts.size() == (L + 1) * rd,
                 "encoder: backward without a matching forward");
  const auto shape = fmt::format("[rows={}, dim={}]", rows, d);
  check_size("encoder", "dy", dy.size(), rows * d, shape);
  check_size("encoder", "dx", dx.size(), rows * d, shape);
  scratch.grad_a.resize(rd);
  scratch.grad_b.resize(rd);
  const std::span<const T> acts(saved.acts);

  std::span<const T> cur = dy;
  if (encoder.norm == NormPlacement::kPre) {
    const std::span<T> out = L > 0 ? std::span<T>(scratch.grad_a) : dx;
    layernorm_backward(encoder.final_ln, store, acts.subspan(L * rd, rd),
                       std::span<const T>(saved.final_mean), std::span<const T>(saved.final_rstd),
                       dy, out, rows);
    cur = out;
  }
  for (std::int64_t l = L - 1; l >= 0; --l) {
    std::span<T> out = dx;
    if (l > 0) {
      out = cur.data() == scratch.grad_a.data() ? std::span<T>(scratch.grad_b)
                                                : std::span<T>(scratch.grad_a);
    }
    encoder_layer_backward(encoder.layers[l], store, acts.subspan(l * rd, rd), cur, out,
                           saved.layers[l], scratch.layer);
    cur = out;
  }
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                               \
  template Encoder::Encoder(ParameterStore<T>&, const ModelConfig&);                             \
  template void encoder_init<T>(const Encoder&, ParameterStore<T>&, Rng&, double);               \
  template struct EncoderSaved<T>;                                                               \
  template void encoder_forward<T>(const Encoder&, const ParameterStore<T>&, const EncoderCall&, \
                                   std::span<const T>, std::span<T>, EncoderSaved<T>&);          \
  template void encoder_backward<T>(const Encoder&, ParameterStore<T>&, std::span<const T>,      \
                                    std::span<T>, const EncoderSaved<T>&, EncoderScratch<T>&);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
