// Why: text classification splits (see TextTask.hpp).
#include "experiments/tasks/TextTask.hpp"

#include <filesystem>

#include "core/Error.hpp"
#include "experiments/data/FortunesBuilder.hpp"
#include "experiments/data/TextDataset.hpp"
#include "experiments/tasks/TaskFiles.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;

TextTask::TextTask(const ExperimentConfig& experiment, const Config& config)
    : ClassifierTask(experiment), fortunes_by_(config.get_string("task.fortunes_by")) {}

SequenceDataset TextTask::load_split(const std::string& run_dir, const std::string& split) {
  const TaskSection& t = task_keys();
  std::string dir = t.data_dir;
  if (dir.empty()) {
    DIFFUSER_CHECK(!run_dir.empty(),
                   "task text: task.data_dir is empty and there is no run folder to build the "
                   "fortunes data into");
    dir = (fs::path(run_dir) / "data" / "fortunes").string();
    if (!fs::exists(fs::path(dir) / "classes.txt")) {
      FortunesOptions o;
      o.grouping =
          fortunes_by_ == "category" ? FortunesGrouping::kCategory : FortunesGrouping::kLanguage;
      o.seed = static_cast<std::uint64_t>(t.seed);
      write_text_splits(dir, build_fortunes_dataset(o));  // classes.txt is written last
    }
  }
  const auto classes =
      read_class_names(require_file(fs::path(dir) / "classes.txt", "class list (task.data_dir)"));
  const auto path = require_file(fs::path(dir) / (split + ".tsv"), "text file (task.data_dir)");
  return capped(load_text_classification(path, classes), split);
}

}  // namespace diffuser::experiments
