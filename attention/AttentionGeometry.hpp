// Why: every attention entry point (sparse, dense, reference, CUDA) resolves and checks the same
// shapes: [batch, n, H·D] activations, H dividing the width, per-sequence valid lengths, finite
// values. Doing it in one place gives one set of error messages naming the tensor at fault.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::attention {

/// The resolved shape of one attention call. Activations are row-major [batch, n, width] with
/// width = heads · head_dim; head h of token i of sequence b occupies the columns
/// h·head_dim .. h·head_dim + head_dim - 1 of row (b, i).
struct AttentionGeometry {
  std::int64_t batch = 0;
  graph::Index n = 0;
  int heads = 0;
  int head_dim = 0;
  std::int64_t width = 0;             ///< heads · head_dim
  std::vector<graph::Index> lengths;  ///< valid length of each sequence, in [0, n]

  /// Elements of one sequence's activations (n · width).
  std::int64_t sequence_numel() const { return static_cast<std::int64_t>(n) * width; }
  /// Elements of a whole [batch, n, width] tensor.
  std::int64_t numel() const { return batch * sequence_numel(); }

  friend bool operator==(const AttentionGeometry&, const AttentionGeometry&) = default;
};

/// Resolves the geometry from the tensor sizes and checks it. The width is q_size / (batch · n).
/// Throws diffuser::Error naming the problem: batch < 1, heads < 1, empty q, q's size not a
/// multiple of batch · n, k or v of a different size than q, width not a multiple of heads,
/// lengths.size() not batch (an empty lengths span means every sequence has length n), or a
/// length outside [0, n].
AttentionGeometry resolve_geometry(graph::Index n, int heads, std::int64_t batch,
                                   std::size_t q_size, std::size_t k_size, std::size_t v_size,
                                   std::span<const graph::Index> lengths);

/// Throws diffuser::Error when `size` differs from the geometry's numel(), e.g.
/// "attention: dz has 10 elements, expected [batch, n, H*D] = [1, 4, 6] = 24".
void check_tensor_size(const std::string& name, std::size_t size, const AttentionGeometry& g);

/// Throws diffuser::Error naming the tensor and the first non-finite element by its
/// [b, i, column] position, e.g. "attention input v: element [0, 3, 5] is nan".
template <typename T>
void check_finite(const std::string& name, std::span<const T> values, const AttentionGeometry& g);

}  // namespace diffuser::attention
