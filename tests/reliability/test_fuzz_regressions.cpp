// Why: every input that once crashed a reader, hung it or made it allocate out of proportion
// (found by the libFuzzer harnesses or by review; docs/reliability.md) is stored under
// tests/data/fuzz_regressions/<reader>/ and must now be refused with diffuser::Error. The seed
// corpora under fuzz/corpus/<reader>/ are replayed too: each must end in a value or
// diffuser::Error. Inputs go through the harnesses' own feed functions (fuzz/ReaderFeeds.hpp),
// so a stored file means exactly what it meant to the fuzzer.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "fuzz/ReaderFeeds.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
namespace fs = std::filesystem;

namespace {

using Feed = std::function<void(fuzz::Bytes)>;

const std::map<std::string, Feed>& feeds() {
  static const std::map<std::string, Feed> all = {
      {"matrix_market", fuzz::feed_matrix_market},
      {"edge_list", fuzz::feed_edge_list},
      {"npy", fuzz::feed_npy},
      {"config", fuzz::feed_config},
      {"listops_tsv", fuzz::feed_listops_tsv},
      {"idx", fuzz::feed_idx},
      {"checkpoint", fuzz::feed_checkpoint},
  };
  return all;
}

/// The files of `dir` (sorted, so failures are reported in a stable order).
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint8_t> bytes_of(const fs::path& p) {
  const std::string s = read_text_file(p.string());
  return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("stored crash inputs are refused with diffuser::Error", "[reliability][fuzz]") {
  const fs::path root = fs::path(DIFFUSER_SOURCE_DIR) / "tests/data/fuzz_regressions";
  REQUIRE(fs::exists(root));
  int count = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    const std::string reader = dir.path().filename().string();
    INFO("reader folder " << reader);
    REQUIRE(feeds().count(reader) == 1);
    for (const auto& file : files_in(dir.path())) {
      INFO("input " << file.string());
      const auto bytes = bytes_of(file);
      CHECK_THROWS_AS(feeds().at(reader)(bytes), Error);
      ++count;
    }
  }
  CHECK(count >= 6);
}

TEST_CASE("seed corpora end in a value or diffuser::Error", "[reliability][fuzz]") {
  const fs::path root = fs::path(DIFFUSER_SOURCE_DIR) / "fuzz/corpus";
  for (const auto& [reader, feed] : feeds()) {
    const auto files = files_in(root / reader);
    INFO("reader " << reader);
    CHECK(files.size() >= 2);
    int accepted = 0;
    for (const auto& file : files) {
      INFO("input " << file.string());
      const auto bytes = bytes_of(file);
      try {
        feed(bytes);
        ++accepted;
      } catch (const Error&) {
      }
    }
    // Seeds are mostly valid files: they are where the fuzzer starts from.
    CHECK(accepted >= 1);
  }
}
