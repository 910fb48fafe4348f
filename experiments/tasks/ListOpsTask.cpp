// Why: generated or LRA ListOps splits (see ListOpsTask.hpp).
#include "experiments/tasks/ListOpsTask.hpp"

#include <filesystem>

#include "core/Error.hpp"
#include "experiments/data/ListOps.hpp"
#include "experiments/data/ListOpsGenerator.hpp"
#include "experiments/tasks/TaskFiles.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;

ListOpsTask::ListOpsTask(const ExperimentConfig& experiment, const Config& config)
    : ClassifierTask(experiment),
      min_len_(config.get_int("task.min_len")),
      max_depth_(config.get_int("task.max_depth")) {}

SequenceDataset ListOpsTask::load_split(const std::string& run_dir, const std::string& split) {
  const TaskSection& t = task_keys();
  std::string dir = t.data_dir;
  const bool generated = dir.empty();
  if (generated) {
    DIFFUSER_CHECK(!run_dir.empty(),
                   "task listops: task.data_dir is empty and there is no run folder to generate "
                   "the data into");
    dir = (fs::path(run_dir) / "data").string();
    const fs::path test_file = fs::path(dir) / "basic_test.tsv";
    if (!fs::exists(test_file)) {
      ListOpsOptions o;
      o.min_length = min_len_;
      o.max_length = t.max_len;
      o.max_depth = static_cast<std::int32_t>(max_depth_);
      o.seed = static_cast<std::uint64_t>(t.seed);
      ListOpsSplitSizes sizes;
      sizes.train = static_cast<std::size_t>(t.train_size);
      sizes.val = static_cast<std::size_t>(t.val_size);
      sizes.test = static_cast<std::size_t>(t.test_size);
      DIFFUSER_CHECK(sizes.train > 0, "task listops: generated data needs task.train_size > 0");
      write_listops_splits(dir, o, sizes);  // test file written last: its presence means done
    }
  }
  const auto path =
      require_file(fs::path(dir) / ("basic_" + split + ".tsv"), "ListOps file (task.data_dir)");
  auto d = read_listops_tsv(path);
  return generated ? d : capped(d, split);
}

}  // namespace diffuser::experiments
