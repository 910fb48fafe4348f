// Why: the config names a task (task.name); this is the one table that maps the name to the
// class that implements it, so the trainer, `eval` and `viz` never switch on task names and a
// new task is registered here, next to its class.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "experiments/config/Config.hpp"
#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/tasks/Task.hpp"

namespace diffuser::experiments {

/// Makes a task from the typed config and the Config (for the task's own keys).
using TaskFactory = std::unique_ptr<Task> (*)(const ExperimentConfig& experiment,
                                              const Config& config);

/// One entry of the registry.
struct TaskKind {
  const char* name;  ///< the task.name value (also one of the schema's choices of task.name)
  TaskFactory make;
};

/// Every task, in the order of the schema's task.name choices.
const std::vector<TaskKind>& task_registry();

/// The task experiment.task.name names, not yet loaded. diffuser::Error "unknown task 'X'
/// (known: listops, ...)" for a name the registry lacks.
std::unique_ptr<Task> make_task(const ExperimentConfig& experiment, const Config& config);

/// make_task(ExperimentConfig::read(config), config).
std::unique_ptr<Task> make_task(const Config& config);

}  // namespace diffuser::experiments
