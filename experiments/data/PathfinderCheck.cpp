// Why: connectivity from pixels only: breadth-first labelling of components over plain
// threshold masks, with a neighbourhood widened to bridge the gaps between dashes.
#include "experiments/data/PathfinderCheck.hpp"

#include <algorithm>
#include <vector>

#include "core/Error.hpp"

namespace diffuser::experiments {

namespace {

// Labels the components of `mask` (1..count, 0 outside the mask), two mask pixels being
// neighbours at Chebyshev distance <= reach (reach 1: 8-connectivity); returns count.
std::int32_t label_components(const std::vector<std::uint8_t>& mask, std::int32_t w, std::int32_t h,
                              std::int32_t reach, std::vector<std::int32_t>& labels) {
  labels.assign(mask.size(), 0);
  std::vector<std::int32_t> queue;
  std::int32_t count = 0;
  for (std::int32_t start = 0; start < w * h; ++start) {
    if (!mask[static_cast<std::size_t>(start)] || labels[static_cast<std::size_t>(start)] != 0) {
      continue;
    }
    ++count;
    labels[static_cast<std::size_t>(start)] = count;
    queue.assign(1, start);
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::int32_t x = queue[head] % w, y = queue[head] / w;
      for (std::int32_t ny = std::max(0, y - reach); ny <= std::min(h - 1, y + reach); ++ny) {
        for (std::int32_t nx = std::max(0, x - reach); nx <= std::min(w - 1, x + reach); ++nx) {
          const auto q = static_cast<std::size_t>(ny * w + nx);
          if (mask[q] && labels[q] == 0) {
            labels[q] = count;
            queue.push_back(ny * w + nx);
          }
        }
      }
    }
  }
  return count;
}

}  // namespace

PathfinderVerdict check_pathfinder_image(std::span<const std::int32_t> pixels, std::int32_t width,
                                         std::int32_t height,
                                         const PathfinderCheckOptions& options) {
  DIFFUSER_CHECK(width >= 1 && height >= 1, "Pathfinder check: image size {}x{} is empty", width,
                 height);
  DIFFUSER_CHECK(
      pixels.size() == static_cast<std::size_t>(width) * static_cast<std::size_t>(height),
      "Pathfinder check: {} pixels given for a {}x{} image", pixels.size(), width, height);
  DIFFUSER_CHECK(options.ink_threshold >= 1 && options.ink_threshold <= options.marker_threshold &&
                     options.marker_threshold <= 255,
                 "Pathfinder check: thresholds ink {} and marker {} must satisfy 1 <= ink <= "
                 "marker <= 255",
                 options.ink_threshold, options.marker_threshold);
  DIFFUSER_CHECK(options.link_distance >= 1 && options.link_distance <= 8,
                 "Pathfinder check: link_distance {} outside 1..8", options.link_distance);
  std::vector<std::uint8_t> ink(pixels.size(), 0), marker(pixels.size(), 0);
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    DIFFUSER_CHECK(pixels[i] >= 0 && pixels[i] <= 255,
                   "Pathfinder check: pixel {} has value {} outside 0..255", i, pixels[i]);
    ink[i] = pixels[i] >= options.ink_threshold;
    marker[i] = pixels[i] >= options.marker_threshold;
  }
  PathfinderVerdict verdict;
  std::vector<std::int32_t> marker_labels, ink_labels;
  verdict.markers = label_components(marker, width, height, 1, marker_labels);
  verdict.components = label_components(ink, width, height, options.link_distance, ink_labels);
  if (verdict.markers != 2) return verdict;
  // One pixel of each marker component; markers are ink, so they lie in ink components.
  std::int32_t component_of[3] = {0, 0, 0};
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    if (marker_labels[i] > 0 && component_of[marker_labels[i]] == 0) {
      component_of[marker_labels[i]] = ink_labels[i];
    }
  }
  verdict.label = component_of[1] == component_of[2] ? 1 : 0;
  return verdict;
}

}  // namespace diffuser::experiments
