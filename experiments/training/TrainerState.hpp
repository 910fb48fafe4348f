// Why: a resumed run must continue exactly where the interrupted one stopped, including the
// averages of a half-finished log interval and the best validation score so far. This is all
// of that state besides parameters and optimiser moments, stored as checkpoint meta "trainer".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "experiments/data/Batcher.hpp"

namespace diffuser::experiments {

/// Everything besides parameters and optimiser moments that a resumed run needs.
struct TrainerState {
  std::int64_t step = 0;     ///< last completed optimiser step
  BatcherPosition position;  ///< the training batch stream's position
  // Accumulators of the current log interval (so a resume mid-interval logs the same averages).
  double interval_loss_sum = 0;
  std::int64_t interval_correct = 0, interval_count = 0, interval_steps = 0;
  // Best validation score so far.
  bool has_best = false;
  double best_score = 0;
  std::int64_t best_step = 0;
  nlohmann::json best_metrics = nlohmann::json::object();
  nlohmann::json last_val = nlohmann::json::object();
  // Totals over all sessions.
  double train_time_s = 0, wall_time_s = 0;
  std::int64_t tokens = 0, padded_tokens = 0, skipped_steps = 0;

  /// {"step", "epoch", "batch_in_epoch", "interval_*", "has_best", "best_score", "best_step",
  /// "best_metrics", "last_val", "train_time_s", "wall_time_s", "tokens", "padded_tokens",
  /// "skipped_steps"}.
  nlohmann::json to_json() const;
  /// Inverse of to_json; diffuser::Error naming `origin` when a field is missing or ill-typed.
  static TrainerState from_json(const nlohmann::json& j, const std::string& origin);
};

}  // namespace diffuser::experiments
