// Why: generated or LRA Pathfinder splits (see PathfinderTask.hpp).
#include "experiments/tasks/PathfinderTask.hpp"

#include <algorithm>
#include <filesystem>

#include "core/Error.hpp"
#include "experiments/data/PathfinderGenerator.hpp"
#include "experiments/data/PathfinderLoader.hpp"
#include "experiments/tasks/SplitSubsets.hpp"
#include "experiments/tasks/TaskFiles.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;

PathfinderTask::PathfinderTask(const ExperimentConfig& experiment, const Config& config)
    : ClassifierTask(experiment) {
  const std::int64_t side = config.get_int("task.image_size");
  DIFFUSER_CHECK(side == 32 || side == 64,
                 "task pathfinder: task.image_size must be 32 or 64 (got {})", side);
  side_ = static_cast<std::int32_t>(side);
}

void PathfinderTask::read_data_from(const std::string& path, const std::string& split) {
  whole_dir_ = path;
  whole_split_ = split;
}

SequenceDataset PathfinderTask::generated_split(const std::string& run_dir,
                                                const std::string& split) const {
  const TaskSection& t = task_keys();
  DIFFUSER_CHECK(!run_dir.empty(),
                 "task pathfinder: task.data_dir is empty and there is no run folder to generate "
                 "the images into");
  const fs::path root = fs::path(run_dir) / "data" / ("pathfinder" + std::to_string(side_));
  // The test set is written last and its IDX labels file last of all: its presence means done.
  if (!fs::exists(root / "test" / "labels-idx1-ubyte")) {
    for (const char* s : {"train", "val", "test"}) {
      const std::int64_t count = std::string(s) == "train" ? t.train_size
                                 : std::string(s) == "val" ? t.val_size
                                                           : t.test_size;
      DIFFUSER_CHECK(count > 0, "task pathfinder: generated data needs task.{}_size > 0", s);
      const auto options = pathfinder_options(side_, split_seed(t.seed, s));
      const auto d = PathfinderGenerator(options).generate(static_cast<std::size_t>(count));
      write_pathfinder_files((root / s).string(), d, options);
    }
  }
  return load_pathfinder(require_file(root / split, "Pathfinder split folder"), side_);
}

SequenceDataset PathfinderTask::load_split(const std::string& run_dir, const std::string& split) {
  const TaskSection& t = task_keys();
  const std::int64_t pixels = std::int64_t{side_} * side_;
  DIFFUSER_CHECK(t.max_len >= pixels,
                 "task pathfinder: task.max_len = {} would crop the {}x{} images ({} pixels); set "
                 "task.max_len >= {}",
                 t.max_len, side_, side_, pixels, pixels);
  if (!whole_dir_.empty() && split == whole_split_) return load_pathfinder(whole_dir_, side_);
  if (t.data_dir.empty()) return generated_split(run_dir, split);
  // One set without splits: test, then val, then train from one seeded permutation.
  const SequenceDataset all = load_pathfinder(t.data_dir, side_);
  const auto p = seeded_permutation(all.size(), split_seed(t.seed, "carve"));
  const auto test_n = std::min<std::size_t>(static_cast<std::size_t>(t.test_size), all.size());
  const auto val_n =
      std::min<std::size_t>(static_cast<std::size_t>(t.val_size), all.size() - test_n);
  std::size_t begin = 0, end = test_n;
  if (split == "val") {
    begin = test_n;
    end = test_n + val_n;
  } else if (split == "train") {
    begin = test_n + val_n;
    end = all.size();
    if (t.train_size > 0) end = std::min(end, begin + static_cast<std::size_t>(t.train_size));
  }
  DIFFUSER_CHECK(end > begin, "task pathfinder: {} has {} images, none left for the {} split",
                 t.data_dir, all.size(), split);
  std::vector<std::size_t> idx(p.begin() + static_cast<std::ptrdiff_t>(begin),
                               p.begin() + static_cast<std::ptrdiff_t>(end));
  std::sort(idx.begin(), idx.end());
  return all.subset(idx);
}

}  // namespace diffuser::experiments
