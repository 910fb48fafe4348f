// Why: a loaded task's sequences as plain datasets (see TaskData.hpp).
#include "experiments/tasks/TaskData.hpp"

#include "experiments/tasks/TaskRegistry.hpp"

namespace diffuser::experiments {

TaskData load_task_data(const Config& config, const std::string& run_dir,
                        const std::vector<std::string>& splits) {
  const auto task = make_task(config);
  task->load(run_dir, splits);
  TaskData data;
  data.shape = task->shape();
  data.description = task->description();
  for (const auto& s : splits) {
    const SequenceDataset* d = task->sequences(s);
    if (d == nullptr) continue;
    (s == "train" ? data.train : s == "val" ? data.val : data.test) = *d;
  }
  return data;
}

}  // namespace diffuser::experiments
