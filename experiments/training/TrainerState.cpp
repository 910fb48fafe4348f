// Why: trainer state <-> checkpoint meta (see TrainerState.hpp).
#include "experiments/training/TrainerState.hpp"

#include "core/Error.hpp"

namespace diffuser::experiments {

using nlohmann::json;

json TrainerState::to_json() const {
  return {{"step", step},
          {"epoch", position.epoch},
          {"batch_in_epoch", position.index},
          {"interval_loss_sum", interval_loss_sum},
          {"interval_correct", interval_correct},
          {"interval_count", interval_count},
          {"interval_steps", interval_steps},
          {"has_best", has_best},
          {"best_score", best_score},
          {"best_step", best_step},
          {"best_metrics", best_metrics},
          {"last_val", last_val},
          {"train_time_s", train_time_s},
          {"wall_time_s", wall_time_s},
          {"tokens", tokens},
          {"padded_tokens", padded_tokens},
          {"skipped_steps", skipped_steps}};
}

TrainerState TrainerState::from_json(const json& j, const std::string& origin) {
  TrainerState s;
  try {
    s.step = j.at("step").get<std::int64_t>();
    s.position.epoch = j.at("epoch").get<std::uint64_t>();
    s.position.index = j.at("batch_in_epoch").get<std::uint64_t>();
    s.interval_loss_sum = j.at("interval_loss_sum").get<double>();
    s.interval_correct = j.at("interval_correct").get<std::int64_t>();
    s.interval_count = j.at("interval_count").get<std::int64_t>();
    s.interval_steps = j.at("interval_steps").get<std::int64_t>();
    s.has_best = j.at("has_best").get<bool>();
    s.best_score = j.at("best_score").get<double>();
    s.best_step = j.at("best_step").get<std::int64_t>();
    s.best_metrics = j.at("best_metrics");
    s.last_val = j.at("last_val");
    s.train_time_s = j.at("train_time_s").get<double>();
    s.wall_time_s = j.at("wall_time_s").get<double>();
    s.tokens = j.at("tokens").get<std::int64_t>();
    s.padded_tokens = j.at("padded_tokens").get<std::int64_t>();
    s.skipped_steps = j.at("skipped_steps").get<std::int64_t>();
  } catch (const json::exception& e) {
    fail("{}: trainer state in the checkpoint is incomplete or ill-typed ({})", origin, e.what());
  }
  return s;
}

}  // namespace diffuser::experiments
