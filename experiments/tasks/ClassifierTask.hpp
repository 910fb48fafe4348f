// Why: ListOps, Fashion-MNIST, CIFAR-10 and text classification differ only in where their
// labelled sequences come from. Everything else -- cropping to task.max_len, the CLS token,
// length-bucketed batches, accuracy as the score, the majority-class rate next to the test
// accuracy -- is this one base class, so a new classification task writes just load_split.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/data/SequenceDataset.hpp"
#include "experiments/tasks/Task.hpp"

namespace diffuser::experiments {

/// A task of labelled sequences, one class per sequence (nn::ModelKind::kClassifier).
///
/// Loaded splits are cropped to task.max_len tokens and get a CLS token (id = vocabulary size)
/// when model.pool = cls; the model's max_len is then task.max_len + 1. Training batches come
/// from a Batcher (length buckets of train.bucket_granularity, train.batch_size sequences,
/// order from the kData stream of train.seed); evaluation uses the same buckets in file order.
class ClassifierTask : public Task {
 public:
  explicit ClassifierTask(const ExperimentConfig& experiment);

  bool has_split(const std::string& split) const override;
  const SequenceDataset* sequences(const std::string& split) const override;
  /// task.data_dir = path and no task.<split>_size cap.
  void read_data_from(const std::string& path, const std::string& split) override;
  std::unique_ptr<BatchStream> training_batches(std::uint64_t train_seed) const override;
  MetricSums evaluate(nn::Model<float>& model, const std::string& split) const override;
  nlohmann::json metrics_json(const MetricSums& m) const override;
  /// {"majority_rate": rate of the most frequent class of `split`}.
  nlohmann::json split_facts(const std::string& split) const override;
  double score(const MetricSums& m) const override;
  std::string validation_text(const MetricSums& m) const override;
  std::string test_text(const MetricSums& m) const override;

 protected:
  /// The examples of `split` as stored (before cropping and the CLS token), capped to
  /// task.<split>_size where the task does so (capped() below).
  virtual SequenceDataset load_split(const std::string& run_dir, const std::string& split) = 0;

  /// The shared task.* keys (a subclass may redirect data_dir or lift a cap before load).
  TaskSection& task_keys() { return task_; }
  const TaskSection& task_keys() const { return task_; }

  /// `d` capped to task.<split>_size by the seeded subset of `split` (SplitSubsets.hpp).
  SequenceDataset capped(const SequenceDataset& d, const std::string& split) const;

 private:
  void load_splits(const std::string& run_dir, const std::vector<std::string>& splits) override;
  const SequenceDataset& split_data(const std::string& split) const;

  TaskSection task_;
  bool add_cls_ = false;
  std::int64_t batch_size_ = 0, granularity_ = 0;
  SequenceDataset train_, val_, test_;
};

}  // namespace diffuser::experiments
