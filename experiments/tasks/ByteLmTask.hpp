// Why: byte-level language modelling (enwik8-style) tests the causal model on one long text;
// it has no examples or classes, its batches are random windows drawn per step and its score
// is the loss (bits per byte), so it is the task that keeps the Task interface honest.
#pragma once

#include <optional>
#include <string>

#include "experiments/config/Config.hpp"
#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/data/ByteLmDataset.hpp"
#include "experiments/tasks/Task.hpp"

namespace diffuser::experiments {

/// task.name = bytelm: task.text_file (plain or gzip/dictzip; default Debian's gcide
/// dictionary) cut 90/5/5 into contiguous train/val/test ranges (all three are always loaded);
/// windows of task.max_len bytes (nn::ModelKind::kCausalLm, vocabulary 256).
///  - training: train.batch_size windows per step at offsets drawn from the kLmWindows stream of
///    (train.seed, step);
///  - evaluation: the first task.{val,test}_size non-overlapping windows (0 = all) of the split;
///  - score: -loss (lower loss is better); metrics add "bits_per_byte".
class ByteLmTask final : public Task {
 public:
  /// Reads task.text_file.
  ByteLmTask(const ExperimentConfig& experiment, const Config& config);

  bool has_split(const std::string& split) const override;
  /// task.text_file = path, every window of `split` evaluated.
  void read_data_from(const std::string& path, const std::string& split) override;
  std::unique_ptr<BatchStream> training_batches(std::uint64_t train_seed) const override;
  MetricSums evaluate(nn::Model<float>& model, const std::string& split) const override;
  nlohmann::json metrics_json(const MetricSums& m) const override;
  double score(const MetricSums& m) const override;
  std::string validation_text(const MetricSums& m) const override;
  std::string test_text(const MetricSums& m) const override;

 private:
  void load_splits(const std::string& run_dir, const std::vector<std::string>& splits) override;
  const ByteLmDataset& split_data(const std::string& split) const;

  TaskSection task_;
  std::string text_file_;
  std::int64_t batch_size_ = 0;
  std::optional<ByteLmSplits> data_;
};

}  // namespace diffuser::experiments
