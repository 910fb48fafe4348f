// Why: the whole model, composed from the layers' explicit forward/backward functions: embedding
// (+ LayerNorm in post-LN) and dropout, the encoder stack, then the head of the model kind and
// the cross-entropy loss. It owns every buffer, so a training step allocates nothing once the
// shapes have been seen.
#include "nn/Model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "nn/AttentionPlanCache.hpp"
#include "nn/ClassificationHead.hpp"
#include "nn/CrossEntropy.hpp"
#include "nn/Dropout.hpp"
#include "nn/DropoutSite.hpp"
#include "nn/Embedding.hpp"
#include "nn/Encoder.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/Pooling.hpp"

namespace diffuser::nn {

namespace {

// Patterns are needed by the sparse variants, and by the full variant of the causal LM (the
// causal full pattern restricts the dense attention to keys j <= i).
bool needs_plan(const ModelConfig& c) {
  return c.variant != AttentionVariant::kFull || c.kind == ModelKind::kCausalLm;
}

AttentionPlanCache make_cache(const ModelConfig& c) {
  if (!needs_plan(c)) return AttentionPlanCache();
  graph::PatternSpec spec = c.pattern;
  if (c.variant == AttentionVariant::kFull) {
    spec = graph::PatternSpec{};
    spec.full = true;
  }
  return AttentionPlanCache(spec, c.kind == ModelKind::kCausalLm);
}

std::int64_t head_inputs(const ModelConfig& c) {
  return c.kind == ModelKind::kDualEncoder ? 4 * c.dim : c.dim;
}

std::int64_t num_outputs(const ModelConfig& c) {
  return c.kind == ModelKind::kCausalLm ? c.vocab : c.num_classes;
}

void check_sequences(const char* tokens_name, const char* lengths_name,
                     const std::vector<std::int32_t>& tokens,
                     const std::vector<std::int32_t>& lengths, std::int64_t batch, std::int64_t len,
                     std::int64_t vocab) {
  DIFFUSER_CHECK(tokens.size() == static_cast<std::size_t>(batch * len),
                 "batch.{} has {} ids, expected [batch, len] = [{}, {}] = {}", tokens_name,
                 tokens.size(), batch, len, batch * len);
  DIFFUSER_CHECK(lengths.size() == static_cast<std::size_t>(batch),
                 "batch.{} has {} entries, expected batch = {}", lengths_name, lengths.size(),
                 batch);
  for (std::int64_t b = 0; b < batch; ++b) {
    DIFFUSER_CHECK(lengths[b] >= 1 && lengths[b] <= len,
                   "batch.{}[{}] = {} is outside [1, len = {}]", lengths_name, b, lengths[b], len);
    for (std::int64_t t = 0; t < len; ++t) {
      const std::int32_t id = tokens[b * len + t];
      DIFFUSER_CHECK(id >= 0 && id < vocab, "batch.{}[{}, {}] = {} is outside [0, vocab = {})",
                     tokens_name, b, t, id, vocab);
    }
  }
}

void check_batch(const ModelConfig& c, const Batch& batch, double label_smoothing) {
  DIFFUSER_CHECK(batch.batch >= 1, "batch.batch must be >= 1, got {}", batch.batch);
  DIFFUSER_CHECK(batch.len >= 1 && batch.len <= c.max_len,
                 "batch.len = {} is outside [1, max_len = {}]", batch.len, c.max_len);
  DIFFUSER_CHECK(std::isfinite(label_smoothing) && label_smoothing >= 0 && label_smoothing < 1,
                 "label_smoothing must be in [0, 1), got {}", label_smoothing);
  const std::int64_t B = batch.batch, L = batch.len;
  check_sequences("tokens", "lengths", batch.tokens, batch.lengths, B, L, c.vocab);
  if (c.kind == ModelKind::kDualEncoder) {
    check_sequences("tokens2", "lengths2", batch.tokens2, batch.lengths2, B, L, c.vocab);
  } else {
    DIFFUSER_CHECK(batch.tokens2.empty() && batch.lengths2.empty(),
                   "batch.tokens2 / lengths2 are given but the model ({}) takes one sequence",
                   to_string(c.kind));
  }
  if (c.kind == ModelKind::kCausalLm) {
    DIFFUSER_CHECK(batch.labels.size() == static_cast<std::size_t>(B * L),
                   "batch.labels has {} entries, expected [batch, len] = [{}, {}] = {} (causal LM)",
                   batch.labels.size(), B, L, B * L);
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t t = 0; t < L; ++t) {
        const std::int32_t y = batch.labels[b * L + t];
        DIFFUSER_CHECK(y == kIgnoreLabel || (y >= 0 && y < c.vocab),
                       "batch.labels[{}, {}] = {} is outside [0, vocab = {}) and not -1", b, t, y,
                       c.vocab);
        DIFFUSER_CHECK(t < batch.lengths[b] || y == kIgnoreLabel,
                       "batch.labels[{}, {}] = {} lies in the padding (length {}); must be -1", b,
                       t, y, batch.lengths[b]);
      }
    }
  } else {
    DIFFUSER_CHECK(batch.labels.size() == static_cast<std::size_t>(B),
                   "batch.labels has {} entries, expected batch = {}", batch.labels.size(), B);
    for (std::int64_t b = 0; b < B; ++b) {
      const std::int32_t y = batch.labels[b];
      DIFFUSER_CHECK(y == kIgnoreLabel || (y >= 0 && y < c.num_classes),
                     "batch.labels[{}] = {} is outside [0, num_classes = {}) and not -1", b, y,
                     c.num_classes);
    }
  }
}

}  // namespace

template <typename T>
struct Model<T>::Impl {
  ModelConfig config;
  ParameterStore<T> store;
  Embedding embed;
  LayerNorm embed_ln;  // post-LN only
  Encoder encoder;
  ClassificationHead head;
  AttentionPlanCache plans;

  // State of the last forward().
  bool has_forward = false;
  bool backward_done = false;
  std::int64_t batch = 0;  // examples
  std::int64_t seqs = 0;   // sequences through the encoder (2·batch for the dual encoder)
  std::int64_t len = 0;
  std::vector<std::int32_t> tokens;   // [seqs, len]
  std::vector<graph::Index> lengths;  // [seqs]
  std::vector<std::int32_t> labels;
  Dropout drop_embed;
  std::vector<T> emb, emb_mean, emb_rstd, emb_ln, x0, hidden, pooled, features, head_act;
  std::vector<T> logits, dlogits;
  EncoderSaved<T> enc_saved;

  // Backward temporaries.
  EncoderScratch<T> enc_scratch;
  std::vector<T> dhidden, dx0, dpooled, dfeatures, head_scratch, demb;

  Impl(const ModelConfig& c, typename ParameterStore<T>::Storage storage)
      : config(c), store(storage), plans(make_cache(c)) {
    if (config.kind == ModelKind::kCausalLm) config.num_classes = config.vocab;
    embed = Embedding(store, "embed", config.vocab, config.max_len, config.dim);
    if (config.norm == NormPlacement::kPost) {
      embed_ln = LayerNorm(store, "embed.ln", config.dim, config.ln_eps);
    }
    encoder = Encoder(store, config);
    const std::int64_t hidden_width = config.kind == ModelKind::kCausalLm ? 0 : config.head_hidden;
    head =
        ClassificationHead(store, "head", head_inputs(config), num_outputs(config), hidden_width);
  }

  std::int64_t rows() const { return seqs * len; }
  std::int64_t head_rows() const { return config.kind == ModelKind::kCausalLm ? rows() : batch; }
};

template <typename T>
Model<T>::Model(const ModelConfig& config) {
  validate_model_config(config);
  impl_ = std::make_unique<Impl>(config, ParameterStore<T>::Storage::kAllocate);
}

template <typename T>
std::size_t Model<T>::parameter_count(const ModelConfig& config) {
  validate_model_config(config);
  return Impl(config, ParameterStore<T>::Storage::kLayoutOnly).store.size();
}

template <typename T>
Model<T>::~Model() = default;
template <typename T>
Model<T>::Model(Model&&) noexcept = default;
template <typename T>
Model<T>& Model<T>::operator=(Model&&) noexcept = default;

template <typename T>
void Model<T>::init(std::uint64_t seed) {
  Impl& m = *impl_;
  Rng rng(seed);
  embedding_init(m.embed, m.store, rng);
  if (m.config.norm == NormPlacement::kPost) layernorm_init(m.embed_ln, m.store);
  encoder_init(m.encoder, m.store, rng);
  classification_head_init(m.head, m.store, rng);
}

template <typename T>
const ModelConfig& Model<T>::config() const {
  return impl_->config;
}

template <typename T>
ParameterStore<T>& Model<T>::params() {
  return impl_->store;
}

template <typename T>
const ParameterStore<T>& Model<T>::params() const {
  return impl_->store;
}

template <typename T>
StepResult Model<T>::forward(const Batch& batch, bool training, std::uint64_t seed,
                             std::uint64_t step, double label_smoothing) {
  Impl& m = *impl_;
  const ModelConfig& c = m.config;
  m.has_forward = false;
  check_batch(c, batch, label_smoothing);

  const bool dual = c.kind == ModelKind::kDualEncoder;
  m.batch = batch.batch;
  m.seqs = dual ? 2 * batch.batch : batch.batch;
  m.len = batch.len;
  m.tokens = batch.tokens;
  m.lengths.assign(batch.lengths.begin(), batch.lengths.end());
  if (dual) {
    m.tokens.insert(m.tokens.end(), batch.tokens2.begin(), batch.tokens2.end());
    m.lengths.insert(m.lengths.end(), batch.lengths2.begin(), batch.lengths2.end());
  }
  m.labels = batch.labels;

  const std::int64_t rows = m.rows(), d = c.dim;
  const auto rd = static_cast<std::size_t>(rows * d);
  m.emb.resize(rd);
  m.x0.resize(rd);
  m.hidden.resize(rd);

  // Embedding (+ LayerNorm for post-LN), then dropout.
  embedding_forward(m.embed, m.store, std::span<const std::int32_t>(m.tokens), m.seqs, m.len,
                    std::span<T>(m.emb));
  m.drop_embed = Dropout{training ? static_cast<float>(c.dropout) : 0.0f, seed,
                         dropout_stream(step, kEmbeddingSite), 0};
  if (c.norm == NormPlacement::kPost) {
    m.emb_ln.resize(rd);
    m.emb_mean.resize(static_cast<std::size_t>(rows));
    m.emb_rstd.resize(static_cast<std::size_t>(rows));
    layernorm_forward(m.embed_ln, m.store, std::span<const T>(m.emb), std::span<T>(m.emb_ln),
                      std::span<T>(m.emb_mean), std::span<T>(m.emb_rstd), rows);
    dropout_forward(m.drop_embed, std::span<const T>(m.emb_ln), std::span<T>(m.x0));
  } else {
    dropout_forward(m.drop_embed, std::span<const T>(m.emb), std::span<T>(m.x0));
  }

  // Encoder.
  EncoderCall call;
  call.batch = m.seqs;
  call.n = static_cast<graph::Index>(m.len);
  call.lengths = m.lengths;
  call.plan = needs_plan(c) ? &m.plans.get(call.n) : nullptr;
  call.training = training;
  call.seed = seed;
  call.step = step;
  encoder_forward(m.encoder, m.store, call, std::span<const T>(m.x0), std::span<T>(m.hidden),
                  m.enc_saved);

  // Head.
  const std::int64_t classes = m.head.classes, hrows = m.head_rows();
  m.logits.resize(static_cast<std::size_t>(hrows * classes));
  m.head_act.resize(static_cast<std::size_t>(hrows * m.head.hidden));
  if (c.kind == ModelKind::kCausalLm) {
    classification_head_forward(m.head, m.store, std::span<const T>(m.hidden),
                                std::span<T>(m.head_act), std::span<T>(m.logits), hrows);
  } else {
    m.pooled.resize(static_cast<std::size_t>(m.seqs * d));
    pooling_forward(c.pool, std::span<const T>(m.hidden), std::span<const std::int32_t>(m.lengths),
                    m.seqs, m.len, d, std::span<T>(m.pooled));
    std::span<const T> head_in(m.pooled);
    if (dual) {
      // features[b] = [u, v, u * v, u - v] with u = pooled[b], v = pooled[B + b].
      const std::int64_t B = m.batch;
      m.features.resize(static_cast<std::size_t>(B * 4 * d));
      for (std::int64_t b = 0; b < B; ++b) {
        const T* u = m.pooled.data() + b * d;
        const T* v = m.pooled.data() + (B + b) * d;
        T* f = m.features.data() + b * 4 * d;
        for (std::int64_t j = 0; j < d; ++j) {
          f[j] = u[j];
          f[d + j] = v[j];
          f[2 * d + j] = u[j] * v[j];
          f[3 * d + j] = u[j] - v[j];
        }
      }
      head_in = std::span<const T>(m.features);
    }
    classification_head_forward(m.head, m.store, head_in, std::span<T>(m.head_act),
                                std::span<T>(m.logits), hrows);
  }

  // Loss; its gradient is kept for backward().
  m.dlogits.resize(m.logits.size());
  const CrossEntropyResult ce = cross_entropy_forward_backward(
      std::span<const T>(m.logits), std::span<const std::int32_t>(m.labels), hrows, classes,
      label_smoothing, std::span<T>(m.dlogits));
  m.has_forward = true;
  m.backward_done = false;
  return StepResult{ce.loss, ce.correct, ce.count};
}

template <typename T>
void Model<T>::backward() {
  Impl& m = *impl_;
  const ModelConfig& c = m.config;
  DIFFUSER_CHECK(m.has_forward, "model backward: no forward pass to differentiate");
  DIFFUSER_CHECK(!m.backward_done,
                 "model backward: already called for this forward pass (gradients would be "
                 "accumulated twice)");
  const std::int64_t rows = m.rows(), d = c.dim, hrows = m.head_rows();
  const auto rd = static_cast<std::size_t>(rows * d);
  m.dhidden.resize(rd);
  m.dx0.resize(rd);
  m.head_scratch.resize(static_cast<std::size_t>(hrows * m.head.hidden));

  // Head and pooling.
  if (c.kind == ModelKind::kCausalLm) {
    classification_head_backward(m.head, m.store, std::span<const T>(m.hidden),
                                 std::span<const T>(m.head_act), std::span<const T>(m.dlogits),
                                 std::span<T>(m.head_scratch), std::span<T>(m.dhidden), hrows);
  } else {
    m.dpooled.resize(static_cast<std::size_t>(m.seqs * d));
    if (c.kind == ModelKind::kDualEncoder) {
      const std::int64_t B = m.batch;
      m.dfeatures.resize(m.features.size());
      classification_head_backward(m.head, m.store, std::span<const T>(m.features),
                                   std::span<const T>(m.head_act), std::span<const T>(m.dlogits),
                                   std::span<T>(m.head_scratch), std::span<T>(m.dfeatures), hrows);
      // du = df_u + df_uv * v + df_diff;  dv = df_v + df_uv * u - df_diff.
      for (std::int64_t b = 0; b < B; ++b) {
        const T* u = m.pooled.data() + b * d;
        const T* v = m.pooled.data() + (B + b) * d;
        const T* f = m.dfeatures.data() + b * 4 * d;
        T* du = m.dpooled.data() + b * d;
        T* dv = m.dpooled.data() + (B + b) * d;
        for (std::int64_t j = 0; j < d; ++j) {
          du[j] = f[j] + f[2 * d + j] * v[j] + f[3 * d + j];
          dv[j] = f[d + j] + f[2 * d + j] * u[j] - f[3 * d + j];
        }
      }
    } else {
      classification_head_backward(m.head, m.store, std::span<const T>(m.pooled),
                                   std::span<const T>(m.head_act), std::span<const T>(m.dlogits),
                                   std::span<T>(m.head_scratch), std::span<T>(m.dpooled), hrows);
    }
    pooling_backward(c.pool, std::span<const T>(m.dpooled),
                     std::span<const std::int32_t>(m.lengths), m.seqs, m.len, d,
                     std::span<T>(m.dhidden));
  }

  // Encoder, embedding dropout (+ LayerNorm), embedding.
  encoder_backward(m.encoder, m.store, std::span<const T>(m.dhidden), std::span<T>(m.dx0),
                   m.enc_saved, m.enc_scratch);
  dropout_backward(m.drop_embed, std::span<const T>(m.dx0), std::span<T>(m.dx0));
  std::span<const T> demb(m.dx0);
  if (c.norm == NormPlacement::kPost) {
    m.demb.resize(rd);
    layernorm_backward(m.embed_ln, m.store, std::span<const T>(m.emb),
                       std::span<const T>(m.emb_mean), std::span<const T>(m.emb_rstd), demb,
                       std::span<T>(m.demb), rows);
    demb = std::span<const T>(m.demb);
  }
  embedding_backward(m.embed, m.store, std::span<const std::int32_t>(m.tokens), m.seqs, m.len,
                     demb);
  m.backward_done = true;
}

template <typename T>
std::span<const T> Model<T>::logits() const {
  return std::span<const T>(impl_->logits);
}

template <typename T>
std::size_t Model<T>::activation_bytes() const {
  const Impl& m = *impl_;
  std::size_t n = 0;
  for (const auto* v : {&m.emb,
                        &m.emb_mean,
                        &m.emb_rstd,
                        &m.emb_ln,
                        &m.x0,
                        &m.hidden,
                        &m.pooled,
                        &m.features,
                        &m.head_act,
                        &m.logits,
                        &m.dlogits,
                        &m.enc_scratch.grad_a,
                        &m.enc_scratch.grad_b,
                        &m.enc_scratch.layer.layer,
                        &m.enc_scratch.layer.attention,
                        &m.dhidden,
                        &m.dx0,
                        &m.dpooled,
                        &m.dfeatures,
                        &m.head_scratch,
                        &m.demb}) {
    n += v->size();
  }
  return n * sizeof(T) + m.enc_saved.bytes();
}

template <typename T>
std::size_t Model<T>::plan_bytes() const {
  return impl_->plans.bytes();
}

template class Model<float>;
template class Model<double>;

}  // namespace diffuser::nn
