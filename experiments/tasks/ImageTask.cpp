// Why: image splits with a carved validation set (see ImageTask.hpp).
#include "experiments/tasks/ImageTask.hpp"

#include <algorithm>

#include "core/Error.hpp"
#include "experiments/tasks/SplitSubsets.hpp"

namespace diffuser::experiments {

ImageTask::ImageTask(const ExperimentConfig& experiment, ImageSource source)
    : ClassifierTask(experiment), source_(std::move(source)) {}

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
  const std::string dir = t.data_dir.empty() ? source_.default_dir : t.data_dir;
  DIFFUSER_CHECK(!dir.empty(), "task {}: set task.data_dir to {}", t.name, source_.folder_hint);
  if (split == "test") return capped(source_.read("test", dir), "test");
  // No validation file: val = the first task.val_size images of a seeded permutation of the
  // training images, train = the rest (capped to task.train_size).
  const SequenceDataset train_file = source_.read("train", dir);
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
