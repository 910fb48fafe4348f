// Why: the paper's argument is that sparse patterns with random/global edges behave like
// expanders, i.e. approximate full attention (the complete graph) spectrally, and mix in few
// hops. These metrics turn the computed spectrum into those statements, each with the
// assumption it rests on (docs/spectral.md).
#pragma once

#include <cstdint>
#include <optional>

#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SweepCut.hpp"

namespace diffuser::spectral {

/// Expander metrics of the symmetrised pattern S (all about M = D^{-1/2} S D^{-1/2}).
struct ExpanderMetrics {
  double lambda2 = 0.0;     ///< 1 - mu2: the one-sided spectral gap ("gap")
  double lambda_max = 0.0;  ///< 1 - mu_min
  /// mu* = max(|mu2|, |mu_min|) = max_{i >= 2} |mu_i|: the two-sided gap is 1 - mu*.
  double mu_star = 0.0;
  /// epsilon such that (1 - eps) L_K <= L_G <= (1 + eps) L_K on the complement of D^{1/2} 1,
  /// where L_K = I - D^{1/2} 1 1^T D^{1/2} / vol is the normalised Laplacian of the complete
  /// graph with edge weights d_i d_j / vol (full attention with the same degrees). Equals mu*;
  /// for a d-regular graph it is max non-trivial |adjacency eigenvalue| / d.
  double epsilon_complete = 0.0;
  double cheeger_lower = 0.0;  ///< lambda2 / 2 <= phi(G)
  double cheeger_upper = 0.0;  ///< phi(G) <= sqrt(2 lambda2)
  /// Fiedler sweep cut: sweep.conductance is a certified upper bound on phi(G) (empty when
  /// the Fiedler vector is unavailable).
  std::optional<SweepCut> sweep;

  /// S minus its self-loops is d-regular and self-loops are on all nodes or none.
  bool regular = false;
  graph::Index regular_degree = 0;  ///< d (without self-loops) when regular
  bool self_loops = false;          ///< every node carries a self-loop (regular case)
  /// max non-trivial |eigenvalue| of the loop-free adjacency / (2 sqrt(d - 1)); <= 1 means
  /// Ramanujan. Present when regular and d >= 3.
  std::optional<double> ramanujan_ratio;

  /// Tolerance used for mixing_hops.
  double mixing_tolerance = 1e-3;
  /// Smallest K with sqrt(d_max / d_min) mu*^K <= tolerance, which bounds
  /// |P^K(i, j) - pi_j| for every i, j for the reversible walk P = D^{-1} S (pi_j = d_j / vol;
  /// Levin, Peres, Wilmer, Markov Chains and Mixing Times, 2nd ed., eq. 12.13 with
  /// sqrt(pi_j / pi_i) <= sqrt(d_max / d_min)). Absent when mu* >= 1 (disconnected or
  /// bipartite: the walk never mixes).
  std::optional<std::int64_t> mixing_hops;
};

/// Metrics from a computed spectrum of the graph behind m (s = graph_spectrum(g, m)). The
/// sweep cut uses s.mu2.vector. Throws diffuser::Error when tolerance is not in (0, 1).
ExpanderMetrics expander_metrics(const GraphSpectrum& s, const NormalizedAdjacency& m,
                                 double mixing_tolerance = 1e-3);

}  // namespace diffuser::spectral
