// Why: patterns are assembled, restricted and inspected with a handful of set operations on
// CSR graphs (union, symmetrisation, causal / length / key-mask restriction, degree
// statistics). They live here once, O(n + nnz) each, so builders, the spectral module and the
// CLI agree on what they mean.
#pragma once

#include <cstdint>
#include <span>

#include "graph/CsrGraph.hpp"

namespace diffuser::graph {

/// Union of two patterns on the same n: edge (i, j) is in the result iff it is in a or b.
/// Values behave like sparse matrix addition A + B (an absent edge counts as 0); the result
/// has values iff both inputs have them. Throws diffuser::Error when the sizes differ or only
/// one input has values (the sum would be ambiguous). O(n + nnz(a) + nnz(b)).
CsrGraph graph_union(const CsrGraph& a, const CsrGraph& b);

/// S = G ∪ G^T: (i, j) is an edge iff (i, j) or (j, i) is an edge of g. Values, when present,
/// become A + A^T. The result is symmetric (has_edge(i, j) == has_edge(j, i)).
CsrGraph symmetrize(const CsrGraph& g);

/// Causal restriction: keeps the edges (i, j) with j <= i (a query reads only itself and the
/// past). Values are carried over.
CsrGraph restrict_causal(const CsrGraph& g);

/// Crop to the first `length` tokens: keeps rows and columns < length; the result has
/// n = length. 0 <= length <= g.n(), else diffuser::Error.
CsrGraph crop(const CsrGraph& g, Index length);

/// Key mask: keeps the edges (i, j) with key_mask[j] != 0 (padded or masked keys removed).
/// key_mask has n entries. With keep_self_loops, (i, i) is kept even when i is masked, so no
/// row becomes empty; otherwise rows whose keys are all masked become empty.
CsrGraph restrict_keys(const CsrGraph& g, std::span<const std::uint8_t> key_mask,
                       bool keep_self_loops = false);

/// Summary of a degree sequence (row lengths = out-degrees, or column counts = in-degrees).
struct DegreeStats {
  Index min = 0;           ///< smallest degree (0 for n = 0)
  Index max = 0;           ///< largest degree
  double mean = 0.0;       ///< nnz / n (0 for n = 0)
  double stddev = 0.0;     ///< population standard deviation
  double median = 0.0;     ///< middle value (mean of the two middle values for even n)
  std::int64_t zeros = 0;  ///< number of rows (or columns) with degree 0
};

/// Statistics of the out-degrees (keys per query, row lengths).
DegreeStats degree_stats(const CsrGraph& g);

/// Statistics of the in-degrees (queries per key, column counts).
DegreeStats in_degree_stats(const CsrGraph& g);

/// Number of rows i holding the self-loop (i, i).
std::int64_t count_self_loops(const CsrGraph& g);

/// True iff the pattern is symmetric: (i, j) is an edge exactly when (j, i) is (values ignored).
bool is_symmetric(const CsrGraph& g);

}  // namespace diffuser::graph
