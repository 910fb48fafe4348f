// Why: LRA's Pathfinder files (lra_release/pathfinder32/curv_baseline/ and the 64-pixel set) are
// PNG images listed by text metadata files; this reads them, or the same layout written by
// write_pathfinder_files, into the pixel-sequence dataset every image task uses.
#pragma once

#include <cstdint>
#include <string>

#include "experiments/data/SequenceDataset.hpp"

namespace diffuser::experiments {

/// Reads a Pathfinder set from `dir` (e.g. pathfinder32/curv_baseline): every file
/// metadata/*.npy (text; taken in numeric order of the name before ".npy", then by name),
/// each non-blank line split on whitespace into at least 4 fields "folder file index label ...",
/// the image being dir/folder/file (a PNG, read by read_png) and the label field "0" or "1".
/// Example order: metadata files in that order, lines in file order. Each image becomes
/// side^2 tokens (row-major grey levels 0..255, vocab 256, pad 0), 2 classes named
/// "disconnected", "connected"; the dataset is named "pathfinder<side>".
///
/// `size` > 0 requires every image to be size x size; 0 takes the first image's side and
/// requires all to match it (and to be square). Throws diffuser::Error naming the file (and
/// the metadata line for per-image errors) when `dir` or metadata/ is missing, metadata/ holds
/// no .npy file, a metadata file is a binary numpy array, a line has fewer than 4 fields or a
/// label other than 0 or 1, an image is missing, not a valid PNG or of the wrong size, or no
/// image is listed at all.
SequenceDataset load_pathfinder(const std::string& dir, std::int32_t size = 0);

}  // namespace diffuser::experiments
