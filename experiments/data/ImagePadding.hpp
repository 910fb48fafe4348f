// Why: a border of background pixels lets a 28x28 image set run at 32x32 = 1,024 tokens, the
// length where long-range attention matters (as LeNet-5 fed 28x28 MNIST digits into a 32x32
// input: LeCun et al., "Gradient-based learning applied to document recognition", 1998, §III.A)
// and puts the image's content away from the sequence's first tokens, so a local attention
// window read through a CLS token sees only background unless its receptive field grows.
#pragma once

#include <cstdint>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// A copy of `images` (row-major height x width pixel sequences) in which every image gets
/// `pad` rows / columns of token `background` on all four sides: sequences of (height + 2 pad) x
/// (width + 2 pad) tokens, same labels and metadata. pad = 0 returns a copy. Throws
/// diffuser::Error naming the dataset and the example when a sequence does not hold
/// height x width tokens, for a dataset that already has a CLS token, for pad outside [0, 64],
/// or a background outside the vocabulary.
SequenceDataset pad_images(const SequenceDataset& images, std::int32_t height, std::int32_t width,
                           std::int32_t pad, std::int32_t background = 0);

}  // namespace diffuser::experiments
