// Why: the non-virtual parts of Task (see Task.hpp).
#include "experiments/tasks/Task.hpp"

#include "experiments/tasks/SplitSubsets.hpp"

namespace diffuser::experiments {

void Task::load(const std::string& run_dir, const std::vector<std::string>& splits) {
  for (const auto& s : splits) check_split_name(s);
  load_splits(run_dir, splits);
}

const SequenceDataset* Task::sequences(const std::string& split) const {
  static_cast<void>(split);
  return nullptr;
}

nlohmann::json Task::split_facts(const std::string& split) const {
  static_cast<void>(split);
  return nlohmann::json::object();
}

void Task::set_loaded(const TaskShape& shape, std::string description) {
  shape_ = shape;
  description_ = std::move(description);
}

}  // namespace diffuser::experiments
