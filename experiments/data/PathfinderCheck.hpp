// Why: a Pathfinder label that is only "correct by construction" is as good as the drawing code.
// This checker decides the label again from the pixels alone (thresholds, connected
// components; no code shared with PathfinderGenerator), so a test can verify every generated
// image and a user can audit a set made elsewhere.
#pragma once

#include <cstdint>
#include <span>

namespace diffuser::experiments {

/// Thresholds of the checker. The defaults match PathfinderGenerator's defaults (snake grey
/// levels 112..200, markers 255, consecutive dashes at most 2 pixels apart, different snakes
/// at least 3 apart).
struct PathfinderCheckOptions {
  std::int32_t ink_threshold = 64;      ///< pixel >= this is ink (snakes and markers)
  std::int32_t marker_threshold = 224;  ///< pixel >= this is marker
  /// Ink pixels at Chebyshev distance <= link_distance are neighbours. This is the same as
  /// dilating the ink mask by a link_distance x link_distance square and taking 8-connected
  /// components (a (2r+1)-square dilation of radius r is link_distance 2r + 1; 1 is plain
  /// 8-connectivity). The default 2 bridges one blank pixel between dashes and keeps snakes
  /// whose pixels are >= 3 apart separate.
  std::int32_t link_distance = 2;
};

/// What the checker found.
struct PathfinderVerdict {
  std::int32_t label = -1;      ///< 1 connected, 0 not connected, -1 undecidable (markers != 2)
  std::int32_t markers = 0;     ///< 8-connected components of marker pixels found
  std::int32_t components = 0;  ///< components of the ink pixels (linked at link_distance)
};

/// Decides the Pathfinder label of a width x height image (row-major grey levels 0..255):
/// markers are the 8-connected components of pixels >= marker_threshold (exactly two are
/// required, else label -1); the label is 1 iff both lie in one component of the ink pixels
/// (>= ink_threshold), two ink pixels being neighbours at Chebyshev distance <= link_distance.
/// Throws diffuser::Error if pixels.size() != width * height, a side is < 1, a value is
/// outside 0..255 or an option is out of range (thresholds in 1..255, ink <= marker,
/// link_distance in 1..8).
PathfinderVerdict check_pathfinder_image(std::span<const std::int32_t> pixels, std::int32_t width,
                                         std::int32_t height,
                                         const PathfinderCheckOptions& options = {});

}  // namespace diffuser::experiments
