// Why: ListOps (LRA) is the project's main long-sequence benchmark and the only one whose data
// can be generated offline, so a run needs nothing but its config; the task owns the choice
// between generating the data into the run folder and reading the LRA files.
#pragma once

#include <cstdint>
#include <string>

#include "experiments/config/Config.hpp"
#include "experiments/tasks/ClassifierTask.hpp"

namespace diffuser::experiments {

/// task.name = listops (docs/experiments.md, "Data").
///  - task.data_dir empty: ListOps generated with (task.min_len, task.max_len) exclusive length
///    bounds, task.max_depth, task.seed and exactly task.{train,val,test}_size trees, written
///    once to <run_dir>/data/basic_{train,val,test}.tsv and read back (a resumed run reads the
///    same files);
///  - otherwise the LRA files basic_{split}.tsv in task.data_dir, capped to task.*_size.
class ListOpsTask final : public ClassifierTask {
 public:
  /// Reads task.min_len and task.max_depth.
  ListOpsTask(const ExperimentConfig& experiment, const Config& config);

 private:
  SequenceDataset load_split(const std::string& run_dir, const std::string& split) override;

  std::int64_t min_len_ = 0, max_depth_ = 0;
};

}  // namespace diffuser::experiments
