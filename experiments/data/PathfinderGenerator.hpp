// Why: the Pathfinder task needs reasoning over the whole image: whether two markers are joined
// by one dashed contour can depend on pixels a thousand positions apart in the sequence, which
// is where diffusion over a sparse pattern should beat a local window. The official files are
// large and not downloadable here, so a seeded generator makes sets of the same kind, with the
// label correct by construction and checkable from the pixels alone (PathfinderCheck.hpp).
//
// Task facts followed here:
// - Linsley, Kim, Veerabadran, Windolf, Serre, "Learning long-range spatial dependencies with
//   horizontal gated recurrent units", NeurIPS 2018: each image holds two circular markers and
//   several curved paths made of short dashed segments ("paddles") with bounded turning between
//   neighbouring segments; the label is positive when the markers sit on the two ends of one
//   path and negative when they sit on two different paths; distractor paths that touch no
//   marker are added; difficulty grows with path length (6, 9, 14 paddles); classes balanced.
// - Tay et al., "Long Range Arena: a benchmark for efficient transformers", ICLR 2021:
//   Pathfinder is that task on 32x32 grey images read as sequences of 1,024 pixels (vocabulary
//   256), a binary label; its files (made with Linsley's generator, e.g. contour length 14,
//   paddle length 2, marker radius 1.5 at 32 px; LRA's builder also has a 64x64 = 4,096 set)
//   are PNG images under imgs/ with text metadata/*.npy lines "dir file index label ...".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// Most examples one generate() call may be asked for (a guard against a mistyped count).
inline constexpr std::size_t kMaxPathfinderExamples = std::size_t{1} << 28;

/// Directions are multiples of 2 pi / kPathfinderAngles (the generator works in fixed point,
/// so the same seed gives the same pixels on every machine and compiler).
inline constexpr std::int32_t kPathfinderAngles = 256;

/// Geometry of a Pathfinder-like image. Use pathfinder_options(size) for the defaults.
///
/// A snake is `segments` dashes. A dash is a straight stroke dash_length pixels long, one
/// pixel wide; the next dash starts gap_length pixels further along the same direction and
/// turns by a uniform integer in [-max_turn, max_turn] angle steps (bounded curvature), so the
/// last pixel of a dash and the first of the next are at Chebyshev distance <= gap_length.
/// Every image has two main snakes of contour_segments dashes and `distractors` snakes of
/// distractor_segments dashes. Pixels of different snakes are at Chebyshev distance >= 3
/// (markers count as pixels of their snake). Markers are filled marker_side x marker_side
/// squares centred on a snake's end pixel: label 1 puts them on the two ends of main snake 1,
/// label 0 on one end of each main snake; either way their centres are at Chebyshev distance
/// >= seed_distance. Snake pixels get grey levels uniform in [ink_min, ink_max], markers 255,
/// background 0.
struct PathfinderOptions {
  std::int32_t size = 32;                  ///< image side in pixels (sequence length size^2)
  std::int32_t contour_segments = 12;      ///< dashes of each of the two main snakes
  std::int32_t distractor_segments = 3;    ///< dashes of each distractor snake
  std::int32_t distractors = 5;            ///< distractor snakes per image
  std::int32_t dash_length = 2;            ///< length of a dash in pixels (>= 1)
  std::int32_t gap_length = 2;             ///< gap between dashes in pixels, 1 or 2
  std::int32_t max_turn = 24;              ///< most turning between dashes, in angle steps
  std::int32_t marker_side = 3;            ///< side of a marker square (odd, >= 1)
  std::int32_t seed_distance = 7;          ///< least Chebyshev distance of the marker centres
  std::int32_t ink_min = 112;              ///< darkest snake grey level (>= 1)
  std::int32_t ink_max = 200;              ///< brightest snake grey level (< 255)
  std::uint64_t seed = 0;                  ///< seed of the image stream
  std::int32_t max_image_attempts = 2000;  ///< redraws of one image before giving up
};

/// The defaults for a side of 32 (LRA's Pathfinder, 1,024 pixels) or 64 (4,096 pixels):
/// 32: 12-dash contours, 5 distractors of 3 dashes, dash 2, max turn 24 (34 degrees),
///     marker 3x3, seed distance 7;
/// 64: 16-dash contours, 10 distractors of 5 dashes, dash 3, max turn 20 (28 degrees),
///     marker 5x5, seed distance 12. Gap 2 in both.
/// Throws diffuser::Error for another size.
PathfinderOptions pathfinder_options(std::int32_t size, std::uint64_t seed = 0);

/// Draws Pathfinder-like images with the label decided by construction.
class PathfinderGenerator {
 public:
  /// Validates the options; throws diffuser::Error naming the bad field.
  explicit PathfinderGenerator(const PathfinderOptions& options);

  /// `count` examples: sequences of size^2 grey levels (row-major, vocab 256, pad 0), labels
  /// 0 (markers on different snakes) and 1 (markers joined by one snake), class names
  /// "disconnected", "connected". Exactly count / 2 examples have label 1 (the rest label 0),
  /// in a seeded random order. Example i is drawn from its own stream (seed, i) given its
  /// label, so the same options give the same bytes on every machine. Throws if an image
  /// cannot be placed within max_image_attempts redraws (geometry too crowded for the size).
  SequenceDataset generate(std::size_t count) const;

  /// One image (size^2 grey levels, row-major) with the given label, drawn from stream
  /// (seed, index).
  std::vector<std::uint8_t> draw(std::int32_t label, std::uint64_t index) const;

  const PathfinderOptions& options() const { return options_; }

 private:
  PathfinderOptions options_;
};

/// Default images per imgs/<batch>/ folder and metadata/<batch>.npy file.
inline constexpr std::size_t kPathfinderBatchSize = 1000;

/// Writes a Pathfinder set (as made by PathfinderGenerator, or any dataset of size x size
/// images with labels 0/1) into `out_dir` (created if missing), in LRA's layout:
///   imgs/<b>/sample_<j>.png   image i = b * batch_size + j, 8-bit grey PNG
///   metadata/<b>.npy          text (despite the name, as in LRA), one line per image:
///     "imgs/<b> sample_<j>.png <j> <label> <max_turn> <contour_segments> <distractor_segments>
///      <dash_length> 1 <gap_length> 1"
/// (the fields of Linsley's generator: folder, file, index, label, continuity, contour length,
/// distractor length, paddle length, paddle thickness, paddle margin, contrast count), plus
/// the compact copy images-idx3-ubyte [N, size, size] and labels-idx1-ubyte [N] (IDX, read by
/// load_idx_classification). Every file is written atomically; a batch's metadata after its
/// images, the IDX pair last, so an interrupted write never lists a missing image.
void write_pathfinder_files(const std::string& out_dir, const SequenceDataset& data,
                            const PathfinderOptions& options,
                            std::size_t batch_size = kPathfinderBatchSize);

}  // namespace diffuser::experiments
