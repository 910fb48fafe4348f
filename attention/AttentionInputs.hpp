// Why: the read-only tensors of one attention call, as spans over caller-owned memory, so the
// CLI (.npy buffers), the nn layer (activation buffers) and tests pass them without copies.
#pragma once

#include <cstdint>
#include <span>

#include "graph/CsrGraph.hpp"

namespace diffuser::attention {

/// Inputs of an attention call. q, k, v are row-major [batch, n, H·D] (head h of token i of
/// sequence b at columns h·D .. h·D+D-1 of row b·n + i); all sequences share the plan's
/// pattern. lengths[b] in [0, n] is sequence b's valid length: keys j >= lengths[b] contribute
/// nothing, query rows i >= lengths[b] produce zeros (and zero gradients). An empty span means
/// every sequence has length n. Backward must get the same q, k, v as the forward it follows.
template <typename T>
struct AttentionInputs {
  std::span<const T> q;
  std::span<const T> k;
  std::span<const T> v;
  std::int64_t batch = 1;
  std::span<const graph::Index> lengths;
};

}  // namespace diffuser::attention
