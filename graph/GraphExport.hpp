// Why: token graphs leave diffuser in the format the next tool wants (Graphviz DOT for
// drawings, GraphML for Gephi/NetworkX, JSON and .npy for Python, Matrix Market and edge lists
// for sparse-matrix tools). The file extension picks the format, so the CLI and other modules
// call one read_graph / write_graph pair. Every writer is atomic.
#pragma once

#include <cstdint>
#include <string>

#include "graph/CsrGraph.hpp"

namespace diffuser::graph {

/// File formats, chosen by extension.
enum class GraphFormat {
  kMatrixMarket,  ///< .mtx (read + write)
  kEdgeList,      ///< .txt, .edges, .el (read + write)
  kJson,          ///< .json: {"format": "diffuser-csr", n, nnz, offsets, columns[, values]}
  kNpy,           ///< .npy: dense float32 [n, n] adjacency (read + write, small n)
  kGraphml,       ///< .graphml (write only)
  kDot,           ///< .dot, .gv (write only)
};

/// DOT output is refused above this many edges unless forced (Graphviz cannot lay it out).
inline constexpr std::int64_t kDotMaxEdges = 20000;
/// Dense .npy output is refused above this n unless forced (n^2 floats: 256 MiB at the limit).
inline constexpr Index kNpyMaxNodes = 8192;

/// Format of a path by its (case-insensitive) extension; diffuser::Error lists the known ones.
GraphFormat format_from_path(const std::string& path);

/// Reads .mtx, .txt/.edges/.el, .json or .npy (DOT and GraphML are export-only: error).
CsrGraph read_graph(const std::string& path);

/// Writes g in the format of the extension. `force` lifts the DOT and .npy size limits.
void write_graph(const std::string& path, const CsrGraph& g, bool force = false);

/// Graphviz digraph, one node per token, one arrow query -> key per edge (label = value when
/// the graph has values). Refuses graphs with more than kDotMaxEdges edges unless `force`,
/// with an error saying why.
void write_dot(const std::string& path, const CsrGraph& g, bool force = false);

/// GraphML (http://graphml.graphdrawing.org/), directed, nodes "n0".."n{n-1}", edges
/// source = query, target = key, with a float "weight" data key when the graph has values.
void write_graphml(const std::string& path, const CsrGraph& g);

/// JSON {"format": "diffuser-csr", "version": 1, "n", "nnz", "offsets", "columns"[, "values"]}.
void write_json(const std::string& path, const CsrGraph& g);

/// Reads the JSON written by write_json; diffuser::Error names the file and the problem
/// (invalid JSON with its position, missing or mistyped field, violated CSR invariant).
CsrGraph read_json(const std::string& path);

/// Dense float32 [n, n] .npy: entry (i, j) = value (1 for a pattern) on edges, 0 elsewhere.
/// A zero-valued edge cannot be represented and is an error; n > kNpyMaxNodes needs `force`.
void write_dense_npy(const std::string& path, const CsrGraph& g, bool force = false);

/// Reads a square 2-D .npy (any of f4, f8, i4, i8): nonzero entries are edges. When every
/// nonzero entry is 1 the graph is a pattern (no values); otherwise entries become values.
/// Non-finite entries and non-square shapes are errors naming the file.
CsrGraph read_dense_npy(const std::string& path);

}  // namespace diffuser::graph
