// Why: outputs are written atomically; a failing writer must leave the old file intact.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

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

TEST_CASE("a successful write removes temporaries of killed writers, not of live ones",
          "[cpu][io]") {
  testing::TempDir dir;
  const auto path = dir.file("ckpt.bin");
  // A pid that surely is not running: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  REQUIRE(::waitpid(child, nullptr, 0) == child);
  const std::string dead = path + ".tmp." + std::to_string(child);
  const std::string live = path + ".tmp.1";  // init is always alive
  const std::string other = dir.file("other.bin.tmp." + std::to_string(child));
  const std::string odd = path + ".tmp.notapid";
  for (const auto& f : {dead, live, other, odd}) write_text_atomic(f, "leftover");
  write_text_atomic(path, "new");
  CHECK(read_text_file(path) == "new");
  CHECK_FALSE(std::filesystem::exists(dead));
  CHECK(std::filesystem::exists(live));
  CHECK(std::filesystem::exists(other));  // another file's temporary is not ours to judge
  CHECK(std::filesystem::exists(odd));
}
