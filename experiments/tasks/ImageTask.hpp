// Why: Fashion-MNIST and CIFAR-10 are both image sets shipped as a training and a test file
// without a validation file; they differ only in the reader and the default folder. One task
// class carves the validation set the same (seeded) way for both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "experiments/config/Config.hpp"
#include "experiments/tasks/ClassifierTask.hpp"

namespace diffuser::experiments {

/// Where an image task's files come from.
struct ImageSource {
  /// Reads split "train" or "test" of the files in a folder.
  SequenceDataset (*read)(std::string_view split, const std::string& dir) = nullptr;
  std::string default_dir;  ///< used when task.data_dir is empty ("" = task.data_dir required)
  std::string folder_hint;  ///< what task.data_dir must name, for the error without a default
  std::int32_t height = 0, width = 0;  ///< image size in pixels (sequences are row-major)
};

/// task.name = fashion_mnist (task.data_dir or Debian's folder) or cifar10 (task.data_dir
/// required): the validation set is task.val_size images carved from the training files by a
/// seeded permutation (task.seed), the training set the rest (capped to task.train_size); the
/// test set is the test file capped to task.test_size. With task.image_pad = P every image gets a
/// border of P background pixels (data/ImagePadding.hpp); task.max_len must hold the padded
/// image (a crop is refused).
class ImageTask final : public ClassifierTask {
 public:
  ImageTask(const ExperimentConfig& experiment, const Config& config, ImageSource source);

  /// As ClassifierTask, except that a "val" split keeps its task.val_size (it is carved from
  /// the training files of `path`).
  void read_data_from(const std::string& path, const std::string& split) override;

 private:
  SequenceDataset load_split(const std::string& run_dir, const std::string& split) override;

  SequenceDataset read_split(const std::string& dir, std::string_view split) const;

  ImageSource source_;
  std::int32_t pad_ = 0;
};

}  // namespace diffuser::experiments
