// Why: the `model.*` and `attention.*` keys of an experiment config and the task's shape
// together describe one nn::ModelConfig. Keeping that mapping in one function means `train`,
// `eval` and the tests build exactly the same model from the same config.
#pragma once

#include "analysis/HopSuggestion.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/tasks/TaskShape.hpp"
#include "nn/ModelConfig.hpp"

namespace diffuser::experiments {

/// The model a config describes for a task of shape `shape`:
///  - kind, vocab, num_classes, max_len from `shape`;
///  - model.layers/dim/heads/mlp_dim/ln_eps/dropout; model.norm pre|post; model.pool cls|mean;
///  - attention.variant diffuser|sparse|full; attention.pattern parsed by
///    graph::parse_pattern_spec (diffuser and sparse; ignored by full, which attends to every
///    valid key);
///  - diffusion (diffuser only; sparse and full use Diffusion::plain()): attention.diffusion =
///    ppr -> Diffusion::ppr(attention.alpha, attention.hops) (hops = "auto":
///    experiment_auto_hops), heat -> Diffusion::heat(
///    attention.heat_t, attention.hops), theta -> Diffusion::from_coefficients(attention.theta);
///  - attention.learn_theta (diffuser only), attention.dropout, attention.recompute ->
///    MemoryMode::kRecompute (else kStoreHops).
/// Throws diffuser::Error naming the key for inconsistent settings (attention.theta empty with
/// diffusion = theta, learn_theta without the diffuser variant, a malformed pattern) and
/// whatever nn::validate_model_config rejects.
nn::ModelConfig experiment_model_config(const ExperimentConfig& config, const TaskShape& shape);

/// attention.hops = "auto" (diffuser variant, PPR): the hops suggested for attention.pattern
/// built at the longest sequence the model sees (shape.max_len, CLS token included) with
/// attention.alpha, attention.auto_epsilon (0 = none) and attention.auto_rel_tol, max K = 64
/// (analysis::suggest_hops_for_pattern with the default solver options: deterministic, so train,
/// resume and eval agree). Throws diffuser::Error naming the key for another diffusion family
/// or variant.
analysis::HopSuggestion experiment_auto_hops(const ExperimentConfig& config,
                                             const TaskShape& shape);

/// experiment_model_config(ExperimentConfig::read(config), shape).
nn::ModelConfig experiment_model_config(const Config& config, const TaskShape& shape);

}  // namespace diffuser::experiments
