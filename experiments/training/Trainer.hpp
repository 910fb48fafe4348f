// Why: one training loop for every task and attention variant, driven by a config and writing a
// self-describing run folder (resolved config, run facts, JSONL log, checkpoints, final
// metrics). A run can be stopped at any step and resumed to exactly the trajectory of an
// uninterrupted run: everything random is a function of (seed, step), and the checkpoint holds
// all other state (parameters, AdamW moments, data position, log accumulators, best score).
#pragma once

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "experiments/config/Config.hpp"
#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/training/RunFolder.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::experiments {

/// How a Trainer runs (everything that is not part of the experiment's config).
struct TrainOptions {
  std::string run_dir;  ///< run folder (created if missing)
  /// Continue from <run_dir>/checkpoint_last.bin. Without it, a run folder that already holds a
  /// log or checkpoint is an error (so a run is never overwritten by accident).
  bool resume = false;
  /// Stop after this step (> 0) as if interrupted: checkpoint, no final evaluation.
  std::int64_t stop_after = 0;
  std::string command_line;              ///< recorded in run.json
  std::string git_revision = "unknown";  ///< recorded in run.json
  std::string git_revision_source;       ///< how it was obtained (recorded in run.json)
  /// Status lines (start, evaluations, end) go here; nullptr: silent. The progress bar draws on
  /// stderr only when stderr is a terminal and `progress` is set.
  std::FILE* messages = stderr;
  bool progress = true;
  /// Polled after every step: when it becomes non-zero, the trainer checkpoints and returns
  /// (the CLI sets it from SIGINT/SIGTERM).
  const volatile std::sig_atomic_t* interrupted = nullptr;
  /// Called after each backward pass with the 1-based step and the parameters (tests inject
  /// non-finite gradients here).
  std::function<void(std::int64_t, nn::ParameterStore<float>&)> after_backward;
};

/// How a call to Trainer::run ended.
struct TrainResult {
  std::int64_t step = 0;     ///< last completed optimiser step
  bool finished = false;     ///< train.steps reached; metrics.json written
  bool interrupted = false;  ///< stopped by the `interrupted` flag
  nlohmann::json metrics;    ///< what metrics.json holds (when finished)
};

/// Trains the model a config describes on its task.
///
/// The task (experiments/tasks/) supplies the data, the batches and the evaluation; the
/// trainer has no branch on the task. Per step s = 1..train.steps: the task's next batch
/// (classifiers: length-bucketed, Batcher.hpp; bytelm: random windows drawn from (train.seed,
/// s)), forward with dropout streams from (train.seed, s),
/// backward, a finiteness check of the loss and of every gradient tensor, global-norm clipping,
/// AdamW at the schedule's lr for update s - 1. Then, as due: a log line (every
/// train.log_every), a validation pass (every train.eval_every and at the end; a better score
/// writes checkpoint_best.bin), checkpoint_last.bin (every train.checkpoint_every, at the end,
/// at stop_after and on interruption). At the end: the test set, metrics.json.
///
/// Non-finite loss or gradient (train.on_nonfinite): `stop` throws diffuser::Error naming the
/// step, the tensor and its layer (checkpoint_last.bin keeps the last good state); `skip`
/// logs the step as skipped, leaves parameters and optimiser untouched, and goes on. Non-finite
/// logits are found by scanning the logits (the message names the first non-finite parameter
/// tensor, if any). A parameter that is non-finite after the update always stops the run, before
/// any checkpoint is written with it (docs/reliability.md).
class Trainer {
 public:
  /// Validates the options and reads the config's sections (ExperimentConfig); nothing is read
  /// from or written to disk yet.
  Trainer(Config config, TrainOptions options);

  /// Runs (or resumes) the training. Throws diffuser::Error on bad data, a config that differs
  /// from a resumed run's (other than train.steps and train.threads), a non-finite step in
  /// `stop` mode, or an I/O failure.
  TrainResult run();

 private:
  Config config_;
  ExperimentConfig experiment_;  ///< config_, read once
  TrainOptions options_;
};

/// Evaluates a checkpoint written by Trainer. `data` is a split name (train, val, test: the
/// run's own data, found from the checkpoint's folder) or a folder holding the task's files
/// (bytelm: a text file), whose `split` is evaluated. threads = 0 uses train.threads of the
/// checkpoint's config. Returns {"checkpoint", "step", "task", "variant", "data", "split",
/// "loss", "accuracy", "count", ["bits_per_byte"], ["majority_rate"]}.
nlohmann::json evaluate_checkpoint(const std::string& checkpoint_path, const std::string& data,
                                   const std::string& split = "test", int threads = 0);

}  // namespace diffuser::experiments
