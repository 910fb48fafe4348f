// Why: outputs are written atomically; a failing writer must leave the old file intact.
#include <filesystem>
#include <stdexcept>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;

TEST_CASE("write_atomic replaces the file and leaves no temporary behind", "[cpu][io]") {
  testing::TempDir dir;
  const auto path = dir.file("out.txt");
  write_text_atomic(path, "first");
  CHECK(read_text_file(path) == "first");
  write_text_atomic(path, "second");
  CHECK(read_text_file(path) == "second");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  CHECK(files == 1);
}

TEST_CASE("a writer that throws leaves the previous content intact", "[cpu][io]") {
  testing::TempDir dir;
  const auto path = dir.file("out.txt");
  write_text_atomic(path, "good");
  CHECK_THROWS_AS(write_atomic(path,
                               [](std::ostream& out) {
                                 out << "half";
                                 throw std::runtime_error("interrupted");
                               }),
                  std::runtime_error);
  CHECK(read_text_file(path) == "good");
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  CHECK(files == 1);
}

TEST_CASE("an unwritable path gives an error naming it", "[cpu][io]") {
  CHECK_THROWS_WITH(write_text_atomic("/nonexistent-dir/out.txt", "x"),
                    Catch::Contains("/nonexistent-dir/out.txt"));
}
