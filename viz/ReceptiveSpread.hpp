// Why: diffusion lets a query read keys it has no edge to: after k hops its row of A^k reaches
// the k-hop neighbourhood in the pattern. This computes that spread for one query token, hop by
// hop, with vector-times-sparse-matrix products only (O(K nnz) time, O(K n) memory), so the
// receptive field of a token in a 1M-token pattern is as cheap as one forward pass.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::viz {

/// Row `query` of the powers of A (A = the graph's edge values, row = query, column = key) and
/// of the diffused operator T = sum_k theta_k A^k (docs/design.md §1):
///   hops[k, :] = e_q^T A^k (k = 0..K; hops[0] = e_q),   diffused = sum_k theta_k hops[k, :].
/// For a row-stochastic A every hops row sums to 1 and diffused sums to sum_k theta_k.
struct ReceptiveSpread {
  graph::Index n = 0;
  graph::Index query = 0;
  std::vector<double> theta;     ///< theta_0..theta_K
  std::vector<double> hops;      ///< [K + 1, n] row-major
  std::vector<double> diffused;  ///< [n]

  /// K, the number of hops (theta.size() - 1).
  int degree() const { return static_cast<int>(theta.size()) - 1; }
  /// Row k of hops (n values).
  std::span<const double> hop(int k) const {
    return std::span<const double>(hops).subspan(static_cast<std::size_t>(k) * n, n);
  }
};

/// Computes the spread by r_0 = e_q, r_{k+1} = r_k A, i.e. r_{k+1}[j] = sum_i r_k[i] A_ij,
/// evaluated as a gather over the transposed graph (parallel over keys j, fixed summation
/// order: the same result for any thread count). Throws diffuser::Error when the graph has no
/// values, the query is outside [0, n), or theta is empty or has more than 1025 entries.
ReceptiveSpread receptive_spread(const graph::CsrGraph& a, graph::Index query,
                                 std::span<const double> theta);

}  // namespace diffuser::viz
