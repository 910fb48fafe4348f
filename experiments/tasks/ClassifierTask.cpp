// Why: the shared behaviour of classification tasks (see ClassifierTask.hpp).
#include "experiments/tasks/ClassifierTask.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/Error.hpp"
#include "experiments/data/Batcher.hpp"
#include "experiments/tasks/SeedStreams.hpp"
#include "experiments/tasks/SplitSubsets.hpp"

namespace diffuser::experiments {

namespace {

/// Training batches of a classifier: the shuffled, bucketed epochs of a Batcher.
class ClassifierBatches final : public BatchStream {
 public:
  ClassifierBatches(const SequenceDataset& train, const BatcherOptions& options)
      : batcher_(train, options) {}
  nn::Batch next(std::int64_t step) override {
    static_cast<void>(step);
    return batcher_.next();
  }
  BatcherPosition position() const override { return batcher_.position(); }
  void seek(const BatcherPosition& position) override { batcher_.seek(position); }

 private:
  Batcher batcher_;
};

SequenceDataset prepare(const SequenceDataset& d, std::int64_t max_len, bool add_cls) {
  SequenceDataset out = d.truncated(static_cast<std::size_t>(max_len));
  return add_cls ? out.with_cls() : out;
}

std::string describe(const SequenceDataset& d) {
  const auto s = d.length_stats();
  return fmt::format("{} examples, length {}..{}", d.size(), s.min, s.max);
}

}  // namespace

ClassifierTask::ClassifierTask(const ExperimentConfig& e)
    : task_(e.task),
      add_cls_(e.model.pool == "cls"),
      batch_size_(e.train.batch_size),
      granularity_(e.train.bucket_granularity) {}

const SequenceDataset& ClassifierTask::split_data(const std::string& split) const {
  check_split_name(split);
  return split == "train" ? train_ : split == "val" ? val_ : test_;
}

bool ClassifierTask::has_split(const std::string& split) const {
  return !split_data(split).empty();
}

const SequenceDataset* ClassifierTask::sequences(const std::string& split) const {
  return &split_data(split);
}

void ClassifierTask::read_data_from(const std::string& path, const std::string& split) {
  check_split_name(split);
  task_.data_dir = path;
  task_.size_of(split) = 0;
}

SequenceDataset ClassifierTask::capped(const SequenceDataset& d, const std::string& split) const {
  return capped_subset(d, task_.size_of(split), split_seed(task_.seed, split));
}

void ClassifierTask::load_splits(const std::string& run_dir,
                                 const std::vector<std::string>& splits) {
  auto wanted = [&](const char* s) {
    return std::find(splits.begin(), splits.end(), s) != splits.end();
  };
  std::string desc = task_.name;
  const SequenceDataset* any = nullptr;
  for (const char* s : {"train", "val", "test"}) {
    if (!wanted(s)) continue;
    SequenceDataset& out = std::string(s) == "train" ? train_
                           : std::string(s) == "val" ? val_
                                                     : test_;
    out = prepare(load_split(run_dir, s), task_.max_len, add_cls_);
    desc += fmt::format("; {}: {}", s, describe(out));
    any = &out;
  }
  DIFFUSER_CHECK(any != nullptr, "load_task_data: no split requested");
  set_loaded(TaskShape{nn::ModelKind::kClassifier, any->vocab_size(), any->num_classes(),
                       task_.max_len + (add_cls_ ? 1 : 0), add_cls_, any->pad_id()},
             desc);
}

std::unique_ptr<BatchStream> ClassifierTask::training_batches(std::uint64_t train_seed) const {
  DIFFUSER_CHECK(!train_.empty(), "task {}: the training set is empty", task_.name);
  BatcherOptions bo;
  bo.batch_size = batch_size_;
  bo.granularity = granularity_;
  bo.max_len = shape().max_len;
  bo.shuffle = true;
  bo.seed = derive_seed(train_seed, SeedStream::kData);
  return std::make_unique<ClassifierBatches>(train_, bo);
}

MetricSums ClassifierTask::evaluate(nn::Model<float>& model, const std::string& split) const {
  const SequenceDataset& data = split_data(split);
  MetricSums sums;
  if (data.empty()) return sums;
  BatcherOptions o;
  o.batch_size = batch_size_;
  o.granularity = granularity_;
  o.max_len = shape().max_len;
  o.shuffle = false;
  const Batcher batcher(data, o);
  for (const auto& plan : batcher.epoch_plan(0)) {
    sums.add(model.forward(batcher.make_batch(plan), /*training=*/false, 0, 0));
  }
  return sums;
}

nlohmann::json ClassifierTask::metrics_json(const MetricSums& m) const {
  return m.to_json(/*language_model=*/false);
}

nlohmann::json ClassifierTask::split_facts(const std::string& split) const {
  return {{"majority_rate", split_data(split).majority_rate()}};
}

double ClassifierTask::score(const MetricSums& m) const { return m.accuracy(); }

std::string ClassifierTask::validation_text(const MetricSums& m) const {
  return fmt::format("loss {:.4f} accuracy {:.4f}", m.loss(), m.accuracy());
}

std::string ClassifierTask::test_text(const MetricSums& m) const {
  return fmt::format("accuracy {:.4f} loss {:.4f} (majority {:.4f}, {} examples)", m.accuracy(),
                     m.loss(), test_.majority_rate(), m.count);
}

}  // namespace diffuser::experiments
