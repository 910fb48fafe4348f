// Why: the byte-level language-model task (see ByteLmTask.hpp).
#include "experiments/tasks/ByteLmTask.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "core/Error.hpp"
#include "experiments/tasks/SeedStreams.hpp"
#include "experiments/tasks/SplitSubsets.hpp"

namespace diffuser::experiments {

namespace {

/// Debian's dict-gcide text, the default corpus of the byte-level LM task.
constexpr const char* kGcidePath = "/usr/share/dictd/gcide.dict.dz";

/// Fractions of the byte stream that go to validation and test (enwik8's customary 90/5/5).
constexpr double kLmHeldOutFraction = 0.05;

/// A batch of LM windows starting at `offsets`: tokens and next-byte labels [B, context].
nn::Batch lm_batch(const ByteLmDataset& data, const std::vector<std::size_t>& offsets,
                   std::int64_t context) {
  nn::Batch b;
  b.batch = static_cast<std::int64_t>(offsets.size());
  b.len = context;
  const auto n = static_cast<std::size_t>(context);
  b.tokens.resize(offsets.size() * n);
  b.labels.resize(offsets.size() * n);
  b.lengths.assign(offsets.size(), static_cast<std::int32_t>(context));
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    data.window_at(offsets[i], n, std::span<std::int32_t>(b.tokens).subspan(i * n, n),
                   std::span<std::int32_t>(b.labels).subspan(i * n, n));
  }
  return b;
}

/// Training windows: train.batch_size random offsets per step, from (train.seed, step) alone.
class WindowBatches final : public BatchStream {
 public:
  WindowBatches(const ByteLmDataset& train, std::int64_t batch_size, std::int64_t context,
                std::uint64_t train_seed)
      : train_(train), batch_size_(batch_size), context_(context), seed_(train_seed) {}
  nn::Batch next(std::int64_t step) override {
    const auto offsets = train_.random_offsets(
        static_cast<std::size_t>(batch_size_), static_cast<std::size_t>(context_),
        derive_seed(seed_, SeedStream::kLmWindows, static_cast<std::uint64_t>(step)));
    return lm_batch(train_, offsets, context_);
  }

 private:
  const ByteLmDataset& train_;
  std::int64_t batch_size_, context_;
  std::uint64_t seed_;
};

}  // namespace

ByteLmTask::ByteLmTask(const ExperimentConfig& experiment, const Config& config)
    : task_(experiment.task),
      text_file_(config.get_string("task.text_file")),
      batch_size_(experiment.train.batch_size) {}

void ByteLmTask::load_splits(const std::string& run_dir, const std::vector<std::string>& splits) {
  static_cast<void>(run_dir);
  static_cast<void>(splits);
  const std::string path = text_file_.empty() ? std::string(kGcidePath) : text_file_;
  const auto stream = ByteLmDataset::from_file(path);
  data_.emplace(split_byte_stream(stream, kLmHeldOutFraction, kLmHeldOutFraction));
  set_loaded(
      TaskShape{nn::ModelKind::kCausalLm, ByteLmDataset::kVocabSize, ByteLmDataset::kVocabSize,
                task_.max_len, false, 0},
      fmt::format("bytelm {}: train {} bytes, val {} bytes, test {} bytes, context {}", path,
                  data_->train.size(), data_->val.size(), data_->test.size(), task_.max_len));
}

const ByteLmDataset& ByteLmTask::split_data(const std::string& split) const {
  check_split_name(split);
  DIFFUSER_CHECK(data_.has_value(), "task bytelm: the data is not loaded");
  return split == "train" ? data_->train : split == "val" ? data_->val : data_->test;
}

bool ByteLmTask::has_split(const std::string& split) const {
  check_split_name(split);
  return true;
}

void ByteLmTask::read_data_from(const std::string& path, const std::string& split) {
  check_split_name(split);
  text_file_ = path;
  task_.size_of(split) = 0;
}

std::unique_ptr<BatchStream> ByteLmTask::training_batches(std::uint64_t train_seed) const {
  const ByteLmDataset& train = split_data("train");
  const std::int64_t context = shape().max_len;
  DIFFUSER_CHECK(train.size() >= static_cast<std::size_t>(context) + 1,
                 "task bytelm: the training part ({} bytes) is shorter than one window of "
                 "task.max_len = {} bytes",
                 train.size(), context);
  return std::make_unique<WindowBatches>(train, batch_size_, context, train_seed);
}

MetricSums ByteLmTask::evaluate(nn::Model<float>& model, const std::string& split) const {
  // The first task.<split>_size (0 = all) non-overlapping windows.
  const ByteLmDataset& data = split_data(split);
  const std::int64_t context = shape().max_len;
  const std::int64_t max_windows = task_.size_of(split);
  const auto ctx = static_cast<std::size_t>(context);
  const auto batch = static_cast<std::size_t>(batch_size_);
  MetricSums sums;
  std::size_t windows = data.num_windows(ctx);
  if (max_windows > 0) windows = std::min(windows, static_cast<std::size_t>(max_windows));
  for (std::size_t w = 0; w < windows; w += batch) {
    std::vector<std::size_t> offsets;
    for (std::size_t i = w; i < std::min(windows, w + batch); ++i) offsets.push_back(i * ctx);
    sums.add(model.forward(lm_batch(data, offsets, context), /*training=*/false, 0, 0));
  }
  return sums;
}

nlohmann::json ByteLmTask::metrics_json(const MetricSums& m) const {
  return m.to_json(/*language_model=*/true);
}

double ByteLmTask::score(const MetricSums& m) const { return -m.loss(); }

std::string ByteLmTask::validation_text(const MetricSums& m) const {
  return fmt::format("loss {:.4f} bpb {:.4f}", m.loss(), m.bits_per_byte());
}

std::string ByteLmTask::test_text(const MetricSums& m) const {
  return fmt::format("loss {:.4f} bpb {:.4f} ({} bytes)", m.loss(), m.bits_per_byte(), m.count);
}

}  // namespace diffuser::experiments
