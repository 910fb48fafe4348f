// Why: Cheeger's inequality bounds the conductance phi(G) by the spectral gap; a sweep over
// the Fiedler vector turns the bound into an actual cut whose conductance is computed exactly,
// i.e. a certified upper bound on phi(G) (Chung, Spectral Graph Theory, 1997, §2).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "spectral/NormalizedAdjacency.hpp"

namespace diffuser::spectral {

/// A vertex set T of the symmetrised pattern S with its exact conductance
/// phi(T) = cut(T) / min(vol(T), vol(V) - vol(T)), where cut(T) = sum_{i in T, j not in T} S_ij
/// (each undirected edge once; self-loops never cross) and vol(T) = sum_{i in T} d_i.
struct SweepCut {
  std::vector<graph::Index> set;  ///< the nodes of T, in sweep order
  std::int64_t cut = 0;
  std::int64_t volume = 0;        ///< vol(T)
  std::int64_t total_volume = 0;  ///< vol(V)
  double conductance = 0.0;
};

/// Sweep cut: sorts nodes by y_i = x_i / sqrt(d_i) (ties by node id), evaluates phi of every
/// proper prefix in O(nnz) total and returns the best prefix. x must have n finite entries and
/// n >= 2. Any x gives a certified upper bound on phi(G); for the Fiedler vector Cheeger's
/// inequality gives phi(T) <= sqrt(2 lambda2).
SweepCut fiedler_sweep_cut(const NormalizedAdjacency& m, std::span<const double> x);

/// The exact conductance of a given node set (distinct ids in [0, n), 0 < |set| < n; also
/// requires 0 < vol(set) < vol(V)). Throws diffuser::Error naming a bad id.
SweepCut set_conductance(const NormalizedAdjacency& m, std::span<const graph::Index> set);

}  // namespace diffuser::spectral
