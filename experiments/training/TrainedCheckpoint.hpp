// Why: `diffuser eval` and `diffuser viz attention` both open a checkpoint written by
// `diffuser train` and need the same four things from it (the tensors, the config it was
// trained with, the typed experiment sections, the task shape); one reader checks the meta once.
#pragma once

#include <cstdint>
#include <string>

#include "experiments/config/Config.hpp"
#include "experiments/config/ExperimentConfig.hpp"
#include "experiments/tasks/TaskShape.hpp"
#include "nn/Checkpoint.hpp"

namespace diffuser::experiments {

/// A checkpoint of a training run (checkpoint_last.bin / checkpoint_best.bin of a run folder).
struct TrainedCheckpoint {
  nn::Checkpoint checkpoint;    ///< tensors + meta, as nn::load_checkpoint read them
  Config config;                ///< meta "config": the run's config, validated by the schema
  ExperimentConfig experiment;  ///< the shared sections of `config`, read once
  TaskShape shape;              ///< meta "task": vocabulary, classes, length, kind
  std::int64_t step = 0;        ///< meta "trainer" step (0 when absent)

  /// Reads `path`. Throws diffuser::Error naming the file when it is not a checkpoint written
  /// by `diffuser train` (no config/task/trainer meta) or its config fails the schema.
  static TrainedCheckpoint load(const std::string& path);
};

}  // namespace diffuser::experiments
