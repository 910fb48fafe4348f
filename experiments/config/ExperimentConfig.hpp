// Why: the trainer, the tasks and the model mapping used to read ~70 config values by string key
// wherever they were needed, so a misspelt key surfaced only when that code path ran. Here every
// section the trainer and the model share is read once into plain typed fields (the schema in
// Config.cpp stays the one place that declares keys, defaults and bounds; a field here only
// copies the validated value). Keys that only one task uses (task.min_len, task.fortunes_by,
// ...) are read by that task (experiments/tasks/), so a new task adds no field here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/config/Config.hpp"

namespace diffuser::experiments {

/// The `task.*` keys every task uses (the others are read by the task that uses them).
struct TaskSection {
  std::string name;          ///< task.name (a name of the task registry)
  std::string data_dir;      ///< task.data_dir ("" = the task's default)
  std::int64_t max_len = 0;  ///< task.max_len (tokens before a CLS token; LM: context)
  std::int64_t train_size = 0, val_size = 0, test_size = 0;  ///< task.{train,val,test}_size
  std::int64_t seed = 0;                                     ///< task.seed

  /// task.<split>_size for split "train", "val" or "test" (diffuser::Error otherwise).
  std::int64_t size_of(const std::string& split) const;
  std::int64_t& size_of(const std::string& split);
};

/// The `model.*` keys.
struct ModelSection {
  std::int64_t layers = 0, dim = 0, heads = 0, mlp_dim = 0;
  std::string norm;  ///< pre | post
  double ln_eps = 0, dropout = 0;
  std::string pool;  ///< cls | mean
};

/// The `attention.*` keys.
struct AttentionSection {
  std::string variant;    ///< diffuser | sparse | full
  std::string pattern;    ///< pattern spec (graph::parse_pattern_spec)
  std::string diffusion;  ///< ppr | heat | theta
  double alpha = 0;
  std::int64_t hops = 0;  ///< -1 when hops_auto
  /// attention.hops = "auto": K from the spectral gap (experiment_model_config resolves it).
  bool hops_auto = false;
  double auto_epsilon = 0;  ///< attention.auto_epsilon (0 = no target)
  double auto_rel_tol = 0;  ///< attention.auto_rel_tol
  double heat_t = 0;
  std::vector<double> theta;
  bool learn_theta = false;
  double dropout = 0;
  bool recompute = false;
};

/// The `optim.*` keys.
struct OptimSection {
  double lr = 0, weight_decay = 0, beta1 = 0, beta2 = 0, eps = 0;
  std::string schedule;  ///< cosine | linear | inverse_sqrt | constant
  std::int64_t warmup_steps = 0;
  double min_lr_ratio = 0, clip_norm = 0, label_smoothing = 0;
};

/// The `train.*` keys.
struct TrainSection {
  std::int64_t steps = 0, batch_size = 0, bucket_granularity = 0;
  std::int64_t eval_every = 0, log_every = 0, checkpoint_every = 0;
  std::int64_t seed = 0, threads = 0;
  std::string on_nonfinite;  ///< stop | skip
};

/// A Config read once into typed sections.
struct ExperimentConfig {
  TaskSection task;
  ModelSection model;
  AttentionSection attention;
  OptimSection optim;
  TrainSection train;

  /// Copies the values of `config` (already validated by the schema; nothing can fail here
  /// but a reader naming a key the schema lacks, which is a bug: "internal: unknown config
  /// key").
  static ExperimentConfig read(const Config& config);
};

}  // namespace diffuser::experiments
