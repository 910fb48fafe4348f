// Why: a picture of an attention pattern or of attention weights at n = 16K or 1M tokens cannot
// be an n x n array (1 GB at 16K, 4 TB at 1M). A density map sums the entries of each block of
// a P x P grid laid over the matrix instead: O(nnz + P^2) for a pattern, O(K nnz P) for the
// diffused operator sum_k theta_k A^k, which is dense but never formed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::viz {

/// A P x P block aggregation of an n x n matrix W (row = query, column = key).
///
/// Tokens are cut into P = min(n, pixels) contiguous blocks: block b holds the tokens
/// [starts[b], starts[b+1]) with starts[b] = floor(b n / P), so block sizes differ by at most
/// one and P = n means one token per block (the exact matrix). values[I P + J] is the sum of
/// W_ij over i in block I and j in block J; the density of a cell is values / (rows_I cols_J).
struct DensityMap {
  graph::Index n = 0;                ///< tokens
  graph::Index pixels = 0;           ///< P, blocks per side
  std::vector<std::int64_t> starts;  ///< P + 1 block boundaries, starts[0] = 0, starts[P] = n
  std::vector<double> values;        ///< [P, P] row-major block sums
  /// Size of block b (tokens), starts[b+1] - starts[b].
  std::int64_t block_size(graph::Index b) const { return starts[b + 1] - starts[b]; }
  /// Sum of all values.
  double total() const;
};

/// The block of token i under P blocks of n tokens: the largest b with floor(b n / P) <= i,
/// i.e. floor(((i + 1) P - 1) / n). Requires 0 <= i < n and 1 <= P <= n.
inline graph::Index block_of(std::int64_t i, std::int64_t n, std::int64_t pixels) {
  return static_cast<graph::Index>(((i + 1) * pixels - 1) / n);
}

/// The block boundaries starts[0..P] for n tokens and P = min(n, pixels) blocks.
std::vector<std::int64_t> block_starts(graph::Index n, graph::Index pixels);

/// Density map of a graph: W_ij = 1 on every edge (weighted = false: values are edge counts and
/// sum to nnz), or W_ij = the edge value (weighted = true; the graph must have values).
/// O(nnz + P^2) time, O(P^2) memory; rows of blocks run in parallel, each block row summed by
/// one thread in CSR order, so the result is the same for any thread count.
/// Throws diffuser::Error for pixels < 1, n = 0, or weighted without values.
DensityMap density_map(const graph::CsrGraph& g, graph::Index pixels, bool weighted = false);

/// Density map of the diffused operator T = sum_k theta_k A^k, A = the edge values of `a`
/// (row = query): values[I, J] = 1_I^T T 1_J. Computed as R^T (T C) where C is the n x P
/// block-indicator matrix, by Horner on n x P dense blocks (Y_K = theta_K C,
/// Y_k = A Y_{k+1} + theta_k C): O(K nnz P) time, O(n P) memory, no n x n array. With
/// theta = (0, 1) it equals density_map(a, pixels, true). For a row-stochastic A the values sum
/// to n sum_k theta_k. Throws diffuser::Error for a graph without values, empty theta, or when
/// n P exceeds `max_cells` (the n x P work array; default 2^27 doubles = 1 GiB).
DensityMap diffused_density_map(const graph::CsrGraph& a, std::span<const double> theta,
                                graph::Index pixels,
                                std::int64_t max_cells = std::int64_t{1} << 27);

}  // namespace diffuser::viz
