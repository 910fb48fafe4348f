// Why: config sections -> nn::ModelConfig (see ExperimentModel.hpp).
#include "experiments/training/ExperimentModel.hpp"

#include "core/Error.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/NormalizedAdjacency.hpp"

namespace diffuser::experiments {

nn::ModelConfig experiment_model_config(const ExperimentConfig& c, const TaskShape& shape) {
  const ModelSection& model = c.model;
  const AttentionSection& att = c.attention;
  nn::ModelConfig m;
  m.kind = shape.kind;
  m.vocab = shape.vocab;
  m.num_classes = shape.num_classes;
  m.max_len = shape.max_len;
  m.layers = model.layers;
  m.dim = model.dim;
  m.heads = model.heads;
  m.mlp_dim = model.mlp_dim;
  m.norm = model.norm == "post" ? nn::NormPlacement::kPost : nn::NormPlacement::kPre;
  m.ln_eps = model.ln_eps;
  m.dropout = model.dropout;
  m.pool = nn::parse_pooling(model.pool);

  m.variant = att.variant == "diffuser" ? nn::AttentionVariant::kDiffuser
              : att.variant == "sparse" ? nn::AttentionVariant::kSparse
                                        : nn::AttentionVariant::kFull;
  try {
    m.pattern = graph::parse_pattern_spec(att.pattern);
  } catch (const Error& e) {
    fail("config key 'attention.pattern' = '{}': {}", att.pattern, e.what());
  }
  if (m.variant == nn::AttentionVariant::kDiffuser) {
    const int hops =
        att.hops_auto ? experiment_auto_hops(c, shape).hops : static_cast<int>(att.hops);
    if (att.diffusion == "ppr") {
      m.diffusion = Diffusion::ppr(att.alpha, hops);
    } else if (att.diffusion == "heat") {
      m.diffusion = Diffusion::heat(att.heat_t, hops);
    } else {
      DIFFUSER_CHECK(!att.theta.empty(),
                     "config key 'attention.theta' is empty but attention.diffusion = theta");
      m.diffusion = Diffusion::from_coefficients(att.theta);
    }
  } else {
    m.diffusion = Diffusion::plain();
  }
  m.learn_theta = att.learn_theta;
  DIFFUSER_CHECK(!m.learn_theta || m.variant == nn::AttentionVariant::kDiffuser,
                 "config key 'attention.learn_theta' = true needs attention.variant = diffuser "
                 "(got {})",
                 att.variant);
  m.attention_dropout = att.dropout;
  m.memory = att.recompute ? attention::MemoryMode::kRecompute : attention::MemoryMode::kStoreHops;
  nn::validate_model_config(m);
  return m;
}

analysis::HopSuggestion experiment_auto_hops(const ExperimentConfig& c, const TaskShape& shape) {
  const AttentionSection& att = c.attention;
  DIFFUSER_CHECK(att.hops_auto, "internal: experiment_auto_hops without attention.hops = auto");
  DIFFUSER_CHECK(att.variant == "diffuser",
                 "config key 'attention.hops' = \"auto\" needs attention.variant = diffuser (got "
                 "{})",
                 att.variant);
  DIFFUSER_CHECK(att.diffusion == "ppr",
                 "config key 'attention.hops' = \"auto\" needs attention.diffusion = ppr (got {})",
                 att.diffusion);
  DIFFUSER_CHECK(shape.max_len >= 2,
                 "config key 'attention.hops' = \"auto\": sequences of {} token(s) have no "
                 "spectral gap",
                 shape.max_len);
  graph::PatternSpec spec;
  try {
    spec = graph::parse_pattern_spec(att.pattern);
  } catch (const Error& e) {
    fail("config key 'attention.pattern' = '{}': {}", att.pattern, e.what());
  }
  const graph::CsrGraph g = graph::build_pattern(static_cast<graph::Index>(shape.max_len), spec);
  const spectral::NormalizedAdjacency m(g);
  analysis::HopCriteria criteria;
  criteria.alpha = att.alpha;
  if (att.auto_epsilon > 0.0) criteria.target_epsilon = att.auto_epsilon;
  criteria.relative_tolerance = att.auto_rel_tol;
  criteria.max_hops = 64;  // the schema's limit of attention.hops
  return analysis::suggest_hops_for_pattern(g, m, criteria).suggestion;
}

nn::ModelConfig experiment_model_config(const Config& config, const TaskShape& shape) {
  return experiment_model_config(ExperimentConfig::read(config), shape);
}

}  // namespace diffuser::experiments
