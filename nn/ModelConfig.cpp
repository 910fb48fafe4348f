// Why: a model config comes from user-edited JSON; every inconsistency is caught here, once,
// with the field named, before any buffer is sized from it.
#include "nn/ModelConfig.hpp"

#include <cmath>
#include <limits>

#include "core/Error.hpp"
#include "nn/DropoutSite.hpp"

namespace diffuser::nn {

const char* to_string(ModelKind kind) {
  switch (kind) {
    case ModelKind::kClassifier:
      return "classifier";
    case ModelKind::kDualEncoder:
      return "dual_encoder";
    case ModelKind::kCausalLm:
      return "causal_lm";
  }
  return "?";
}

const char* to_string(AttentionVariant variant) {
  switch (variant) {
    case AttentionVariant::kDiffuser:
      return "diffuser";
    case AttentionVariant::kSparse:
      return "sparse";
    case AttentionVariant::kFull:
      return "full";
  }
  return "?";
}

const char* to_string(NormPlacement norm) { return norm == NormPlacement::kPre ? "pre" : "post"; }

ModelKind parse_model_kind(const std::string& name) {
  for (const ModelKind k :
       {ModelKind::kClassifier, ModelKind::kDualEncoder, ModelKind::kCausalLm}) {
    if (name == to_string(k)) return k;
  }
  fail("unknown model kind '{}' (expected classifier, dual_encoder or causal_lm)", name);
}

AttentionVariant parse_attention_variant(const std::string& name) {
  for (const AttentionVariant v :
       {AttentionVariant::kDiffuser, AttentionVariant::kSparse, AttentionVariant::kFull}) {
    if (name == to_string(v)) return v;
  }
  fail("unknown attention variant '{}' (expected diffuser, sparse or full)", name);
}

NormPlacement parse_norm_placement(const std::string& name) {
  if (name == "pre") return NormPlacement::kPre;
  if (name == "post") return NormPlacement::kPost;
  fail("unknown norm placement '{}' (expected pre or post)", name);
}

void validate_model_config(const ModelConfig& c) {
  constexpr std::int64_t kIndexMax = std::numeric_limits<std::int32_t>::max();
  DIFFUSER_CHECK(c.vocab >= 1 && c.vocab <= kIndexMax,
                 "model config: vocab must be in [1, 2^31-1], got {}", c.vocab);
  if (c.kind == ModelKind::kCausalLm) {
    DIFFUSER_CHECK(c.num_classes == 0 || c.num_classes == c.vocab,
                   "model config: num_classes of a causal LM must be 0 or vocab ({}), got {}",
                   c.vocab, c.num_classes);
  } else {
    DIFFUSER_CHECK(c.num_classes >= 1 && c.num_classes <= kIndexMax,
                   "model config: num_classes must be in [1, 2^31-1], got {}", c.num_classes);
  }
  DIFFUSER_CHECK(c.max_len >= 1 && c.max_len <= kIndexMax,
                 "model config: max_len must be in [1, 2^31-1], got {}", c.max_len);
  DIFFUSER_CHECK(c.layers >= 1 && c.layers <= kMaxLayers,
                 "model config: layers must be in [1, {}], got {}", kMaxLayers, c.layers);
  DIFFUSER_CHECK(c.dim >= 1, "model config: dim must be >= 1, got {}", c.dim);
  DIFFUSER_CHECK(c.heads >= 1 && c.heads <= c.dim,
                 "model config: heads must be in [1, dim = {}], got {}", c.dim, c.heads);
  DIFFUSER_CHECK(c.dim % c.heads == 0, "model config: dim ({}) must be a multiple of heads ({})",
                 c.dim, c.heads);
  DIFFUSER_CHECK(c.mlp_dim >= 1, "model config: mlp_dim must be >= 1, got {}", c.mlp_dim);
  DIFFUSER_CHECK(c.head_hidden >= 0, "model config: head_hidden must be >= 0, got {}",
                 c.head_hidden);
  DIFFUSER_CHECK(std::isfinite(c.ln_eps) && c.ln_eps > 0,
                 "model config: ln_eps must be finite and > 0, got {}", c.ln_eps);
  DIFFUSER_CHECK(std::isfinite(c.dropout) && c.dropout >= 0 && c.dropout < 1,
                 "model config: dropout must be in [0, 1), got {}", c.dropout);
  DIFFUSER_CHECK(
      std::isfinite(c.attention_dropout) && c.attention_dropout >= 0 && c.attention_dropout < 1,
      "model config: attention_dropout must be in [0, 1), got {}", c.attention_dropout);
  DIFFUSER_CHECK(!c.learn_theta || c.variant == AttentionVariant::kDiffuser,
                 "model config: learn_theta needs attention variant 'diffuser' (got '{}': its "
                 "attention is plain Z = A V)",
                 to_string(c.variant));
  if (c.variant != AttentionVariant::kFull) {
    try {
      graph::validate_spec(c.pattern);
    } catch (const Error& e) {
      fail("model config: pattern: {}", e.what());
    }
  }
}

}  // namespace diffuser::nn
