// Why: the encoder layer's forward and backward, written out step by step for both LayerNorm
// placements so each backward line mirrors one forward line.
#include "nn/EncoderLayer.hpp"

#include <fmt/format.h>

#include "core/Error.hpp"
#include "nn/DropoutSite.hpp"
#include "nn/Residual.hpp"
#include "nn/ShapeCheck.hpp"

namespace diffuser::nn {

namespace {

template <typename T>
std::span<const T> cspan(const std::vector<T>& v) {
  return std::span<const T>(v);
}

template <typename T>
std::span<const T> cspan(std::span<T> v) {
  return std::span<const T>(v);
}

}  // namespace

template <typename T>
EncoderLayer::EncoderLayer(ParameterStore<T>& store, const std::string& name, std::int64_t index_,
                           const ModelConfig& config)
    : index(index_),
      dim(config.dim),
      mlp_dim(config.mlp_dim),
      norm(config.norm),
      dropout(static_cast<float>(config.dropout)) {
  DIFFUSER_CHECK(index_ >= 0 && index_ < kMaxLayers, "encoder layer '{}': index {} out of range",
                 name, index_);
  attn = AttentionBlock(store, name + ".attn", config);
  ln1 = LayerNorm(store, name + ".ln1", dim, config.ln_eps);
  mlp = Mlp(store, name + ".mlp", dim, mlp_dim);
  ln2 = LayerNorm(store, name + ".ln2", dim, config.ln_eps);
}

template <typename T>
void encoder_layer_init(const EncoderLayer& layer, ParameterStore<T>& store, Rng& rng,
                        double stddev) {
  attention_block_init(layer.attn, store, rng, stddev);
  layernorm_init(layer.ln1, store);
  mlp_init(layer.mlp, store, rng, stddev);
  layernorm_init(layer.ln2, store);
}

template <typename T>
std::size_t EncoderLayerSaved<T>::bytes() const {
  std::size_t n = 0;
  for (const auto* v : {&ln1_y, &ln1_mean, &ln1_rstd, &res1, &ln2_y, &ln2_mean, &ln2_rstd, &mlp_pre,
                        &mlp_act, &res2}) {
    n += v->size();
  }
  return n * sizeof(T) + attn.bytes();
}

template <typename T>
void encoder_layer_forward(const EncoderLayer& layer, const ParameterStore<T>& store,
                           const EncoderCall& call, std::span<const T> x, std::span<T> y,
                           EncoderLayerSaved<T>& saved) {
  const std::string& name = store.tensor(layer.ln1.weight).name;
  const std::int64_t rows = call.batch * call.n, d = layer.dim, h = layer.mlp_dim;
  DIFFUSER_CHECK(call.batch >= 1 && call.n >= 1,
                 "encoder layer '{}': need batch >= 1 and n >= 1, got {} and {}", name, call.batch,
                 call.n);
  const auto shape = fmt::format("[batch={}, n={}, dim={}]", call.batch, call.n, d);
  check_size(name, "x", x.size(), rows * d, shape);
  check_size(name, "y", y.size(), rows * d, shape);
  const auto rd = static_cast<std::size_t>(rows * d), rh = static_cast<std::size_t>(rows * h),
             r = static_cast<std::size_t>(rows);
  const bool pre = layer.norm == NormPlacement::kPre;

  const float p = call.training ? layer.dropout : 0.0f;
  saved.drop_attn = Dropout{
      p, call.seed, layer_dropout_stream(call.step, layer.index, LayerSite::kAttentionOutput), 0};
  saved.drop_mlp =
      Dropout{p, call.seed, layer_dropout_stream(call.step, layer.index, LayerSite::kMlpOutput), 0};
  AttentionCall acall;
  acall.batch = call.batch;
  acall.n = call.n;
  acall.lengths = call.lengths;
  acall.plan = call.plan;
  acall.training = call.training;
  acall.seed = call.seed;
  acall.stream = layer_dropout_stream(call.step, layer.index, LayerSite::kAttentionWeights);

  saved.ln1_y.resize(rd);
  saved.ln1_mean.resize(r);
  saved.ln1_rstd.resize(r);
  saved.res1.resize(rd);
  saved.ln2_mean.resize(r);
  saved.ln2_rstd.resize(r);
  saved.mlp_pre.resize(rh);
  saved.mlp_act.resize(rh);
  if (pre) {
    saved.ln2_y.resize(rd);
    saved.res2.clear();
  } else {
    saved.ln2_y.clear();
    saved.res2.resize(rd);
  }

  if (pre) {
    // h = x + Drop_a(Attn(LN1(x))); y = h + Drop_m(MLP(LN2(h))). y holds the branch outputs.
    layernorm_forward(layer.ln1, store, x, std::span<T>(saved.ln1_y), std::span<T>(saved.ln1_mean),
                      std::span<T>(saved.ln1_rstd), rows);
    attention_block_forward(layer.attn, store, acall, cspan(saved.ln1_y), y, saved.attn);
    dropout_forward(saved.drop_attn, cspan(y), y);
    residual_forward(x, cspan(y), std::span<T>(saved.res1));
    layernorm_forward(layer.ln2, store, cspan(saved.res1), std::span<T>(saved.ln2_y),
                      std::span<T>(saved.ln2_mean), std::span<T>(saved.ln2_rstd), rows);
    mlp_forward(layer.mlp, store, cspan(saved.ln2_y), std::span<T>(saved.mlp_pre),
                std::span<T>(saved.mlp_act), y, rows);
    dropout_forward(saved.drop_mlp, cspan(y), y);
    residual_forward(cspan(saved.res1), cspan(y), y);
  } else {
    // h = LN1(x + Drop_a(Attn(x))); y = LN2(h + Drop_m(MLP(h))).
    attention_block_forward(layer.attn, store, acall, x, y, saved.attn);
    dropout_forward(saved.drop_attn, cspan(y), y);
    residual_forward(x, cspan(y), std::span<T>(saved.res1));
    layernorm_forward(layer.ln1, store, cspan(saved.res1), std::span<T>(saved.ln1_y),
                      std::span<T>(saved.ln1_mean), std::span<T>(saved.ln1_rstd), rows);
    mlp_forward(layer.mlp, store, cspan(saved.ln1_y), std::span<T>(saved.mlp_pre),
                std::span<T>(saved.mlp_act), y, rows);
    dropout_forward(saved.drop_mlp, cspan(y), y);
    residual_forward(cspan(saved.ln1_y), cspan(y), std::span<T>(saved.res2));
    layernorm_forward(layer.ln2, store, cspan(saved.res2), y, std::span<T>(saved.ln2_mean),
                      std::span<T>(saved.ln2_rstd), rows);
  }
}

template <typename T>
void encoder_layer_backward(const EncoderLayer& layer, ParameterStore<T>& store,
                            std::span<const T> x, std::span<const T> dy, std::span<T> dx,
                            const EncoderLayerSaved<T>& saved, EncoderLayerScratch<T>& scratch) {
  const std::string& name = store.tensor(layer.ln1.weight).name;
  const std::int64_t rows = saved.attn.batch * saved.attn.n, d = layer.dim;
  DIFFUSER_CHECK(rows >= 1 && saved.res1.size() == static_cast<std::size_t>(rows * d),
                 "encoder layer '{}': backward without a matching forward", name);
  const auto shape = fmt::format("[rows={}, dim={}]", rows, d);
  check_size(name, "x", x.size(), rows * d, shape);
  check_size(name, "dy", dy.size(), rows * d, shape);
  check_size(name, "dx", dx.size(), rows * d, shape);
  const auto rd = static_cast<std::size_t>(rows * d),
             rh = static_cast<std::size_t>(rows * layer.mlp_dim);

  // Three [rows, d] buffers and one [rows, mlp_dim]; the attention block has its own vector.
  scratch.layer.resize(3 * rd + rh);
  const std::span<T> all(scratch.layer);
  const std::span<T> s1 = all.subspan(0, rd), s2 = all.subspan(rd, rd),
                     s3 = all.subspan(2 * rd, rd), sh = all.subspan(3 * rd, rh);

  if (layer.norm == NormPlacement::kPre) {
    // d(res1) = dy + LN2'(MLP'(Drop_m'(dy))).
    dropout_backward(saved.drop_mlp, dy, s1);
    mlp_backward(layer.mlp, store, cspan(saved.ln2_y), cspan(saved.mlp_pre), cspan(saved.mlp_act),
                 cspan(s1), sh, s2, rows);
    layernorm_backward(layer.ln2, store, cspan(saved.res1), cspan(saved.ln2_mean),
                       cspan(saved.ln2_rstd), cspan(s2), s3, rows);
    add_into(s3, dy);  // s3 = d(res1)
    // dx = d(res1) + LN1'(Attn'(Drop_a'(d(res1)))).
    dropout_backward(saved.drop_attn, cspan(s3), s1);
    attention_block_backward(layer.attn, store, cspan(saved.ln1_y), cspan(s1), s2, saved.attn,
                             scratch.attention);
    layernorm_backward(layer.ln1, store, x, cspan(saved.ln1_mean), cspan(saved.ln1_rstd), cspan(s2),
                       dx, rows);
    add_into(dx, cspan(s3));
  } else {
    // d(res2) = LN2'(dy); dh = d(res2) + MLP'(Drop_m'(d(res2))).
    layernorm_backward(layer.ln2, store, cspan(saved.res2), cspan(saved.ln2_mean),
                       cspan(saved.ln2_rstd), dy, s1, rows);
    dropout_backward(saved.drop_mlp, cspan(s1), s2);
    mlp_backward(layer.mlp, store, cspan(saved.ln1_y), cspan(saved.mlp_pre), cspan(saved.mlp_act),
                 cspan(s2), sh, s3, rows);
    add_into(s1, cspan(s3));  // s1 = dh
    // d(res1) = LN1'(dh); dx = d(res1) + Attn'(Drop_a'(d(res1))).
    layernorm_backward(layer.ln1, store, cspan(saved.res1), cspan(saved.ln1_mean),
                       cspan(saved.ln1_rstd), cspan(s1), s2, rows);
    dropout_backward(saved.drop_attn, cspan(s2), s3);
    attention_block_backward(layer.attn, store, x, cspan(s3), dx, saved.attn, scratch.attention);
    add_into(dx, cspan(s2));
  }
}

#define DIFFUSER_NN_INSTANTIATE(T)                                                              \
  template EncoderLayer::EncoderLayer(ParameterStore<T>&, const std::string&, std::int64_t,     \
                                      const ModelConfig&);                                      \
  template void encoder_layer_init<T>(const EncoderLayer&, ParameterStore<T>&, Rng&, double);   \
  template struct EncoderLayerSaved<T>;                                                         \
  template void encoder_layer_forward<T>(const EncoderLayer&, const ParameterStore<T>&,         \
                                         const EncoderCall&, std::span<const T>, std::span<T>,  \
                                         EncoderLayerSaved<T>&);                                \
  template void encoder_layer_backward<T>(const EncoderLayer&, ParameterStore<T>&,              \
                                          std::span<const T>, std::span<const T>, std::span<T>, \
                                          const EncoderLayerSaved<T>&, EncoderLayerScratch<T>&);
DIFFUSER_NN_INSTANTIATE(float)
DIFFUSER_NN_INSTANTIATE(double)
#undef DIFFUSER_NN_INSTANTIATE

}  // namespace diffuser::nn
