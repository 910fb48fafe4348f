// Why: the numbers a researcher asks of an attention pattern — lambda2 and lambda_max of the
// normalised Laplacian, the walk's second-largest |eigenvalue| — computed robustly in one call:
// exact answers for disconnected and bipartite graphs, the similarity shortcut for symmetric
// patterns, Lanczos with a shift-invert fallback for tiny gaps, Arnoldi for directed walks.
#pragma once

#include <cstdint>

#include "graph/CsrGraph.hpp"
#include "spectral/Components.hpp"
#include "spectral/EigenResult.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SolverOptions.hpp"

namespace diffuser::spectral {

/// Spectral summary of a pattern G. M = D^{-1/2} S D^{-1/2} (S the symmetrised 0/1 pattern,
/// see NormalizedAdjacency), L = I - M its normalised Laplacian, P = D_out^{-1} G the walk on
/// the directed pattern (see WalkOperator).
struct GraphSpectrum {
  graph::Index n = 0;
  std::int64_t nnz = 0;            ///< edges of G
  std::int64_t nnz_symmetric = 0;  ///< edges of S
  graph::Index isolated_nodes = 0;
  graph::Index components = 0;  ///< connected components of S
  bool bipartite = false;       ///< some component of S is bipartite (then mu_min = -1)
  bool pattern_symmetric = false;

  /// Second-largest eigenvalue of M, counting multiplicity (1 when S is disconnected).
  /// `vector` is its unit eigenvector (the Fiedler vector of L), orthogonal to D^{1/2} 1.
  EigenResult mu2;
  /// Smallest eigenvalue of M (-1 when a component is bipartite).
  EigenResult mu_min;
  /// Second-largest |eigenvalue| of P, counting multiplicity (value/imag: the eigenvalue).
  EigenResult mu2_walk;

  /// lambda2(L) = 1 - mu2.
  double lambda2() const { return 1.0 - mu2.value; }
  /// lambda_max(L) = 1 - mu_min.
  double lambda_max() const { return 1.0 - mu_min.value; }
  /// True when all three results converged.
  bool converged() const { return mu2.converged && mu_min.converged && mu2_walk.converged; }

  double seconds = 0.0;  ///< wall time of graph_spectrum (including building M)
};

/// Computes the summary for G (n >= 2). Exact shortcuts: >= 2 components -> mu2 = 1 and
/// |mu2_walk| = 1 (each weakly connected component holds a closed class of the walk); a
/// bipartite component -> mu_min = -1; a symmetric pattern -> P = D^{-1} S is similar to M, so
/// mu2_walk is max(mu2, -mu_min) (eigenvector D^{-1/2} x, residual measured on P). Otherwise:
/// mu2 by Lanczos on M with D^{1/2} 1 deflated, mu_min by Lanczos on M; both fall back to
/// shift-invert (sparse Cholesky of L + tau I, resp. M - sigma I with sigma certified below the
/// spectrum) when Lanczos has not converged within opts.matvecs_before_shift_invert
/// applications; mu2_walk by Arnoldi on P - 1 (1/n) 1^T. Dense paths below the size limits of
/// `opts`. Non-convergence is reported in each result, never hidden.
GraphSpectrum graph_spectrum(const graph::CsrGraph& g, const SolverOptions& opts = {});

/// Same, reusing an already built M of g (m must have been built from g).
GraphSpectrum graph_spectrum(const graph::CsrGraph& g, const NormalizedAdjacency& m,
                             const SolverOptions& opts = {});

/// Only the second-largest eigenvalue mu2 of M (the gap is lambda2 = 1 - mu2), with the same
/// strategy as graph_spectrum: exact 1 when S is disconnected, else Lanczos with D^{1/2} 1
/// deflated and the shift-invert fallback. `vector` holds the Fiedler vector. n >= 2.
EigenResult second_eigenvalue(const NormalizedAdjacency& m, const SolverOptions& opts = {});

}  // namespace diffuser::spectral
