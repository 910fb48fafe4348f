// Why: CIFAR-10 binary records -> grayscale pixel sequences, with size and label checks.
#include "experiments/data/Cifar10.hpp"

#include <filesystem>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "experiments/data/CompressedFile.hpp"

namespace diffuser::experiments {

const std::vector<std::string>& cifar10_class_names() {
  static const std::vector<std::string> names = {
      "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return names;
}

SequenceDataset read_cifar10_binary(const std::vector<std::string>& files,
                                    const std::string& name) {
  DIFFUSER_CHECK(!files.empty(), "CIFAR-10: no batch files given");
  constexpr std::size_t kPixels = 1024;
  SequenceDataset data(name, 256, 10, 0);
  std::vector<std::int32_t> tokens(kPixels);
  for (const auto& path : files) {
    const std::string bytes = read_compressed_file(path);
    DIFFUSER_CHECK(!bytes.empty() && bytes.size() % kCifar10RecordBytes == 0,
                   "{}: {} bytes is not a positive multiple of the {}-byte CIFAR-10 record "
                   "(truncated or not a CIFAR-10 binary batch)",
                   path, bytes.size(), kCifar10RecordBytes);
    const std::size_t records = bytes.size() / kCifar10RecordBytes;
    data.reserve(records, records * kPixels);
    const auto* raw = reinterpret_cast<const std::uint8_t*>(bytes.data());
    for (std::size_t r = 0; r < records; ++r) {
      const std::uint8_t* rec = raw + r * kCifar10RecordBytes;
      DIFFUSER_CHECK(rec[0] <= 9, "{}: record {} has label byte {} (expected 0..9)", path, r,
                     static_cast<unsigned>(rec[0]));
      const std::uint8_t* red = rec + 1;
      const std::uint8_t* green = red + kPixels;
      const std::uint8_t* blue = green + kPixels;
      for (std::size_t p = 0; p < kPixels; ++p) {
        tokens[p] = cifar10_gray(red[p], green[p], blue[p]);
      }
      data.add(tokens, rec[0]);
    }
  }
  return data;
}

SequenceDataset load_cifar10(std::string_view split, const std::string& dir) {
  DIFFUSER_CHECK(split == "train" || split == "test",
                 "CIFAR-10 split must be 'train' or 'test' (got '{}')", split);
  const std::filesystem::path root(dir);
  std::vector<std::string> files;
  if (split == "train") {
    for (int b = 1; b <= 5; ++b)
      files.push_back((root / fmt::format("data_batch_{}.bin", b)).string());
  } else {
    files.push_back((root / "test_batch.bin").string());
  }
  for (const auto& f : files) {
    DIFFUSER_CHECK(std::filesystem::exists(f),
                   "CIFAR-10: '{}' does not exist (expected the extracted binary version, "
                   "cifar-10-batches-bin)",
                   f);
  }
  SequenceDataset data = read_cifar10_binary(files, "cifar10:" + std::string(split));
  std::vector<std::string> names = cifar10_class_names();
  const auto meta = root / "batches.meta.txt";
  if (std::filesystem::exists(meta)) {
    const std::string text = read_text_file(meta.string());
    std::vector<std::string> read;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) read.push_back(line);
    }
    DIFFUSER_CHECK(read.size() == 10, "{}: expected 10 class names, found {}", meta.string(),
                   read.size());
    names = read;
  }
  data.set_class_names(names);
  return data;
}

}  // namespace diffuser::experiments
