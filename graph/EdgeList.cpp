// Why: strict edge-list reader and atomic writer for token graphs.
#include "graph/EdgeList.hpp"

#include <fmt/format.h>

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

/// If `line` is the directive "# <key>: <value>", parses the value into out and returns true.
bool directive(const LineScanner& in, std::string_view line, std::string_view key,
               std::int64_t& out) {
  std::string_view rest = line.substr(1);
  const auto p = rest.find_first_not_of(" \t");
  if (p == std::string_view::npos) return false;
  rest = rest.substr(p);
  if (rest.substr(0, key.size()) != key || rest.substr(key.size(), 1) != ":") return false;
  std::string_view fields[2];
  const int count = LineScanner::split(rest.substr(key.size() + 1), fields, 2);
  if (count != 1 || !LineScanner::parse_int(fields[0], out) || out < 0) {
    in.fail_at("bad directive '{}': expected '# {}: <non-negative integer>'", line, key);
  }
  return true;
}

}  // namespace

CsrGraph parse_edge_list(std::string_view text, const std::string& name) {
  DIFFUSER_CHECK(!LineScanner::blank(text), "{}: empty file (expected lines 'i j' or 'i j w')",
                 name);
  LineScanner in(text, name);
  std::string_view line;
  std::int64_t nodes = -1, edges = -1, nodes_line = 0, edges_line = 0;
  int width = 0;  // fields per edge line, fixed by the first edge
  std::int64_t first_edge_line = 0;
  std::vector<Index> ri, ci;
  std::vector<float> vals;
  std::int64_t max_index = -1;
  std::int64_t count = 0;
  while (in.next(line)) {
    if (LineScanner::blank(line)) continue;
    const auto first = line.find_first_not_of(" \t");
    if (line[first] == '#') {
      if (width != 0) continue;  // directives only count before the first edge
      std::int64_t v = 0;
      if (directive(in, line.substr(first), "nodes", v)) {
        if (nodes >= 0) in.fail_at("second '# nodes:' directive (first on line {})", nodes_line);
        if (v > kMaxIndex) in.fail_at("# nodes: {} exceeds the int32 limit {}", v, kMaxIndex);
        check_reader_nodes(v, text.size(), fmt::format("{}:{}", name, in.line()),
                           "the directive '# nodes:' declares");
        nodes = v;
        nodes_line = in.line();
      } else if (directive(in, line.substr(first), "edges", v)) {
        if (edges >= 0) in.fail_at("second '# edges:' directive (first on line {})", edges_line);
        edges = v;
        edges_line = in.line();
      }
      continue;
    }
    std::string_view f[4];
    const int got = LineScanner::split(line, f, 4);
    if (width == 0) {
      if (got != 2 && got != 3) {
        in.fail_at("expected 2 fields (i j) or 3 fields (i j w) but found {}", got);
      }
      width = got;
      first_edge_line = in.line();
    } else if (got != width) {
      in.fail_at("found {} fields but line {} has {} ({})", got, first_edge_line, width,
                 width == 2 ? "i j" : "i j w");
    }
    if (edges >= 0 && count == edges) {
      in.fail_at("more edges than the {} declared on line {}", edges, edges_line);
    }
    if (count == kMaxIndex) in.fail_at("more than {} edges (int32 limit)", kMaxIndex);
    std::int64_t i = 0, j = 0;
    if (!LineScanner::parse_int(f[0], i)) in.fail_at("non-numeric query index '{}'", f[0]);
    if (!LineScanner::parse_int(f[1], j)) in.fail_at("non-numeric key index '{}'", f[1]);
    if (i < 0 || j < 0) in.fail_at("negative index in edge ({}, {}) (indices are 0-based)", i, j);
    if (nodes >= 0 && (i >= nodes || j >= nodes)) {
      in.fail_at("edge ({}, {}) out of range [0, {}) ('# nodes: {}' on line {})", i, j, nodes,
                 nodes, nodes_line);
    }
    if (i >= kMaxIndex || j >= kMaxIndex) {
      in.fail_at("index in edge ({}, {}) exceeds the int32 limit", i, j);
    }
    if (width == 3) {
      double w = 0;
      if (!LineScanner::parse_real(f[2], w)) in.fail_at("non-numeric weight '{}'", f[2]);
      if (!std::isfinite(w) || std::abs(w) > std::numeric_limits<float>::max()) {
        in.fail_at("weight '{}' is not a finite float32", f[2]);
      }
      vals.push_back(static_cast<float>(w));
    }
    if (nodes < 0 && std::max(i, j) >= max_index + 1) {
      check_reader_nodes(std::max(i, j) + 1, text.size(), fmt::format("{}:{}", name, in.line()),
                         "the index in this edge implies");
    }
    ri.push_back(static_cast<Index>(i));
    ci.push_back(static_cast<Index>(j));
    max_index = std::max({max_index, i, j});
    ++count;
  }
  if (edges >= 0 && count < edges) {
    in.fail_at("file ends after {} of the {} edges declared on line {}", count, edges, edges_line);
  }
  if (count == 0 && nodes < 0) {
    fail("{}: empty file (no edges and no '# nodes:' directive)", name);
  }
  const auto n = static_cast<Index>(nodes >= 0 ? nodes : max_index + 1);
  return CsrGraph::from_edges(n, ri, ci, vals);
}

CsrGraph read_edge_list(const std::string& path) {
  const std::string text = read_text_file(path);
  return parse_edge_list(text, path);
}

void write_edge_list(const std::string& path, const CsrGraph& g) {
  write_atomic(path, [&](std::ostream& out) {
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf),
                   "# diffuser token graph: i = query, j = key (0-based){}\n# nodes: {}\n# edges: "
                   "{}\n",
                   g.has_values() ? ", w = value" : "", g.n(), g.nnz());
    const auto off = g.offsets();
    const auto col = g.columns();
    const auto val = g.values();
    for (Index i = 0; i < g.n(); ++i) {
      for (Index e = off[i]; e < off[i + 1]; ++e) {
        if (g.has_values()) {
          fmt::format_to(std::back_inserter(buf), "{} {} {}\n", i, col[e], val[e]);
        } else {
          fmt::format_to(std::back_inserter(buf), "{} {}\n", i, col[e]);
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
