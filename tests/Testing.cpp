// Why: out-of-line helpers shared by every test executable.
#include "tests/Testing.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>

namespace diffuser::testing {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = std::filesystem::temp_directory_path() /
          ("diffuser_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  REQUIRE(out.good());
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

}  // namespace diffuser::testing
