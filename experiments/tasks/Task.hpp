// Why: what differs between a classifier (ListOps, Fashion-MNIST, CIFAR-10, text) and the
// byte-level language model -- where the data comes from, how training batches are drawn, which
// metrics count and how they read -- lives behind this one interface, so the trainer and `eval`
// have no branch on the task and a new task is a new class in experiments/tasks/ plus one line
// in TaskRegistry.cpp (docs/experiments.md, "Adding a task").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"
#include "experiments/tasks/BatchStream.hpp"
#include "experiments/tasks/Metrics.hpp"
#include "experiments/tasks/TaskShape.hpp"
#include "nn/Model.hpp"

namespace diffuser::experiments {

/// One task of a run: its data (loaded per split), its training batches, its evaluation and
/// the way its results are reported. Made by make_task (TaskRegistry.hpp) from a config; a
/// task reads the config keys it needs once, in its constructor.
class Task {
 public:
  virtual ~Task() = default;

  /// Loads (or generates) the splits named in `splits` ("train", "val", "test"; others are
  /// diffuser::Error); the others may stay empty. Generated data goes to <run_dir>/data (a
  /// resumed run reads the same files). Afterwards shape() and description() are set; the
  /// shape is the same whichever splits are loaded. Errors name the file or key.
  void load(const std::string& run_dir,
            const std::vector<std::string>& splits = {"train", "val", "test"});

  /// What the task fixes about the model (after load).
  const TaskShape& shape() const { return shape_; }
  /// One line: where the data came from, sizes (after load; recorded in run.json).
  const std::string& description() const { return description_; }

  /// Whether `split` has anything to evaluate (an empty validation set is skipped).
  virtual bool has_split(const std::string& split) const = 0;

  /// The examples of `split` for tasks made of sequences with a label; nullptr otherwise.
  virtual const SequenceDataset* sequences(const std::string& split) const;

  /// Before load: read the task's files from `path` (a folder; LM: a text file) instead of
  /// the configured location, and evaluate all of `split` (no task.<split>_size cap unless the
  /// task carves that split from another). Used by `diffuser eval --data PATH`.
  virtual void read_data_from(const std::string& path, const std::string& split) = 0;

  /// The training batches of a run seeded with train.seed = `train_seed` (after load).
  /// diffuser::Error when the training split cannot give one batch.
  virtual std::unique_ptr<BatchStream> training_batches(std::uint64_t train_seed) const = 0;

  /// Loss/accuracy sums of `model` over `split` (no dropout, fixed order).
  virtual MetricSums evaluate(nn::Model<float>& model, const std::string& split) const = 0;

  /// The metrics of an evaluation as logged and stored: {"loss", "accuracy", "count"} plus
  /// task-specific ones (LM: "bits_per_byte").
  virtual nlohmann::json metrics_json(const MetricSums& m) const = 0;
  /// Facts of a split reported next to its test/eval metrics (classifiers: "majority_rate").
  virtual nlohmann::json split_facts(const std::string& split) const;
  /// Validation score, higher is better (classifiers: accuracy; LM: -loss); a strictly better
  /// score writes checkpoint_best.bin.
  virtual double score(const MetricSums& m) const = 0;
  /// Status text of a validation pass, e.g. "loss 2.3377 accuracy 0.0800".
  virtual std::string validation_text(const MetricSums& m) const = 0;
  /// Status text of the test pass, e.g. "accuracy 0.19 loss 2.26 (majority 0.19, 200
  /// examples)".
  virtual std::string test_text(const MetricSums& m) const = 0;

 protected:
  /// load() after the split names are checked.
  virtual void load_splits(const std::string& run_dir, const std::vector<std::string>& splits) = 0;
  /// Called by load_splits once the data is there.
  void set_loaded(const TaskShape& shape, std::string description);

 private:
  TaskShape shape_;
  std::string description_;
};

}  // namespace diffuser::experiments
