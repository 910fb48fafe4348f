// Why: metadata lines -> PNG files -> pixel sequences, every failure naming the file and line.
#include "experiments/data/PathfinderLoader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <tuple>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/PngImage.hpp"

namespace diffuser::experiments {

namespace {

namespace fs = std::filesystem;

// Metadata files in numeric order of their stem ("2.npy" before "10.npy"), others after by name.
std::vector<fs::path> metadata_files(const fs::path& meta_dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(meta_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".npy") {
      files.push_back(entry.path());
    }
  }
  auto key = [](const fs::path& p) {
    const std::string stem = p.stem().string();
    const bool numeric =
        !stem.empty() && stem.size() < 18 &&
        std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; });
    return std::make_tuple(!numeric, numeric ? std::stoll(stem) : 0LL, p.filename().string());
  };
  std::sort(files.begin(), files.end(),
            [&](const fs::path& a, const fs::path& b) { return key(a) < key(b); });
  return files;
}

}  // namespace

SequenceDataset load_pathfinder(const std::string& dir, std::int32_t size) {
  std::error_code ec;
  DIFFUSER_CHECK(fs::is_directory(dir, ec), "Pathfinder: '{}' is not a directory", dir);
  const fs::path meta_dir = fs::path(dir) / "metadata";
  DIFFUSER_CHECK(fs::is_directory(meta_dir, ec),
                 "Pathfinder: '{}' has no metadata/ directory (expected LRA's layout: imgs/ and "
                 "metadata/*.npy)",
                 dir);
  const auto files = metadata_files(meta_dir);
  DIFFUSER_CHECK(!files.empty(), "Pathfinder: '{}' holds no .npy metadata file", meta_dir.string());
  SequenceDataset data;
  std::vector<std::int32_t> tokens;
  for (const fs::path& file : files) {
    const std::string name = file.string();
    const std::string text = read_text_file(name);
    DIFFUSER_CHECK(text.rfind("\x93NUMPY", 0) != 0,
                   "{}: is a binary numpy array; expected LRA's text metadata (one line \"folder "
                   "file index label ...\" per image)",
                   name);
    std::istringstream lines(text);
    std::string line;
    for (std::size_t line_no = 1; std::getline(lines, line); ++line_no) {
      std::istringstream words(line);
      std::vector<std::string> fields;
      for (std::string w; words >> w;) fields.push_back(w);
      if (fields.empty()) continue;
      DIFFUSER_CHECK(fields.size() >= 4,
                     "{}:{}: expected at least 4 fields \"folder file index label ...\", got {}",
                     name, line_no, fields.size());
      DIFFUSER_CHECK(fields[3] == "0" || fields[3] == "1", "{}:{}: label '{}' is not 0 or 1", name,
                     line_no, fields[3]);
      const std::string image_path = (fs::path(dir) / fields[0] / fields[1]).string();
      DIFFUSER_CHECK(fs::is_regular_file(image_path, ec), "{}:{}: image '{}' does not exist", name,
                     line_no, image_path);
      PngImage image;
      try {
        image = read_png(image_path);
      } catch (const Error& e) {
        fail("{}:{}: {}", name, line_no, e.what());
      }
      if (data.empty() && data.name().empty()) {
        DIFFUSER_CHECK(image.width == image.height, "{}:{}: image '{}' is {}x{}, not square", name,
                       line_no, image_path, image.width, image.height);
        if (size == 0) size = image.width;
        data = SequenceDataset(fmt::format("pathfinder{}", size), 256, 2, 0);
        data.set_class_names({"disconnected", "connected"});
        tokens.resize(static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
      }
      DIFFUSER_CHECK(image.width == size && image.height == size,
                     "{}:{}: image '{}' is {}x{}, expected {}x{}", name, line_no, image_path,
                     image.width, image.height, size, size);
      std::copy(image.pixels.begin(), image.pixels.end(), tokens.begin());
      data.add(tokens, fields[3] == "1" ? 1 : 0);
    }
  }
  DIFFUSER_CHECK(!data.empty(), "Pathfinder: the metadata files in '{}' list no image",
                 meta_dir.string());
  return data;
}

}  // namespace diffuser::experiments
