// Why: per-edge, per-head values (scores, weights, their gradients) are stored in one fixed
// layout on every backend (docs/design.md §3). The kernels address them through this small stride
// pair, so the layout is decided in one place (docs/architecture.md, "Edge-value layout") and
// the benchmark can still time both candidates.
#pragma once

#include <cstdint>

namespace diffuser::attention {

/// Position of the value of (edge e, head h) inside one sequence's block of nnz·H values:
/// e · edge_stride + h · head_stride.
struct EdgeLayout {
  std::int64_t edge_stride = 1;
  std::int64_t head_stride = 0;

  std::int64_t at(std::int64_t e, std::int64_t h) const {
    return e * edge_stride + h * head_stride;
  }

  /// [H, nnz]: each head's values contiguous in CSR edge order (diffuser's layout).
  static EdgeLayout head_major(std::int64_t nnz) { return EdgeLayout{1, nnz}; }
  /// [nnz, H]: the H values of an edge contiguous (the measured alternative).
  static EdgeLayout edge_major(std::int64_t heads) { return EdgeLayout{heads, 1}; }
};

/// The layout diffuser uses for edge values: [H, nnz] per sequence, sequences one after the
/// other ([B, H, nnz] for a batch). Chosen by measurement (docs/architecture.md).
inline EdgeLayout edge_layout(std::int64_t heads, std::int64_t nnz) {
  (void)heads;
  return EdgeLayout::head_major(nnz);
}

}  // namespace diffuser::attention
