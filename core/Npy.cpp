// Why: a strict .npy reader/writer: every malformed input is a clear error, never a crash.
#include "core/Npy.hpp"

#include <cstring>
#include <limits>
#include <string_view>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"

namespace diffuser {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
  }
  return 0;
}

const char* dtype_descr(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "<f4";
    case DType::kFloat64:
      return "<f8";
    case DType::kInt32:
      return "<i4";
    case DType::kInt64:
      return "<i8";
  }
  return "?";
}

std::int64_t NpyArray::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

template <typename T>
std::vector<T> NpyArray::to_vector() const {
  const auto n = static_cast<std::size_t>(numel());
  std::vector<T> out(n);
  auto convert = [&](auto tag) {
    using S = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      S s;
      std::memcpy(&s, bytes.data() + i * sizeof(S), sizeof(S));
      out[i] = static_cast<T>(s);
    }
  };
  switch (dtype) {
    case DType::kFloat32:
      convert(float{});
      break;
    case DType::kFloat64:
      convert(double{});
      break;
    case DType::kInt32:
      convert(std::int32_t{});
      break;
    case DType::kInt64:
      convert(std::int64_t{});
      break;
  }
  return out;
}

template <typename T>
NpyArray NpyArray::from(std::span<const T> data, std::vector<std::int64_t> shape) {
  NpyArray a;
  a.dtype = dtype_of<T>();
  a.shape = std::move(shape);
  DIFFUSER_CHECK(a.numel() == static_cast<std::int64_t>(data.size()),
                 "npy: shape holds {} elements but {} were given", a.numel(), data.size());
  a.bytes.resize(data.size_bytes());
  if (!data.empty()) std::memcpy(a.bytes.data(), data.data(), data.size_bytes());
  return a;
}

#define DIFFUSER_NPY_INSTANTIATE(T)                    \
  template std::vector<T> NpyArray::to_vector() const; \
  template NpyArray NpyArray::from(std::span<const T>, std::vector<std::int64_t>);
DIFFUSER_NPY_INSTANTIATE(float)
DIFFUSER_NPY_INSTANTIATE(double)
DIFFUSER_NPY_INSTANTIATE(std::int32_t)
DIFFUSER_NPY_INSTANTIATE(std::int64_t)
#undef DIFFUSER_NPY_INSTANTIATE

namespace {

// Minimal parser for the Python-literal header dict, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = parse_bool();
        have_fortran = true;
      } else if (key == "shape") {
        shape = parse_shape();
        have_shape = true;
      } else {
        bad(fmt::format("unexpected key '{}'", key));
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      break;
    }
    if (!have_descr || !have_fortran || !have_shape) {
      bad("header lacks one of 'descr', 'fortran_order', 'shape'");
    }
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    fail("{}: malformed .npy header: {}", name_, why);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  char peek() {
    skip_ws();
    if (pos_ >= s_.size()) bad("unexpected end of header");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) bad(fmt::format("expected '{}' at offset {}", c, pos_));
    ++pos_;
  }
  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      bad(fmt::format("expected a quoted string at offset {}", pos_));
    ++pos_;
    const auto end = s_.find(quote, pos_);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_ws();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("fortran_order is neither True nor False");
  }
  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    expect('(');
    while (true) {
      if (peek() == ')') {
        ++pos_;
        return shape;
      }
      std::int64_t v = 0;
      bool any = false;
      if (peek() == '-') bad("negative dimension in shape");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) bad("dimension too large");
        v = v * 10 + (s_[pos_] - '0');
        ++pos_;
        any = true;
      }
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      if (!any) bad(fmt::format("expected a dimension at offset {}", pos_));
      shape.push_back(v);
      if (peek() == ',') ++pos_;
    }
  }

  std::string_view s_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

}  // namespace

NpyArray parse_npy(std::span<const std::byte> content, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  const std::size_t size = content.size();
  DIFFUSER_CHECK(size > 0, "{}: empty file, not a .npy array", name);
  DIFFUSER_CHECK(size >= 10 && p[0] == 0x93 && std::memcmp(p + 1, "NUMPY", 5) == 0,
                 "{}: not a .npy file (bad magic)", name);
  const int major = p[6];
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = p[8] | (static_cast<std::size_t>(p[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    DIFFUSER_CHECK(size >= 12, "{}: truncated .npy header", name);
    header_len = p[8] | (static_cast<std::size_t>(p[9]) << 8) |
                 (static_cast<std::size_t>(p[10]) << 16) | (static_cast<std::size_t>(p[11]) << 24);
    header_start = 12;
  } else {
    fail("{}: unsupported .npy format version {}.{}", name, major, static_cast<int>(p[7]));
  }
  DIFFUSER_CHECK(header_start + header_len <= size, "{}: truncated .npy header ({} bytes declared)",
                 name, header_len);
  std::string_view header(reinterpret_cast<const char*>(p + header_start), header_len);
  std::string descr;
  bool fortran = false;
  NpyArray a;
  HeaderParser(header, name).parse(descr, fortran, a.shape);
  if (descr == "<f4" || descr == "f4" || descr == "float32") {
    a.dtype = DType::kFloat32;
  } else if (descr == "<f8" || descr == "f8" || descr == "float64") {
    a.dtype = DType::kFloat64;
  } else if (descr == "<i4" || descr == "i4" || descr == "int32") {
    a.dtype = DType::kInt32;
  } else if (descr == "<i8" || descr == "i8" || descr == "int64") {
    a.dtype = DType::kInt64;
  } else {
    fail("{}: unsupported dtype '{}' (diffuser reads <f4, <f8, <i4, <i8)", name, descr);
  }
  DIFFUSER_CHECK(!fortran,
                 "{}: Fortran-order arrays are not supported (save with C order, e.g. "
                 "np.ascontiguousarray)",
                 name);
  std::int64_t numel = 1;
  for (auto d : a.shape) {
    DIFFUSER_CHECK(d == 0 || numel <= std::numeric_limits<std::int64_t>::max() / 8 / d,
                   "{}: shape too large", name);
    numel *= d;
  }
  const std::size_t need = static_cast<std::size_t>(numel) * dtype_size(a.dtype);
  const std::size_t have = size - header_start - header_len;
  DIFFUSER_CHECK(have >= need, "{}: truncated data: {} bytes present, {} needed for shape", name,
                 have, need);
  DIFFUSER_CHECK(have == need, "{}: {} trailing bytes after the array data", name, have - need);
  a.bytes.assign(content.begin() + static_cast<std::ptrdiff_t>(header_start + header_len),
                 content.end());
  return a;
}

NpyArray read_npy(const std::string& path) {
  const std::string text = read_text_file(path);
  return parse_npy(std::as_bytes(std::span(text.data(), text.size())), path);
}

std::vector<std::byte> serialize_npy(const NpyArray& array) {
  DIFFUSER_CHECK(
      array.bytes.size() == static_cast<std::size_t>(array.numel()) * dtype_size(array.dtype),
      "npy: array holds {} bytes but its shape needs {}", array.bytes.size(),
      static_cast<std::size_t>(array.numel()) * dtype_size(array.dtype));
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': (", dtype_descr(array.dtype));
  for (std::size_t i = 0; i < array.shape.size(); ++i) {
    dict += fmt::format("{}{}", i > 0 ? ", " : "", array.shape[i]);
  }
  if (array.shape.size() == 1) dict += ',';
  dict += "), }";
  // Total header (magic + version + length field + dict + padding + '\n') is a multiple of 64.
  std::size_t prefix = 10;
  std::size_t total = prefix + dict.size() + 1;
  int major = 1;
  if ((total + 63) / 64 * 64 - prefix > 65535) {
    major = 2;
    prefix = 12;
    total = prefix + dict.size() + 1;
  }
  const std::size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  const std::size_t header_len = dict.size();
  std::vector<std::byte> out(prefix + header_len + array.bytes.size());
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  o[0] = 0x93;
  std::memcpy(o + 1, "NUMPY", 5);
  o[6] = static_cast<unsigned char>(major);
  o[7] = 0;
  for (std::size_t b = 0; b < prefix - 8; ++b)
    o[8 + b] = static_cast<unsigned char>(header_len >> (8 * b));
  std::memcpy(o + prefix, dict.data(), header_len);
  if (!array.bytes.empty())
    std::memcpy(o + prefix + header_len, array.bytes.data(), array.bytes.size());
  return out;
}

void write_npy(const std::string& path, const NpyArray& array) {
  const auto bytes = serialize_npy(array);
  write_atomic(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  });
}

}  // namespace diffuser
