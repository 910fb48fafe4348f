// Why: byte-level text classification (LRA's IMDB/AAN stand-ins) needs labelled text; offline
// the installed fortunes give one (by category or language), built into the run folder, while
// user-supplied files use the same tab-separated format. The task owns that choice.
#pragma once

#include <string>

#include "experiments/config/Config.hpp"
#include "experiments/tasks/ClassifierTask.hpp"

namespace diffuser::experiments {

/// task.name = text: train.tsv, val.tsv, test.tsv and classes.txt in task.data_dir; empty:
/// built from the installed fortunes (grouped by task.fortunes_by, split by task.seed) into
/// <run_dir>/data/fortunes. Splits are capped to task.*_size by seeded subsets.
class TextTask final : public ClassifierTask {
 public:
  /// Reads task.fortunes_by.
  TextTask(const ExperimentConfig& experiment, const Config& config);

 private:
  SequenceDataset load_split(const std::string& run_dir, const std::string& split) override;

  std::string fortunes_by_;
};

}  // namespace diffuser::experiments
