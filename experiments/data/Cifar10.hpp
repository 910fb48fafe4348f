// Why: LRA's image task is CIFAR-10 as grayscale 32x32 = 1024-pixel sequences. CIFAR-10 cannot
// be downloaded here, so users supply the binary version (Krizhevsky 2009: records of 1 label
// byte + 1024 red + 1024 green + 1024 blue bytes, row-major) and this reads it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// Bytes per CIFAR-10 binary record: 1 label + 3 x 32 x 32 pixels.
inline constexpr std::size_t kCifar10RecordBytes = 3073;

/// The default CIFAR-10 class names (label order), used when batches.meta.txt is absent.
const std::vector<std::string>& cifar10_class_names();

/// Grayscale of one pixel with the luma weights of tf.image.rgb_to_grayscale (ITU-R BT.601):
/// Y = round(0.2989 R + 0.5870 G + 0.1140 B), computed exactly in integers as
/// (2989 R + 5870 G + 1140 B + 5000) / 10000; the result is in [0, 255].
inline std::uint8_t cifar10_gray(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((2989u * r + 5870u * g + 1140u * b + 5000u) / 10000u);
}

/// Reads CIFAR-10 binary batch files (gzip or plain) in the given order: each record becomes a
/// 1024-token grayscale sequence (vocab 256, pad 0), 10 classes. Throws diffuser::Error naming
/// the file if its size is not a positive multiple of 3073 bytes or a label byte exceeds 9.
SequenceDataset read_cifar10_binary(const std::vector<std::string>& files, const std::string& name);

/// CIFAR-10 from the extracted `cifar-10-batches-bin` directory: split "train"
/// (data_batch_1.bin .. data_batch_5.bin, 50000 images) or "test" (test_batch.bin, 10000).
/// Class names come from batches.meta.txt when present.
SequenceDataset load_cifar10(std::string_view split, const std::string& dir);

}  // namespace diffuser::experiments
