// Why: the token graph is the central data structure of diffuser. Row i is query token i; its
// columns are the keys j it attends to. Its invariants are written down once, numbered, and
// checked by one validate(), so every consumer can rely on them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace diffuser::graph {

/// Index type for offsets and columns. int32: a graph holds at most 2^31-1 edges and nodes;
/// builders check the limit and fail with a clear error past it (docs/architecture.md).
using Index = std::int32_t;

/// Largest number of edges (and nodes) a CsrGraph can hold.
inline constexpr std::int64_t kMaxIndex = 2147483647;

/// A square n x n sparse pattern in compressed sparse row form, with optional float edge values.
///
/// Invariants (checked by validate(), numbered in its error messages):
///  I1. n >= 0 and offsets.size() == n + 1.
///  I2. offsets[0] == 0 and offsets[n] == columns.size() == nnz.
///  I3. offsets are non-decreasing.
///  I4. every column is in [0, n).
///  I5. columns are strictly increasing within each row (sorted, no duplicates).
///  I6. values are empty or values.size() == nnz, and all values are finite.
class CsrGraph {
 public:
  /// Empty graph with n = 0.
  CsrGraph();

  /// Takes ownership of the arrays and validates them (throws diffuser::Error naming the
  /// violated invariant).
  CsrGraph(Index n, std::vector<Index> offsets, std::vector<Index> columns,
           std::vector<float> values = {});

  /// Builds a graph from an unsorted edge list that may contain duplicates. rows[e], cols[e]
  /// must lie in [0, n); values (optional, same length) of duplicate edges are summed.
  /// O(n + E) time (counting sort by row, then per-row sort and merge).
  static CsrGraph from_edges(Index n, std::span<const Index> rows, std::span<const Index> cols,
                             std::span<const float> values = {});

  Index n() const { return n_; }
  std::int64_t nnz() const { return static_cast<std::int64_t>(columns_.size()); }
  bool has_values() const { return !values_.empty(); }

  std::span<const Index> offsets() const { return offsets_; }
  std::span<const Index> columns() const { return columns_; }
  std::span<const float> values() const { return values_; }

  /// Keys of query row i (sorted ascending).
  std::span<const Index> row(Index i) const {
    return std::span<const Index>(columns_).subspan(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  Index degree(Index i) const { return offsets_[i + 1] - offsets_[i]; }

  /// True if (i, j) is an edge (binary search in row i).
  bool has_edge(Index i, Index j) const;

  /// Edge index of (i, j), or -1 when absent.
  std::int64_t find_edge(Index i, Index j) const;

  /// Checks invariants I1-I6; throws diffuser::Error naming the first violation.
  void validate() const;

  /// Replaces the edge values (size nnz, finite) or drops them (empty).
  void set_values(std::vector<float> values);

  /// Same pattern without values.
  CsrGraph pattern() const;

  friend bool operator==(const CsrGraph& a, const CsrGraph& b) = default;

 private:
  Index n_ = 0;
  std::vector<Index> offsets_;
  std::vector<Index> columns_;
  std::vector<float> values_;
};

/// The transpose of a graph (row j of the result lists the queries i that read key j) together
/// with the edge permutation: edge t of the transpose is edge perm[t] of the original. Used by
/// backward passes (A^T products without atomics) and built once per pattern.
struct Transposed {
  CsrGraph graph;
  std::vector<Index> perm;
};

/// Transposes in O(n + nnz) by a counting sort on columns (stable, so rows of the result are
/// sorted). Values, when present, are carried over.
Transposed transpose(const CsrGraph& g);

}  // namespace diffuser::graph
