// Why: the `fortunes` packages give an offline, license-clean byte-level text classification
// task: about 14k short texts in some 40 categories (one file per category), and further
// languages in fortunes-de, -es, -it, ... (one directory per language). This builder turns an
// installed fortunes tree into train/val/test `label<TAB>text` sets, deterministically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/data/TextDataset.hpp"

namespace diffuser::experiments {

/// How fortunes are grouped into classes.
enum class FortunesGrouping {
  kCategory,  ///< one class per fortune file directly in `dir` (name = file name, `.fortunes`
              ///< suffix removed); subdirectories are ignored
  kLanguage,  ///< one class per subdirectory of `dir` (name = directory name, e.g. `de`), plus
              ///< `root_language` for the files directly in `dir` (except links into one of
              ///< its subdirectories, as fortunes-it installs: they count for that language)
};

/// Options of build_fortunes_dataset. Entries are filtered, then de-duplicated (a text found
/// twice in one class is kept once; a text found in two classes is dropped from both, as its
/// label is ambiguous), then split per class (stratified): after a seeded shuffle of the class,
/// round(n * test_fraction) entries go to test, round(n * val_fraction) to val, the rest to
/// train. Each split is then shuffled (seeded) so classes are interleaved.
struct FortunesOptions {
  std::string dir = "/usr/share/games/fortunes";
  FortunesGrouping grouping = FortunesGrouping::kCategory;
  std::vector<std::string> classes;  ///< keep only these classes (empty: all found)
  std::string root_language = "en";  ///< kLanguage: class of the files in `dir` itself
  std::vector<std::string> exclude_dirs = {"off"};  ///< kLanguage: subdirectories to skip
  std::size_t min_bytes = 1;                        ///< drop entries shorter than this
  std::size_t max_bytes = 0;                        ///< drop entries longer than this (0: no limit)
  std::size_t min_per_class = 10;                   ///< drop classes left with fewer entries
  std::size_t max_per_class = 0;                    ///< keep a seeded random subset of at most this
                                                    ///< many entries per class (0: all)
  double val_fraction = 0.1;
  double test_fraction = 0.1;
  std::uint64_t seed = 0;
};

/// The entries of one fortune file: texts separated by lines holding only `%` (CRLF
/// accepted); each entry is its lines joined by `\n` without a final line end. Entries that are
/// empty or only whitespace are skipped.
std::vector<std::string> read_fortune_file(const std::string& path);

/// Builds the three splits. Classes are sorted by name (label id = position). A fortune file is
/// a regular file (or a link to one) whose name does not start with `.` and does not end in
/// `.dat` (strfile index) or `.u8` (Debian's UTF-8 alias links). Throws diffuser::Error if the
/// directory is missing, a requested class does not exist, fewer than 2 classes remain, or a
/// fraction is outside [0, 1) or val + test >= 1.
TextSplits build_fortunes_dataset(const FortunesOptions& options);

}  // namespace diffuser::experiments
