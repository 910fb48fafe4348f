// Why: a spectrum plot shows more than the gap: how the eigenvalues of the pattern's normalised
// adjacency fill [-1, 1], and where diffusion maps them. For small n every eigenvalue is
// computed densely; for long sequences only the two ends of the spectrum (what the gap,
// expansion and mixing depend on) by Lanczos through the spectral module.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "spectral/SolverOptions.hpp"

namespace diffuser::spectral {

/// Eigenvalues of M = D^{-1/2} S D^{-1/2} (S the symmetrised 0/1 pattern; spectral/
/// NormalizedAdjacency.hpp), real, in [-1, 1].
struct PatternEigenvalues {
  graph::Index n = 0;
  /// True when `top` holds all n eigenvalues (dense path; `bottom` is then empty).
  bool complete = false;
  /// The largest eigenvalues, descending (all of them when complete; top[0] = 1).
  std::vector<double> top;
  /// The smallest eigenvalues, ascending (iterative path only).
  std::vector<double> bottom;
  /// Largest residual ||M x - mu x|| over the iterative results (0 on the dense path).
  double max_residual = 0.0;
  /// True when every iterative result converged (always true on the dense path).
  bool converged = true;
  /// "dense" or "lanczos".
  std::string method;
};

/// All eigenvalues (Eigen's SelfAdjointEigenSolver on the dense M, O(n^3)) when n <= dense_max;
/// otherwise the `count` largest (with D^{1/2} 1, the eigenvalue 1, kept as top[0]) and the
/// `count` smallest by implicitly restarted Lanczos (symmetric_extremes with `opts`).
/// Throws diffuser::Error for n < 2 or count < 1; non-convergence is reported in the result.
PatternEigenvalues pattern_eigenvalues(const graph::CsrGraph& g, graph::Index dense_max, int count,
                                       const SolverOptions& opts = {});

}  // namespace diffuser::spectral
