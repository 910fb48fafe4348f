// Why: the CPU kernels handle dense runs (rows that hold every key) by GEMMs, one task per run
// and head. With global tokens at random positions every run is one row, and a GEMM per row
// reads a whole [n, D] head of the other operand for one output row. The kernels therefore
// take their GEMM units from here: long runs as they are, and the rows of short runs packed
// kDenseGroupRows at a time, so that one GEMM reads that operand once per group. The units
// depend only on the plan's runs (never on the thread count), which keeps results bitwise
// reproducible; within a unit rows ascend, so its valid rows (< len) are a prefix.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "attention/RowRange.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::attention::cpu {

/// Dense runs shorter than this are packed, this many rows to a GEMM.
constexpr graph::Index kDenseGroupRows = 16;

/// One GEMM unit: a long dense run (rows first, first + 1, ..., contiguous) or a group of up
/// to kDenseGroupRows rows of short runs (rows[0, size), ascending).
struct DenseUnit {
  const graph::Index* rows = nullptr;  ///< the group's rows; nullptr for a long run
  graph::Index first = 0;              ///< a long run's first row
  graph::Index size = 0;               ///< rows in the unit

  /// Whether the rows are contiguous (a long run: strided GEMM operands, no packing).
  bool contiguous() const { return rows == nullptr; }
  /// The unit's q-th row, q < size.
  graph::Index row(graph::Index q) const { return rows ? rows[q] : first + q; }
  /// How many of the rows are < len (rows ascend: those are rows 0 .. valid - 1).
  graph::Index valid(graph::Index len) const {
    if (rows) return static_cast<graph::Index>(std::lower_bound(rows, rows + size, len) - rows);
    return std::clamp<graph::Index>(len - first, 0, size);
  }
};

/// The GEMM units of a list of dense runs (ascending, disjoint): runs of at least
/// kDenseGroupRows rows first, in order, then the rows of the shorter runs in groups of
/// kDenseGroupRows (the last group possibly partial).
class DenseGroups {
 public:
  explicit DenseGroups(std::span<const RowRange> runs) {
    for (const RowRange& run : runs) {
      if (run.end - run.begin >= kDenseGroupRows) {
        long_runs_.push_back(run);
      } else {
        for (graph::Index i = run.begin; i < run.end; ++i) short_rows_.push_back(i);
      }
    }
  }

  /// Number of units.
  std::int64_t size() const {
    return static_cast<std::int64_t>(long_runs_.size()) +
           (static_cast<std::int64_t>(short_rows_.size()) + kDenseGroupRows - 1) / kDenseGroupRows;
  }

  /// Unit u < size().
  DenseUnit operator[](std::int64_t u) const {
    const auto runs = static_cast<std::int64_t>(long_runs_.size());
    if (u < runs) {
      const RowRange& run = long_runs_[static_cast<std::size_t>(u)];
      return DenseUnit{nullptr, run.begin, run.end - run.begin};
    }
    const std::int64_t first = (u - runs) * kDenseGroupRows;
    const auto rows = static_cast<graph::Index>(std::min<std::int64_t>(
        kDenseGroupRows, static_cast<std::int64_t>(short_rows_.size()) - first));
    return DenseUnit{short_rows_.data() + first, 0, rows};
  }

  /// Rows of the longest unit (the size of a packed buffer's row dimension).
  graph::Index max_rows() const {
    graph::Index m =
        short_rows_.empty() ? 0 : std::min<graph::Index>(kDenseGroupRows, short_rows_.size());
    for (const RowRange& run : long_runs_) m = std::max(m, run.end - run.begin);
    return m;
  }

 private:
  std::vector<RowRange> long_runs_;
  std::vector<graph::Index> short_rows_;
};

}  // namespace diffuser::attention::cpu
