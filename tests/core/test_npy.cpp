// Why: .npy is the tensor exchange format; round trips must be exact and every malformed
// file must give a clear error.
#include <cstring>

#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using diffuser::testing::TempDir;
using diffuser::testing::write_file;

namespace {

std::string header_v1(const std::string& dict) {
  std::string h = dict;
  std::size_t total = 10 + h.size() + 1;
  h.append((total + 63) / 64 * 64 - total, ' ');
  h += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h;
}

std::string raw_floats(int count) { return std::string(static_cast<std::size_t>(count) * 4, '\0'); }

}  // namespace

TEST_CASE("npy round trip for every dtype", "[cpu][npy]") {
  TempDir dir;
  const std::vector<float> f{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  const std::vector<double> d{1e-300, -2.5, 3.0};
  const std::vector<std::int32_t> i32{-1, 2, 2147483647};
  const std::vector<std::int64_t> i64{-9000000000LL, 5};
  write_npy(dir.file("f.npy"), NpyArray::from<float>(f, {2, 3}));
  write_npy(dir.file("d.npy"), NpyArray::from<double>(d, {3}));
  write_npy(dir.file("i.npy"), NpyArray::from<std::int32_t>(i32, {1, 3, 1}));
  write_npy(dir.file("l.npy"), NpyArray::from<std::int64_t>(i64, {2}));
  auto a = read_npy(dir.file("f.npy"));
  CHECK(a.dtype == DType::kFloat32);
  CHECK(a.shape == std::vector<std::int64_t>{2, 3});
  CHECK(a.to_vector<float>() == f);
  a = read_npy(dir.file("d.npy"));
  CHECK(a.dtype == DType::kFloat64);
  CHECK(a.shape == std::vector<std::int64_t>{3});
  CHECK(a.to_vector<double>() == d);
  a = read_npy(dir.file("i.npy"));
  CHECK(a.shape == std::vector<std::int64_t>{1, 3, 1});
  CHECK(a.to_vector<std::int32_t>() == i32);
  a = read_npy(dir.file("l.npy"));
  CHECK(a.to_vector<std::int64_t>() == i64);
}

TEST_CASE("npy header is what NumPy writes", "[cpu][npy]") {
  const std::vector<float> f(12, 1.0f);
  const auto bytes = serialize_npy(NpyArray::from<float>(f, {3, 4}));
  const std::string s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  CHECK(s.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }") == 10);
  const std::size_t header_end = s.find('\n') + 1;
  CHECK(header_end % 64 == 0);
  const auto one = serialize_npy(NpyArray::from<float>(std::span<const float>(f.data(), 5), {5}));
  const std::string s1(reinterpret_cast<const char*>(one.data()), one.size());
  CHECK(s1.find("'shape': (5,), }") != std::string::npos);
}

TEST_CASE("npy reads version 2.0 and 3.0 headers", "[cpu][npy]") {
  TempDir dir;
  for (char major : {'\x02', '\x03'}) {
    std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    std::size_t total = 12 + dict.size() + 1;
    dict.append((total + 63) / 64 * 64 - total, ' ');
    dict += '\n';
    std::string file("\x93NUMPY", 6);
    file += major;
    file += '\0';
    for (int b = 0; b < 4; ++b) file += static_cast<char>((dict.size() >> (8 * b)) & 0xff);
    file += dict;
    double v[2] = {3.5, -1.0};
    file.append(reinterpret_cast<const char*>(v), sizeof v);
    write_file(dir.file("v2.npy"), file);
    const auto a = read_npy(dir.file("v2.npy"));
    CHECK(a.to_vector<double>() == std::vector<double>{3.5, -1.0});
  }
}

TEST_CASE("npy rejects malformed files with a clear message", "[cpu][npy]") {
  TempDir dir;
  auto expect_error = [&](const std::string& content, const std::string& needle) {
    const std::string path = dir.file("bad.npy");
    write_file(path, content);
    try {
      read_npy(path);
      FAIL("no error for case: " << needle);
    } catch (const Error& e) {
      const std::string what = e.what();
      INFO(what);
      CHECK(what.find(needle) != std::string::npos);
      CHECK(what.find("bad.npy") != std::string::npos);
    }
  };
  expect_error("", "empty file");
  expect_error("hello world, not numpy", "bad magic");
  expect_error(std::string("\x93NUMPY\x07\x00\x10\x00", 10) + std::string(16, ' '), "version 7");
  expect_error(
      header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }") + raw_floats(3),
      "truncated data");
  expect_error(
      header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }") + raw_floats(3),
      "trailing bytes");
  expect_error(
      header_v1("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }") + raw_floats(1),
      "unsupported dtype '<f2'");
  expect_error(
      header_v1("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }") + raw_floats(2),
      "unsupported dtype '>f4'");
  expect_error(
      header_v1("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }") + raw_floats(4),
      "Fortran-order");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"),
               "negative dimension");
  expect_error(header_v1("{'descr': '<f4', 'shape': (2,), }") + raw_floats(2), "lacks");
  expect_error(header_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,"), "malformed");
  expect_error(std::string("\x93NUMPY\x01\x00\xff\x00", 10) + "{'descr'", "truncated .npy header");
}

TEST_CASE("npy read of a missing file names the path", "[cpu][npy]") {
  CHECK_THROWS_WITH(read_npy("/nonexistent/dir/x.npy"), Catch::Contains("/nonexistent/dir/x.npy"));
}
