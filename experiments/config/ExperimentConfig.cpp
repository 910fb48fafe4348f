// Why: the one place the shared sections are read by key (see ExperimentConfig.hpp).
#include "experiments/config/ExperimentConfig.hpp"

#include "core/Error.hpp"

namespace diffuser::experiments {

std::int64_t TaskSection::size_of(const std::string& split) const {
  return const_cast<TaskSection*>(this)->size_of(split);
}

std::int64_t& TaskSection::size_of(const std::string& split) {
  if (split == "train") return train_size;
  if (split == "val") return val_size;
  if (split == "test") return test_size;
  fail("unknown split '{}' (expected train, val or test)", split);
}

ExperimentConfig ExperimentConfig::read(const Config& c) {
  ExperimentConfig e;
  auto& t = e.task;
  t.name = c.get_string("task.name");
  t.data_dir = c.get_string("task.data_dir");
  t.max_len = c.get_int("task.max_len");
  t.train_size = c.get_int("task.train_size");
  t.val_size = c.get_int("task.val_size");
  t.test_size = c.get_int("task.test_size");
  t.seed = c.get_int("task.seed");

  auto& m = e.model;
  m.layers = c.get_int("model.layers");
  m.dim = c.get_int("model.dim");
  m.heads = c.get_int("model.heads");
  m.mlp_dim = c.get_int("model.mlp_dim");
  m.norm = c.get_string("model.norm");
  m.ln_eps = c.get_float("model.ln_eps");
  m.dropout = c.get_float("model.dropout");
  m.pool = c.get_string("model.pool");

  auto& a = e.attention;
  a.variant = c.get_string("attention.variant");
  a.pattern = c.get_string("attention.pattern");
  a.diffusion = c.get_string("attention.diffusion");
  a.alpha = c.get_float("attention.alpha");
  a.hops_auto = c.get_word("attention.hops") == "auto";
  a.hops = a.hops_auto ? -1 : c.get_int("attention.hops");
  a.auto_epsilon = c.get_float("attention.auto_epsilon");
  a.auto_rel_tol = c.get_float("attention.auto_rel_tol");
  a.heat_t = c.get_float("attention.heat_t");
  a.theta = c.get_float_list("attention.theta");
  a.learn_theta = c.get_bool("attention.learn_theta");
  a.dropout = c.get_float("attention.dropout");
  a.recompute = c.get_bool("attention.recompute");

  auto& o = e.optim;
  o.lr = c.get_float("optim.lr");
  o.weight_decay = c.get_float("optim.weight_decay");
  o.beta1 = c.get_float("optim.beta1");
  o.beta2 = c.get_float("optim.beta2");
  o.eps = c.get_float("optim.eps");
  o.schedule = c.get_string("optim.schedule");
  o.warmup_steps = c.get_int("optim.warmup_steps");
  o.min_lr_ratio = c.get_float("optim.min_lr_ratio");
  o.clip_norm = c.get_float("optim.clip_norm");
  o.label_smoothing = c.get_float("optim.label_smoothing");

  auto& r = e.train;
  r.steps = c.get_int("train.steps");
  r.batch_size = c.get_int("train.batch_size");
  r.bucket_granularity = c.get_int("train.bucket_granularity");
  r.eval_every = c.get_int("train.eval_every");
  r.log_every = c.get_int("train.log_every");
  r.checkpoint_every = c.get_int("train.checkpoint_every");
  r.seed = c.get_int("train.seed");
  r.threads = c.get_int("train.threads");
  r.on_nonfinite = c.get_string("train.on_nonfinite");
  return e;
}

}  // namespace diffuser::experiments
