// Why: see ImagePadding.hpp.
#include "experiments/data/ImagePadding.hpp"

#include <algorithm>
#include <vector>

#include "core/Error.hpp"

namespace diffuser::experiments {

SequenceDataset pad_images(const SequenceDataset& images, std::int32_t height, std::int32_t width,
                           std::int32_t pad, std::int32_t background) {
  DIFFUSER_CHECK(height >= 1 && width >= 1, "{}: image size {}x{} must be positive", images.name(),
                 height, width);
  DIFFUSER_CHECK(pad >= 0 && pad <= 64, "{}: image padding {} outside [0, 64]", images.name(), pad);
  DIFFUSER_CHECK(background >= 0 && background < images.vocab_size(),
                 "{}: background token {} outside the vocabulary [0, {})", images.name(),
                 background, images.vocab_size());
  DIFFUSER_CHECK(images.cls_id() < 0, "{}: pad the images before adding a CLS token",
                 images.name());
  const std::size_t h = static_cast<std::size_t>(height), w = static_cast<std::size_t>(width);
  const std::size_t p = static_cast<std::size_t>(pad), pw = w + 2 * p, ph = h + 2 * p;
  SequenceDataset out(images.name(), images.vocab_size(), images.num_classes(), images.pad_id());
  out.set_class_names(images.class_names());
  out.reserve(images.size(), images.size() * ph * pw);
  std::vector<std::int32_t> buf(ph * pw);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto t = images.tokens(i);
    DIFFUSER_CHECK(t.size() == h * w, "{}: example {} holds {} pixels, not {}x{} = {}",
                   images.name(), i, t.size(), height, width, h * w);
    std::fill(buf.begin(), buf.end(), background);
    for (std::size_t r = 0; r < h; ++r) {
      std::copy_n(t.begin() + static_cast<std::ptrdiff_t>(r * w), w,
                  buf.begin() + static_cast<std::ptrdiff_t>((r + p) * pw + p));
    }
    out.add(buf, images.label(i));
  }
  return out;
}

}  // namespace diffuser::experiments
