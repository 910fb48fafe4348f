// Why: forward computes the edge weights and hop states that backward needs; this is where
// they are kept between the two calls (llm.c style: no autograd graph, an explicit record).
#pragma once

#include <cstdint>
#include <vector>

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/EdgeLayout.hpp"

namespace diffuser::attention {

/// What a sparse attention forward saves for backward. Filled by sparse_attention_forward;
/// read by sparse_attention_backward with the same plan and inputs.
///
/// Memory per sequence (n tokens, width H·D, nnz edges, degree K, s = sizeof(T)):
///  - attn: nnz·H·s; attn_dropped: another nnz·H·s only when dropout > 0;
///  - hops: (K-1)·n·H·D·s in MemoryMode::kStoreHops, nothing in kRecompute.
/// bytes() returns the total.
template <typename T>
struct AttentionSaved {
  AttentionGeometry geometry;
  AttentionOptions options;
  std::uint64_t plan_id = 0;  ///< AttentionPlan::id() of the forward's plan
  std::int64_t nnz = 0;

  /// Softmax edge weights a_e before dropout: per sequence a block of nnz·H values in
  /// edge_layout() ([H, nnz]); blocks in batch order. Masked edges hold 0.
  std::vector<T> attn;
  /// The weights after dropout (a_e times the dropout multiplier), same layout; empty when
  /// options.dropout == 0 (then attn is used).
  std::vector<T> attn_dropped;
  /// Hop states Y_1..Y_{K-1}: [batch, K-1, n, H·D] (kStoreHops); empty in kRecompute or K <= 1.
  std::vector<T> hops;

  /// Bytes held by the three buffers.
  std::size_t bytes() const {
    return (attn.size() + attn_dropped.size() + hops.size()) * sizeof(T);
  }

  /// The weights actually used by the diffusion (dropped when dropout > 0).
  const std::vector<T>& diffusion_weights() const {
    return attn_dropped.empty() ? attn : attn_dropped;
  }

  /// Softmax weight of edge e (CSR order of the pattern), head h, sequence b (before dropout).
  T weight(std::int64_t b, int h, std::int64_t e) const {
    return attn[static_cast<std::size_t>(b * nnz * geometry.heads +
                                         edge_layout(geometry.heads, nnz).at(e, h))];
  }
};

}  // namespace diffuser::attention
