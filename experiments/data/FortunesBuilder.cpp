// Why: fortunes tree -> deterministic stratified text splits (see FortunesBuilder.hpp).
#include "experiments/data/FortunesBuilder.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "experiments/data/CompressedFile.hpp"

namespace diffuser::experiments {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Fortune files directly in `dir`, sorted by path.
std::vector<fs::path> fortune_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  DIFFUSER_CHECK(!ec, "fortunes: cannot list '{}': {}", dir.string(), ec.message());
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || ends_with(name, ".dat") || ends_with(name, ".u8"))
      continue;
    if (!fs::is_regular_file(entry.path(), ec)) continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

template <typename T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = rng.uniform_below(i);
    std::swap(v[i - 1], v[j]);
  }
}

bool only_whitespace(std::string_view s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

}  // namespace

std::vector<std::string> read_fortune_file(const std::string& path) {
  const std::string content = read_compressed_file(path);
  std::vector<std::string> entries;
  std::string current;
  bool has_line = false;
  auto flush = [&] {
    if (has_line && !only_whitespace(current)) entries.push_back(current);
    current.clear();
    has_line = false;
  };
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    std::string_view line(content.data() + pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == "%") {
      flush();
      continue;
    }
    if (has_line) current += '\n';
    current += line;
    has_line = true;
  }
  flush();
  return entries;
}

TextSplits build_fortunes_dataset(const FortunesOptions& o) {
  DIFFUSER_CHECK(std::isfinite(o.val_fraction) && o.val_fraction >= 0 && o.val_fraction < 1,
                 "fortunes: val fraction {} outside [0, 1)", o.val_fraction);
  DIFFUSER_CHECK(std::isfinite(o.test_fraction) && o.test_fraction >= 0 && o.test_fraction < 1,
                 "fortunes: test fraction {} outside [0, 1)", o.test_fraction);
  DIFFUSER_CHECK(o.val_fraction + o.test_fraction < 1,
                 "fortunes: val + test fractions ({} + {}) leave nothing to train on",
                 o.val_fraction, o.test_fraction);
  DIFFUSER_CHECK(o.max_bytes == 0 || o.max_bytes >= o.min_bytes,
                 "fortunes: max_bytes {} is below min_bytes {}", o.max_bytes, o.min_bytes);
  std::error_code ec;
  DIFFUSER_CHECK(fs::is_directory(o.dir, ec),
                 "fortunes: '{}' is not a directory (install the "
                 "Debian package 'fortunes' or pass the directory holding fortune files)",
                 o.dir);

  // Class name -> its files.
  std::map<std::string, std::vector<fs::path>> sources;
  if (o.grouping == FortunesGrouping::kCategory) {
    for (const auto& file : fortune_files(o.dir)) {
      std::string name = file.filename().string();
      if (ends_with(name, ".fortunes")) name.resize(name.size() - 9);
      sources[name].push_back(file);
    }
  } else {
    if (!o.root_language.empty()) {
      // Debian's language packages link their files into the top level too (e.g.
      // italia -> it/italia, so that `fortune` finds them): such links belong to their
      // language directory, not to the root language.
      const fs::path root = fs::canonical(o.dir, ec);
      auto files = fortune_files(o.dir);
      std::erase_if(files, [&](const fs::path& f) {
        const fs::path target = fs::canonical(f, ec);
        if (ec || target.parent_path() == root) return false;
        const auto rel = target.lexically_relative(root);
        return !rel.empty() && *rel.begin() != "..";
      });
      if (!files.empty()) sources[o.root_language] = std::move(files);
    }
    fs::directory_iterator it(o.dir, ec);
    DIFFUSER_CHECK(!ec, "fortunes: cannot list '{}': {}", o.dir, ec.message());
    for (const auto& entry : it) {
      if (!entry.is_directory(ec)) continue;
      const std::string name = entry.path().filename().string();
      if (std::find(o.exclude_dirs.begin(), o.exclude_dirs.end(), name) != o.exclude_dirs.end())
        continue;
      DIFFUSER_CHECK(name != o.root_language,
                     "fortunes: subdirectory '{}' has the name of the root language; choose "
                     "another root language",
                     name);
      auto files = fortune_files(entry.path());
      if (!files.empty()) sources[name] = std::move(files);
    }
  }
  if (!o.classes.empty()) {
    std::map<std::string, std::vector<fs::path>> kept;
    for (const auto& name : o.classes) {
      const auto it = sources.find(name);
      if (it == sources.end()) {
        std::string available;
        for (const auto& [n, files] : sources) available += (available.empty() ? "" : ", ") + n;
        fail("fortunes: class '{}' not found in '{}' (available: {})", name, o.dir, available);
      }
      kept.insert(*it);
    }
    sources = std::move(kept);
  }

  // Read and filter entries; find texts that occur in more than one class.
  std::map<std::string, std::vector<std::string>> entries;
  std::map<std::string, std::set<std::string>> classes_of_text;
  for (const auto& [name, files] : sources) {
    std::set<std::string> unique;
    for (const auto& file : files) {
      for (auto& text : read_fortune_file(file.string())) {
        if (text.size() < o.min_bytes) continue;
        if (o.max_bytes > 0 && text.size() > o.max_bytes) continue;
        unique.insert(std::move(text));
      }
    }
    for (const auto& text : unique) classes_of_text[text].insert(name);
    entries[name].assign(unique.begin(), unique.end());
  }
  TextSplits splits;
  Rng rng(o.seed);
  std::vector<std::pair<std::string, std::vector<std::string>>> kept;
  for (auto& [name, texts] : entries) {
    std::erase_if(texts, [&](const std::string& t) { return classes_of_text[t].size() > 1; });
    if (texts.size() >= std::max<std::size_t>(o.min_per_class, 1)) {
      kept.emplace_back(name, std::move(texts));
    }
  }
  DIFFUSER_CHECK(kept.size() >= 2,
                 "fortunes: {} class(es) with at least {} entries in '{}'; need 2 or more",
                 kept.size(), o.min_per_class, o.dir);
  std::vector<std::string> names;
  for (const auto& [name, texts] : kept) names.push_back(name);
  splits.train.class_names = splits.val.class_names = splits.test.class_names = names;
  for (std::size_t c = 0; c < kept.size(); ++c) {
    auto& texts = kept[c].second;
    shuffle(texts, rng);
    if (o.max_per_class > 0 && texts.size() > o.max_per_class) texts.resize(o.max_per_class);
    const std::size_t n = texts.size();
    auto n_test = static_cast<std::size_t>(std::llround(static_cast<double>(n) * o.test_fraction));
    auto n_val = static_cast<std::size_t>(std::llround(static_cast<double>(n) * o.val_fraction));
    // Rounding both parts up could leave train empty: keep at least one training entry.
    n_test = std::min(n_test, n - 1);
    n_val = std::min(n_val, n - 1 - n_test);
    const auto label = static_cast<std::int32_t>(c);
    for (std::size_t i = 0; i < n; ++i) {
      TextDataset& part = i < n_test ? splits.test : i < n_test + n_val ? splits.val : splits.train;
      part.examples.push_back({label, std::move(texts[i])});
    }
  }
  shuffle(splits.train.examples, rng);
  shuffle(splits.val.examples, rng);
  shuffle(splits.test.examples, rng);
  return splits;
}

}  // namespace diffuser::experiments
