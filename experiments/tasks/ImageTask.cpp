// Why: image splits with a carved validation set (see ImageTask.hpp).
#include "experiments/tasks/ImageTask.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/Error.hpp"
#include "experiments/data/ImagePadding.hpp"
#include "experiments/tasks/SplitSubsets.hpp"

namespace diffuser::experiments {

ImageTask::ImageTask(const ExperimentConfig& experiment, const Config& config, ImageSource source)
    : ClassifierTask(experiment), source_(std::move(source)) {
  pad_ = static_cast<std::int32_t>(config.get_int("task.image_pad"));
}

SequenceDataset ImageTask::read_split(const std::string& dir, std::string_view split) const {
  SequenceDataset d = source_.read(split, dir);
  if (pad_ == 0) return d;
  return pad_images(d, source_.height, source_.width, pad_);
}

void ImageTask::read_data_from(const std::string& path, const std::string& split) {
  if (split == "val") {
    task_keys().data_dir = path;
  } else {
    ClassifierTask::read_data_from(path, split);
  }
}

SequenceDataset ImageTask::load_split(const std::string& run_dir, const std::string& split) {
  static_cast<void>(run_dir);
  const TaskSection& t = task_keys();
  const std::int64_t h = source_.height + 2 * pad_, w = source_.width + 2 * pad_;
  DIFFUSER_CHECK(t.max_len >= h * w,
                 "task {}: task.max_len = {} would crop the {}x{} images ({} pixels{}); set "
                 "task.max_len >= {}",
                 t.name, t.max_len, h, w, h * w,
                 pad_ > 0 ? fmt::format(" with task.image_pad = {}", pad_) : std::string(), h * w);
  const std::string dir = t.data_dir.empty() ? source_.default_dir : t.data_dir;
  DIFFUSER_CHECK(!dir.empty(), "task {}: set task.data_dir to {}", t.name, source_.folder_hint);
  if (split == "test") return capped(read_split(dir, "test"), "test");
  // No validation file: val = the first task.val_size images of a seeded permutation of the
  // training images, train = the rest (capped to task.train_size).
  const SequenceDataset train_file = read_split(dir, "train");
  const auto val_n = std::min<std::size_t>(static_cast<std::size_t>(t.val_size), train_file.size());
  auto p = seeded_permutation(train_file.size(), split_seed(t.seed, "carve"));
  std::vector<std::size_t> idx;
  if (split == "val") {
    idx.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(val_n));
  } else {
    idx.assign(p.begin() + static_cast<std::ptrdiff_t>(val_n), p.end());
    if (t.train_size > 0 && static_cast<std::size_t>(t.train_size) < idx.size())
      idx.resize(static_cast<std::size_t>(t.train_size));
  }
  std::sort(idx.begin(), idx.end());
  return train_file.subset(idx);
}

}  // namespace diffuser::experiments
