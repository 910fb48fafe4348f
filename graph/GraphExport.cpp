// Why: DOT, GraphML, JSON and dense .npy writers (plus JSON/.npy readers) and the
// extension-based dispatch used by the CLI. Writers stream through a buffer so large graphs do
// not need a second in-memory copy, and go through write_atomic.
#include "graph/GraphExport.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/JsonDepth.hpp"
#include "core/MemoryBudget.hpp"
#include "core/Npy.hpp"
#include "graph/EdgeList.hpp"
#include "graph/MatrixMarket.hpp"

namespace diffuser::graph {

namespace {

/// Streams text through a 1 MiB buffer into `out`.
class BufferedWriter {
 public:
  explicit BufferedWriter(std::ostream& out) : out_(out) {}
  ~BufferedWriter() = default;
  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(buf_), format, std::forward<Args>(args)...);
    if (buf_.size() > (1 << 20)) flush();
  }
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }

 private:
  std::ostream& out_;
  fmt::memory_buffer buf_;
};

std::string extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

template <typename T>
void write_array(BufferedWriter& w, const char* key, std::span<const T> values, bool last) {
  w.print("  \"{}\": [", key);
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (k > 0) w.print(",");
    w.print("{}", values[k]);
  }
  w.print("]{}\n", last ? "" : ",");
}

/// A JSON array of integers in [0, kMaxIndex] (offsets, columns): checked element by element,
/// since a plain conversion would wrap out-of-range numbers into valid-looking indices.
std::vector<Index> json_indices(const nlohmann::json& a, const char* field,
                                const std::string& path) {
  DIFFUSER_CHECK(a.is_array(), "{}: field \"{}\" must be an array of integers", path, field);
  std::vector<Index> out;
  out.reserve(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const auto& v = a[k];
    DIFFUSER_CHECK(
        v.is_number_integer() && (v.is_number_unsigned() ? v.get<std::uint64_t>() <= kMaxIndex
                                                         : v.get<std::int64_t>() >= 0 &&
                                                               v.get<std::int64_t>() <= kMaxIndex),
        "{}: {}[{}] = {} is not an integer in [0, {}]", path, field, k, v.dump(), kMaxIndex);
    out.push_back(static_cast<Index>(v.get<std::int64_t>()));
  }
  return out;
}

/// A JSON array of finite float32 numbers (edge values).
std::vector<float> json_values(const nlohmann::json& a, const std::string& path) {
  DIFFUSER_CHECK(a.is_array(), "{}: field \"values\" must be an array of numbers", path);
  std::vector<float> out;
  out.reserve(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    const auto& v = a[k];
    DIFFUSER_CHECK(v.is_number() && std::abs(v.get<double>()) <= std::numeric_limits<float>::max(),
                   "{}: values[{}] = {} is not a finite float32", path, k, v.dump());
    out.push_back(static_cast<float>(v.get<double>()));
  }
  return out;
}

}  // namespace

GraphFormat format_from_path(const std::string& path) {
  const std::string ext = extension(path);
  if (ext == ".mtx") return GraphFormat::kMatrixMarket;
  if (ext == ".txt" || ext == ".edges" || ext == ".el") return GraphFormat::kEdgeList;
  if (ext == ".json") return GraphFormat::kJson;
  if (ext == ".npy") return GraphFormat::kNpy;
  if (ext == ".graphml") return GraphFormat::kGraphml;
  if (ext == ".dot" || ext == ".gv") return GraphFormat::kDot;
  fail(
      "'{}': unknown graph file extension '{}' (known: .mtx, .txt/.edges/.el edge list, .json, "
      ".npy, .graphml, .dot/.gv)",
      path, ext);
}

CsrGraph read_graph(const std::string& path) {
  switch (format_from_path(path)) {
    case GraphFormat::kMatrixMarket:
      return read_matrix_market(path);
    case GraphFormat::kEdgeList:
      return read_edge_list(path);
    case GraphFormat::kJson:
      return read_json(path);
    case GraphFormat::kNpy:
      return read_dense_npy(path);
    case GraphFormat::kGraphml:
    case GraphFormat::kDot:
      break;
  }
  fail("'{}': DOT and GraphML are export-only formats; read .mtx, .txt/.edges, .json or .npy",
       path);
}

void write_graph(const std::string& path, const CsrGraph& g, bool force) {
  switch (format_from_path(path)) {
    case GraphFormat::kMatrixMarket:
      return write_matrix_market(path, g);
    case GraphFormat::kEdgeList:
      return write_edge_list(path, g);
    case GraphFormat::kJson:
      return write_json(path, g);
    case GraphFormat::kNpy:
      return write_dense_npy(path, g, force);
    case GraphFormat::kGraphml:
      return write_graphml(path, g);
    case GraphFormat::kDot:
      return write_dot(path, g, force);
  }
}

void write_dot(const std::string& path, const CsrGraph& g, bool force) {
  DIFFUSER_CHECK(force || g.nnz() <= kDotMaxEdges,
                 "refusing to write DOT '{}': the graph has {} edges (limit {}); Graphviz "
                 "layouts of graphs this large take very long and are unreadable. Write .graphml "
                 "or .mtx instead, or force it (--force)",
                 path, g.nnz(), kDotMaxEdges);
  write_atomic(path, [&](std::ostream& out) {
    BufferedWriter w(out);
    w.print("// diffuser token graph: n = {}, nnz = {}; arrow query -> key\ndigraph diffuser {{\n",
            g.n(), g.nnz());
    for (Index i = 0; i < g.n(); ++i) w.print("  {};\n", i);
    const auto off = g.offsets();
    const auto col = g.columns();
    const auto val = g.values();
    for (Index i = 0; i < g.n(); ++i) {
      for (Index e = off[i]; e < off[i + 1]; ++e) {
        if (g.has_values()) {
          w.print("  {} -> {} [label=\"{}\"];\n", i, col[e], val[e]);
        } else {
          w.print("  {} -> {};\n", i, col[e]);
        }
      }
    }
    w.print("}}\n");
    w.flush();
  });
}

void write_graphml(const std::string& path, const CsrGraph& g) {
  write_atomic(path, [&](std::ostream& out) {
    BufferedWriter w(out);
    w.print(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!-- diffuser token graph: edge source = query, target = key -->\n"
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" "
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns "
        "http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n");
    if (g.has_values()) {
      w.print("  <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"float\"/>\n");
    }
    w.print("  <graph id=\"G\" edgedefault=\"directed\">\n");
    for (Index i = 0; i < g.n(); ++i) w.print("    <node id=\"n{}\"/>\n", i);
    const auto off = g.offsets();
    const auto col = g.columns();
    const auto val = g.values();
    for (Index i = 0; i < g.n(); ++i) {
      for (Index e = off[i]; e < off[i + 1]; ++e) {
        if (g.has_values()) {
          w.print("    <edge source=\"n{}\" target=\"n{}\"><data key=\"weight\">{}</data></edge>\n",
                  i, col[e], val[e]);
        } else {
          w.print("    <edge source=\"n{}\" target=\"n{}\"/>\n", i, col[e]);
        }
      }
    }
    w.print("  </graph>\n</graphml>\n");
    w.flush();
  });
}

void write_json(const std::string& path, const CsrGraph& g) {
  write_atomic(path, [&](std::ostream& out) {
    BufferedWriter w(out);
    w.print(
        "{{\n  \"format\": \"diffuser-csr\",\n  \"version\": 1,\n  \"n\": {},\n  \"nnz\": {},\n",
        g.n(), g.nnz());
    write_array(w, "offsets", g.offsets(), false);
    write_array(w, "columns", g.columns(), !g.has_values());
    if (g.has_values()) write_array(w, "values", g.values(), true);
    w.print("}}\n");
    w.flush();
  });
}

CsrGraph read_json(const std::string& path) {
  const std::string text = read_text_file(path);
  DIFFUSER_CHECK(text.find_first_not_of(" \t\r\n") != std::string::npos, "{}: empty file", path);
  check_json_depth(text, path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for numbers beyond double (e.g. 1e999).
    fail("{}: invalid JSON: {}", path, e.what());
  }
  DIFFUSER_CHECK(j.is_object(), "{}: expected a JSON object with n, offsets and columns", path);
  DIFFUSER_CHECK(j.value("format", std::string()) == "diffuser-csr",
                 "{}: field \"format\" must be \"diffuser-csr\"", path);
  for (const char* key : {"n", "offsets", "columns"}) {
    DIFFUSER_CHECK(j.contains(key), "{}: missing field \"{}\"", path, key);
  }
  try {
    DIFFUSER_CHECK(j["n"].is_number_integer(), "{}: field \"n\" must be an integer", path);
    const auto n64 = j["n"].get<std::int64_t>();
    DIFFUSER_CHECK(n64 >= 0 && n64 <= kMaxIndex, "{}: n = {} outside [0, {}]", path, n64,
                   kMaxIndex);
    auto offsets = json_indices(j["offsets"], "offsets", path);
    auto columns = json_indices(j["columns"], "columns", path);
    std::vector<float> values;
    if (j.contains("values")) values = json_values(j["values"], path);
    if (j.contains("nnz")) {
      DIFFUSER_CHECK(j["nnz"].is_number_integer() &&
                         j["nnz"].get<std::int64_t>() == static_cast<std::int64_t>(columns.size()),
                     "{}: field \"nnz\" does not match the {} columns", path, columns.size());
    }
    return CsrGraph(static_cast<Index>(n64), std::move(offsets), std::move(columns),
                    std::move(values));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed field: {}", path, e.what());
  } catch (const Error& e) {
    if (std::string(e.what()).rfind(path, 0) == 0) throw;
    fail("{}: {}", path, e.what());
  }
}

void write_dense_npy(const std::string& path, const CsrGraph& g, bool force) {
  DIFFUSER_CHECK(force || g.n() <= kNpyMaxNodes,
                 "refusing to write dense .npy '{}': n = {} needs {} x {} floats (limit n = {}); "
                 "write .mtx instead, or force it (--force)",
                 path, g.n(), g.n(), g.n(), kNpyMaxNodes);
  const auto n = static_cast<std::size_t>(g.n());
  // The matrix, its NpyArray copy and the serialised bytes: 3 n^2 floats at the peak.
  check_memory_budget(3 * 4 * static_cast<std::uint64_t>(n) * n,
                      fmt::format("dense .npy '{}' of n = {}", path, g.n()));
  std::vector<float> dense(n * n, 0.0f);
  for (Index i = 0; i < g.n(); ++i) {
    for (Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) {
      const float v = g.has_values() ? g.values()[e] : 1.0f;
      DIFFUSER_CHECK(v != 0.0f,
                     "cannot write dense .npy '{}': edge ({}, {}) has value 0, which a dense "
                     "matrix cannot tell from a missing edge (write .mtx instead)",
                     path, i, g.columns()[e]);
      dense[i * n + static_cast<std::size_t>(g.columns()[e])] = v;
    }
  }
  write_npy(path, NpyArray::from<float>(dense, {g.n(), g.n()}));
}

CsrGraph read_dense_npy(const std::string& path) {
  const NpyArray a = read_npy(path);
  DIFFUSER_CHECK(a.shape.size() == 2 && a.shape[0] == a.shape[1],
                 "{}: expected a square 2-D array [n, n] (an adjacency matrix), got shape ({})",
                 path, fmt::join(a.shape, ", "));
  DIFFUSER_CHECK(a.shape[0] <= kMaxIndex, "{}: n = {} exceeds the int32 limit", path, a.shape[0]);
  const auto n = static_cast<Index>(a.shape[0]);
  const std::vector<double> d = a.to_vector<double>();
  std::vector<Index> offsets(static_cast<std::size_t>(n) + 1, 0);
  std::vector<Index> columns;
  std::vector<float> values;
  bool all_ones = true;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j) {
      const double v = d[static_cast<std::size_t>(i) * n + j];
      DIFFUSER_CHECK(std::isfinite(v) && std::abs(v) <= std::numeric_limits<float>::max(),
                     "{}: entry ({}, {}) is {} (not a finite float32)", path, i, j, v);
      if (v == 0.0) continue;
      DIFFUSER_CHECK(columns.size() < static_cast<std::size_t>(kMaxIndex),
                     "{}: more than {} nonzero entries (int32 limit)", path, kMaxIndex);
      columns.push_back(j);
      values.push_back(static_cast<float>(v));
      all_ones = all_ones && v == 1.0;
    }
    offsets[i + 1] = static_cast<Index>(columns.size());
  }
  if (all_ones) values.clear();
  return CsrGraph(n, std::move(offsets), std::move(columns), std::move(values));
}

}  // namespace diffuser::graph
