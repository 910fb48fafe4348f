// Why: strict Matrix Market coordinate reader and atomic writer for token graphs.
#include "graph/MatrixMarket.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <ostream>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "graph/LineScanner.hpp"
#include "graph/ReaderLimits.hpp"

namespace diffuser::graph {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

enum class Field { kPattern, kReal, kInteger };

}  // namespace

CsrGraph parse_matrix_market(std::string_view text, const std::string& name) {
  LineScanner in(text, name);
  std::string_view line;
  DIFFUSER_CHECK(!LineScanner::blank(text), "{}: empty file (expected a Matrix Market header)",
                 name);
  in.next(line);
  std::string_view f[6];
  const int header_fields = LineScanner::split(line, f, 6);
  const char* expected =
      "expected '%%MatrixMarket matrix coordinate pattern|real|integer general|symmetric'";
  if (header_fields < 1 || lower(f[0]) != "%%matrixmarket") {
    in.fail_at("bad header '{}': not a Matrix Market file ({})", line, expected);
  }
  if (header_fields != 5) in.fail_at("bad header '{}': {}", line, expected);
  if (lower(f[1]) != "matrix") {
    in.fail_at("bad header: object '{}' is not supported (only 'matrix')", f[1]);
  }
  if (lower(f[2]) != "coordinate") {
    in.fail_at("bad header: format '{}' is not supported (only 'coordinate'; 'array' is dense)",
               f[2]);
  }
  Field field;
  const std::string fs = lower(f[3]);
  if (fs == "pattern") {
    field = Field::kPattern;
  } else if (fs == "real" || fs == "double") {
    field = Field::kReal;
  } else if (fs == "integer") {
    field = Field::kInteger;
  } else {
    in.fail_at("bad header: field '{}' is not supported (pattern, real, double or integer)", f[3]);
  }
  const std::string ss = lower(f[4]);
  if (ss != "general" && ss != "symmetric") {
    in.fail_at("bad header: symmetry '{}' is not supported (general or symmetric)", f[4]);
  }
  const bool symmetric = ss == "symmetric";

  // Size line: the first line that is neither a comment nor blank.
  bool have_size = false;
  while (in.next(line)) {
    if (LineScanner::blank(line) || line.front() == '%') continue;
    have_size = true;
    break;
  }
  if (!have_size) in.fail_at("missing size line 'rows columns entries' after the header");
  const std::int64_t size_line = in.line();
  std::int64_t rows = 0, cols = 0, declared = 0;
  if (LineScanner::split(line, f, 4) != 3 || !LineScanner::parse_int(f[0], rows) ||
      !LineScanner::parse_int(f[1], cols) || !LineScanner::parse_int(f[2], declared)) {
    in.fail_at("bad size line '{}': expected three integers 'rows columns entries'", line);
  }
  if (rows < 0 || cols < 0 || declared < 0) {
    in.fail_at("bad size line '{}': negative size", line);
  }
  if (rows != cols) {
    in.fail_at("bad size line: {} x {} matrix is not square (a token graph is n x n)", rows, cols);
  }
  if (rows > kMaxIndex)
    in.fail_at("bad size line: n = {} exceeds the int32 limit {}", rows, kMaxIndex);
  if (declared > kMaxIndex) {
    in.fail_at("bad size line: {} entries exceed the int32 edge limit {}", declared, kMaxIndex);
  }
  check_reader_nodes(rows, text.size(), fmt::format("{}:{}", name, size_line),
                     "the size line declares");
  // Each entry line takes at least 4 bytes ("i j" and a line break; the last may lack it), so
  // the count is checked against what is left of the file before any memory is reserved.
  const auto rest = static_cast<std::int64_t>(text.size() - std::min(text.size(), in.offset()));
  if (declared > 0 && 4 * declared - 1 > rest) {
    in.fail_at(
        "the size line declares {} entries but only {} bytes follow it (at least 4 per "
        "entry): truncated file or wrong count",
        declared, rest);
  }
  const auto n = static_cast<Index>(rows);

  const int want = field == Field::kPattern ? 2 : 3;
  std::vector<Index> ri, ci;
  std::vector<float> vals;
  ri.reserve(static_cast<std::size_t>(declared));
  ci.reserve(static_cast<std::size_t>(declared));
  if (field != Field::kPattern) vals.reserve(static_cast<std::size_t>(declared));
  std::int64_t seen = 0;
  while (in.next(line)) {
    if (LineScanner::blank(line) || line.front() == '%') continue;
    if (seen == declared) {
      in.fail_at("more entries than the {} declared on line {}", declared, size_line);
    }
    const int got = LineScanner::split(line, f, 4);
    if (got != want) {
      in.fail_at("expected {} fields ({}) but found {}", want,
                 field == Field::kPattern ? "row column" : "row column value", got);
    }
    std::int64_t i = 0, j = 0;
    if (!LineScanner::parse_int(f[0], i)) in.fail_at("non-numeric row index '{}'", f[0]);
    if (!LineScanner::parse_int(f[1], j)) in.fail_at("non-numeric column index '{}'", f[1]);
    if (i < 1 || i > rows) in.fail_at("row index {} out of range [1, {}] (1-based)", i, rows);
    if (j < 1 || j > rows) in.fail_at("column index {} out of range [1, {}] (1-based)", j, rows);
    if (symmetric && j > i) {
      in.fail_at(
          "entry ({}, {}) is above the diagonal in a symmetric file (only the lower "
          "triangle i >= j is stored)",
          i, j);
    }
    float value = 1.0f;
    if (field == Field::kInteger) {
      std::int64_t v = 0;
      if (!LineScanner::parse_int(f[2], v)) {
        in.fail_at("non-integer value '{}' in an integer file", f[2]);
      }
      value = static_cast<float>(v);
    } else if (field == Field::kReal) {
      double v = 0;
      if (!LineScanner::parse_real(f[2], v)) in.fail_at("non-numeric value '{}'", f[2]);
      if (!std::isfinite(v)) in.fail_at("value '{}' is not finite", f[2]);
      if (std::abs(v) > std::numeric_limits<float>::max()) {
        in.fail_at("value '{}' overflows float32", f[2]);
      }
      value = static_cast<float>(v);
    }
    ri.push_back(static_cast<Index>(i - 1));
    ci.push_back(static_cast<Index>(j - 1));
    if (field != Field::kPattern) vals.push_back(value);
    if (symmetric && i != j) {
      if (static_cast<std::int64_t>(ri.size()) >= kMaxIndex) {
        in.fail_at("the symmetric expansion exceeds the int32 edge limit {}", kMaxIndex);
      }
      ri.push_back(static_cast<Index>(j - 1));
      ci.push_back(static_cast<Index>(i - 1));
      if (field != Field::kPattern) vals.push_back(value);
    }
    ++seen;
  }
  if (seen < declared) {
    in.fail_at("file ends after {} of the {} entries declared on line {}", seen, declared,
               size_line);
  }
  return CsrGraph::from_edges(n, ri, ci, vals);
}

CsrGraph read_matrix_market(const std::string& path) {
  const std::string text = read_text_file(path);
  return parse_matrix_market(text, path);
}

void write_matrix_market(const std::string& path, const CsrGraph& g) {
  write_atomic(path, [&](std::ostream& out) {
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), "%%MatrixMarket matrix coordinate {} general\n",
                   g.has_values() ? "real" : "pattern");
    fmt::format_to(std::back_inserter(buf),
                   "% diffuser token graph: row = query, column = key (1-based)\n{} {} {}\n", g.n(),
                   g.n(), g.nnz());
    const auto off = g.offsets();
    const auto col = g.columns();
    const auto val = g.values();
    for (Index i = 0; i < g.n(); ++i) {
      for (Index e = off[i]; e < off[i + 1]; ++e) {
        if (g.has_values()) {
          fmt::format_to(std::back_inserter(buf), "{} {} {}\n", i + 1, col[e] + 1, val[e]);
        } else {
          fmt::format_to(std::back_inserter(buf), "{} {}\n", i + 1, col[e] + 1);
        }
      }
      if (buf.size() > (1 << 20)) {
        out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        buf.clear();
      }
    }
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  });
}

}  // namespace diffuser::graph
