// Why: every attention call over a pattern needs the pattern, its transpose (for the A^T
// products of backward, without atomics) and a work-balanced split of the rows for threads.
// Building these costs O(n + nnz); a plan builds them once per pattern and every call and
// every sequence of a batch reuses them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "attention/RowRange.hpp"
#include "attention/RowTiles.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::attention {

/// Options of plan construction.
struct PlanOptions {
  /// Detect runs of consecutive full rows (degree n, e.g. global tokens) in the pattern and its
  /// transpose; the optimised CPU kernels handle them with dense GEMMs, reading the key rows
  /// once per run instead of once per row. Off: every row takes the sparse path (same results
  /// up to summation order; used by tests and benchmarks).
  bool dense_rows = true;
  /// Group the sparse-path rows of the pattern into row tiles (RowTiles) so that the forward
  /// SpMM hop loads a key shared by consecutive rows once for all of them. Off: the hop gathers
  /// row by row (same results up to summation order; used by tests and benchmarks).
  bool row_tiles = true;
};

/// A pattern prepared for attention: row i = query i, its columns = the keys it attends to
/// (docs/design.md §1). Immutable after construction; safe to share between threads.
class AttentionPlan {
 public:
  /// Copies the pattern (edge values, if any, are ignored) and builds the transpose, the edge
  /// permutations and the row blocks. Throws diffuser::Error for an empty pattern (n = 0) or
  /// an empty row ("attention pattern: row i has no keys"): every query needs a key.
  explicit AttentionPlan(const graph::CsrGraph& pattern, PlanOptions options = {});

  graph::Index n() const { return pattern_.n(); }
  std::int64_t nnz() const { return pattern_.nnz(); }

  /// The pattern, without values.
  const graph::CsrGraph& pattern() const { return pattern_; }

  /// The transpose: row j lists the queries i that read key j, ascending.
  const graph::CsrGraph& transposed() const { return transposed_; }

  /// Edge t of transposed() is edge transpose_perm()[t] of pattern() (size nnz).
  std::span<const graph::Index> transpose_perm() const { return perm_; }

  /// Edge e of pattern() is edge inverse_perm()[e] of transposed() (size nnz).
  std::span<const graph::Index> inverse_perm() const { return inverse_perm_; }

  /// Blocks of the rows of pattern() that take the sparse path (every row not in a dense run),
  /// ascending, each holding about the same work (edges plus a per-row cost); kernels schedule
  /// blocks dynamically over threads. Each row is computed by exactly one thread in a fixed
  /// order, so results do not depend on the thread count.
  std::span<const RowRange> row_blocks() const { return row_blocks_; }

  /// Maximal runs of consecutive full rows (degree n) of pattern(); empty when
  /// PlanOptions::dense_rows is off. In the [H, nnz] edge layout such a run's values are a
  /// dense row-major (rows x n) block per head.
  std::span<const RowRange> dense_runs() const { return dense_runs_; }

  /// The same two lists for transposed() (full rows there are keys every query reads).
  std::span<const RowRange> transposed_row_blocks() const { return transposed_row_blocks_; }
  std::span<const RowRange> transposed_dense_runs() const { return transposed_dense_runs_; }

  /// Row tiles of pattern() over its sparse-path rows (those outside dense_runs()); empty when
  /// PlanOptions::row_tiles is off.
  const RowTiles& row_tiles() const { return row_tiles_; }

  /// Largest row degree of pattern() and of transposed().
  graph::Index max_degree() const { return max_degree_; }
  graph::Index max_transposed_degree() const { return max_transposed_degree_; }

  /// Identifier shared by copies of this plan, different for independently built plans; saved
  /// forward state records it so backward can refuse a different pattern.
  std::uint64_t id() const { return id_; }

  /// Bytes held by the plan (both graphs, permutations, blocks, row tiles).
  std::size_t bytes() const;

 private:
  graph::CsrGraph pattern_;
  graph::CsrGraph transposed_;
  std::vector<graph::Index> perm_;
  std::vector<graph::Index> inverse_perm_;
  std::vector<RowRange> row_blocks_;
  std::vector<RowRange> dense_runs_;
  std::vector<RowRange> transposed_row_blocks_;
  std::vector<RowRange> transposed_dense_runs_;
  RowTiles row_tiles_;
  graph::Index max_degree_ = 0;
  graph::Index max_transposed_degree_ = 0;
  std::uint64_t id_ = 0;
};

}  // namespace diffuser::attention
