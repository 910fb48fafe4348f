// Why: code outside the trainer (viz picks one example to capture, tests inspect what a
// config loads) wants a task's labelled splits as plain datasets, without holding a Task. This
// is that view: the task a config names, loaded, its sequences copied out.
#pragma once

#include <string>
#include <vector>

#include "experiments/config/Config.hpp"
#include "experiments/data/SequenceDataset.hpp"
#include "experiments/tasks/SplitSubsets.hpp"
#include "experiments/tasks/TaskShape.hpp"

namespace diffuser::experiments {

/// The loaded data of one task: its shape, description and (classification tasks) the three
/// sets of labelled sequences; tasks without sequences (bytelm) leave them empty.
struct TaskData {
  TaskShape shape;
  SequenceDataset train, val, test;
  std::string description;  ///< one line: where the data came from, sizes
};

/// make_task(config) (TaskRegistry.hpp), Task::load(run_dir, splits), and the sequences of the
/// loaded splits (the others stay empty). Where each task's data comes from:
/// docs/experiments.md, "Data", and the task classes in experiments/tasks/.
TaskData load_task_data(const Config& config, const std::string& run_dir,
                        const std::vector<std::string>& splits = {"train", "val", "test"});

}  // namespace diffuser::experiments
