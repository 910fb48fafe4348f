// Why: config keys -> nn::ModelConfig (see ExperimentModel.hpp).
#include "experiments/ExperimentModel.hpp"

#include "core/Error.hpp"
#include "graph/PatternSpec.hpp"

namespace diffuser::experiments {

nn::ModelConfig experiment_model_config(const Config& c, const TaskShape& shape) {
  nn::ModelConfig m;
  m.kind = shape.kind;
  m.vocab = shape.vocab;
  m.num_classes = shape.num_classes;
  m.max_len = shape.max_len;
  m.layers = c.get_int("model.layers");
  m.dim = c.get_int("model.dim");
  m.heads = c.get_int("model.heads");
  m.mlp_dim = c.get_int("model.mlp_dim");
  m.norm =
      c.get_string("model.norm") == "post" ? nn::NormPlacement::kPost : nn::NormPlacement::kPre;
  m.ln_eps = c.get_float("model.ln_eps");
  m.dropout = c.get_float("model.dropout");
  m.pool = nn::parse_pooling(c.get_string("model.pool"));

  const std::string& variant = c.get_string("attention.variant");
  m.variant = variant == "diffuser" ? nn::AttentionVariant::kDiffuser
              : variant == "sparse" ? nn::AttentionVariant::kSparse
                                    : nn::AttentionVariant::kFull;
  try {
    m.pattern = graph::parse_pattern_spec(c.get_string("attention.pattern"));
  } catch (const Error& e) {
    fail("config key 'attention.pattern' = '{}': {}", c.get_string("attention.pattern"), e.what());
  }
  if (m.variant == nn::AttentionVariant::kDiffuser) {
    const std::string& family = c.get_string("attention.diffusion");
    const int hops = static_cast<int>(c.get_int("attention.hops"));
    if (family == "ppr") {
      m.diffusion = attention::Diffusion::ppr(c.get_float("attention.alpha"), hops);
    } else if (family == "heat") {
      m.diffusion = attention::Diffusion::heat(c.get_float("attention.heat_t"), hops);
    } else {
      const auto theta = c.get_float_list("attention.theta");
      DIFFUSER_CHECK(!theta.empty(),
                     "config key 'attention.theta' is empty but attention.diffusion = theta");
      m.diffusion = attention::Diffusion::from_coefficients(theta);
    }
  } else {
    m.diffusion = attention::Diffusion::plain();
  }
  m.learn_theta = c.get_bool("attention.learn_theta");
  DIFFUSER_CHECK(!m.learn_theta || m.variant == nn::AttentionVariant::kDiffuser,
                 "config key 'attention.learn_theta' = true needs attention.variant = diffuser "
                 "(got {})",
                 variant);
  m.attention_dropout = c.get_float("attention.dropout");
  m.memory = c.get_bool("attention.recompute") ? attention::MemoryMode::kRecompute
                                               : attention::MemoryMode::kStoreHops;
  nn::validate_model_config(m);
  return m;
}

}  // namespace diffuser::experiments
