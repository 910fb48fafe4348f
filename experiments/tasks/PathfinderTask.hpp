// Why: Pathfinder (LRA) is the long-range image task: only the whole 1,024- or 4,096-pixel image
// decides the label, so it is where a local attention pattern should fall short and diffusion
// should help. The task owns the choice between generating the images into the run folder and
// reading LRA's files (which come as one set without splits).
#pragma once

#include <cstdint>
#include <string>

#include "experiments/config/Config.hpp"
#include "experiments/tasks/ClassifierTask.hpp"

namespace diffuser::experiments {

/// task.name = pathfinder (docs/experiments.md, "Data"; images: docs/data.md, "Pathfinder").
///  - task.data_dir empty: task.{train,val,test}_size images of side task.image_size generated
///    by PathfinderGenerator (each split exactly balanced, its own seed from task.seed), written
///    once in LRA's layout to <run_dir>/data/pathfinder<side>/{train,val,test} and read back (a
///    resumed run reads the same files);
///  - otherwise one set in LRA's layout in task.data_dir (e.g. pathfinder32/curv_baseline):
///    a seeded permutation (task.seed) gives the test set (first task.test_size images), the
///    validation set (next task.val_size) and the training set (the rest, capped to
///    task.train_size).
/// Every image must fit task.max_len (side^2 pixels): a cropped image could lose the contour
/// that decides its label, so a smaller max_len is an error (at load).
class PathfinderTask final : public ClassifierTask {
 public:
  /// Reads task.image_size (32 or 64).
  PathfinderTask(const ExperimentConfig& experiment, const Config& config);

  /// `split` becomes every image of the Pathfinder set in `path` (LRA's layout, e.g. made by
  /// `diffuser data pathfinder`), uncapped and not carved.
  void read_data_from(const std::string& path, const std::string& split) override;

 private:
  SequenceDataset load_split(const std::string& run_dir, const std::string& split) override;
  SequenceDataset generated_split(const std::string& run_dir, const std::string& split) const;

  std::int32_t side_ = 32;
  std::string whole_dir_, whole_split_;  ///< set by read_data_from
};

}  // namespace diffuser::experiments
