// Why: the one place tests include Catch2 from (docs/design.md §2: Catch2 only in tests/), plus
// small shared helpers: relative errors, poisoned buffers, temporary directories.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace diffuser::testing {

/// ||a - b||_2 / max(||b||_2, tiny): the relative error used throughout the tests.
template <typename A, typename B>
double rel_error(std::span<const A> a, std::span<const B> b) {
  REQUIRE(a.size() == b.size());
  long double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const long double d = static_cast<long double>(a[i]) - static_cast<long double>(b[i]);
    num += d * d;
    den += static_cast<long double>(b[i]) * static_cast<long double>(b[i]);
  }
  return static_cast<double>(std::sqrt(num) / std::max(std::sqrt(den), 1e-300L));
}
template <typename A, typename B>
double rel_error(const std::vector<A>& a, const std::vector<B>& b) {
  return rel_error(std::span<const A>(a), std::span<const B>(b));
}

/// A vector filled with NaN, so elements a kernel forgets to write fail every comparison.
template <typename T>
std::vector<T> poisoned(std::size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

/// A fresh, empty directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// Writes raw bytes (or text) to a file, for malformed-input tests.
void write_file(const std::string& path, const std::string& content);

}  // namespace diffuser::testing
