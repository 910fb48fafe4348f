// Why: the one reader of a training run's checkpoint (see TrainedCheckpoint.hpp).
#include "experiments/training/TrainedCheckpoint.hpp"

#include <utility>

#include "core/Error.hpp"
#include "experiments/training/RunFolder.hpp"

namespace diffuser::experiments {

TrainedCheckpoint TrainedCheckpoint::load(const std::string& path) {
  nn::Checkpoint ck = nn::load_checkpoint(path);
  DIFFUSER_CHECK(
      ck.meta.contains("config") && ck.meta.contains("task") && ck.meta.contains("trainer"),
      "{}: not a checkpoint written by `diffuser train` (no config/task/trainer)", path);
  Config config = config_from_json(ck.meta["config"], path);
  ExperimentConfig experiment = ExperimentConfig::read(config);
  TaskShape shape = TaskShape::from_json(ck.meta["task"]);
  const std::int64_t step = ck.meta["trainer"].value("step", std::int64_t{0});
  return TrainedCheckpoint{std::move(ck), std::move(config), std::move(experiment),
                           std::move(shape), step};
}

}  // namespace diffuser::experiments
