// Why: attention dropout must draw the same mask on any thread count and on the GPU. The mask
// element of (sequence b, head h, edge e) is one counter-based draw whose index is written down
// here once and used by every backend.
#pragma once

#include <cstdint>

#include "core/Rng.hpp"

namespace diffuser::attention {

/// Counter index of the dropout draw for sequence b of the batch, head h, pattern edge e
/// (e in CSR order of the pattern, 0 <= e < nnz):
///
///     index = (b · H + h) · nnz + e.
///
/// The draw is u = counter_uniform(seed, stream, index) (core/Rng.hpp: Philox4x32-10 on counter
/// (index lo, index hi, stream lo, stream hi) with key seed; top 24 bits of the first word / 2^24).
DIFFUSER_HD inline std::uint64_t dropout_index(std::uint64_t b, std::uint64_t h, std::uint64_t e,
                                               std::uint64_t heads, std::uint64_t nnz) {
  return (b * heads + h) * nnz + e;
}

/// The multiplier of a kept edge, 1 / (1 - p), computed in float on every backend.
DIFFUSER_HD inline float dropout_keep_scale(float p) { return 1.0f / (1.0f - p); }

/// Multiplier of edge weight a_e under dropout probability p: 1 / (1 - p) when the edge is kept
/// (u >= p), 0 when it is dropped (u < p). p = 0 keeps every edge with multiplier 1.
DIFFUSER_HD inline float dropout_multiplier(std::uint64_t seed, std::uint64_t stream,
                                            std::uint64_t index, float p) {
  if (p <= 0.0f) return 1.0f;
  return counter_uniform(seed, stream, index) >= p ? dropout_keep_scale(p) : 0.0f;
}

}  // namespace diffuser::attention
