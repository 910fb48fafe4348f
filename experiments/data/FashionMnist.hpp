// Why: Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; Debian package dataset-fashion-mnist) is the
// image task that runs offline on a laptop: 28x28 grey images read as 784-pixel sequences,
// the way LRA's image task reads CIFAR-10 (one token per pixel, vocabulary 256).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// Where Debian's dataset-fashion-mnist installs the four IDX files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// The ten Fashion-MNIST class names, label order.
const std::vector<std::string>& fashion_mnist_class_names();

/// An image classification set from an IDX image file [N, rows, cols] (or [N, pixels]) and an
/// IDX label file [N] (gzip or plain): example i is image i's pixels in row-major order as
/// tokens 0..255 (vocab 256, pad 0), label i in [0, num_classes). Throws diffuser::Error naming
/// the file on a count mismatch, a label out of range or a malformed file.
SequenceDataset load_idx_classification(const std::string& images_path,
                                        const std::string& labels_path, std::int32_t num_classes,
                                        const std::string& name);

/// Fashion-MNIST from `dir` (default: Debian's location): split "train" (60000 images,
/// train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]) or "test" (10000, t10k-*).
/// Sequences of 784 tokens, vocab 256, 10 classes with names. The .gz file is used if present,
/// otherwise the uncompressed one.
SequenceDataset load_fashion_mnist(std::string_view split,
                                   const std::string& dir = kFashionMnistDir);

}  // namespace diffuser::experiments
