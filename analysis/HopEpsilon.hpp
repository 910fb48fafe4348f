// Why: how many hops K of truncated PPR bring the diffused walk close to full attention — the
// epsilon-vs-K curve of `diffuser viz spectrum` (error_vs_k.csv). It maps the pattern's
// eigenvalues through each p_K: exactly over every eigenvalue when all of them are known, else
// the bound over [mu_min, mu2] from the spectral module. docs/spectral.md §7.
#pragma once

#include <span>
#include <vector>

#include "core/Diffusion.hpp"
#include "spectral/GraphSpectrum.hpp"

namespace diffuser::analysis {

/// One point of the curve: the diffusion p_K and epsilon = the largest non-trivial |p_K(mu)|
/// over the eigenvalues mu of M = D^{-1/2} S D^{-1/2} (S the symmetrised pattern), i.e. the
/// operator-norm distance of the diffused walk from the rank-one "full attention" projection.
struct HopEpsilon {
  Diffusion diffusion;  ///< Diffusion::ppr(alpha, K); K = 0 is plain attention
  double epsilon = 0.0;
  /// True when epsilon is the maximum over every eigenvalue but the trivial 1 (all eigenvalues
  /// given and S connected, so 1 is simple); false: the bound max |p_K| over [mu_min, mu2].
  bool exact = false;
  double second_largest = 0.0;  ///< DiffusedSpectrum::second_largest of p_K
  double gap = 0.0;             ///< DiffusedSpectrum::gap of p_K
};

/// epsilon of Diffusion::ppr(alpha, K) for every K in `hops` (in order). `all_eigenvalues`: every
/// eigenvalue of M, descending (all_eigenvalues[0] = 1), or empty when only the spectrum's
/// extremes are known. Throws diffuser::Error for a bad alpha or K (Diffusion's limits).
std::vector<HopEpsilon> epsilon_vs_hops(const spectral::GraphSpectrum& spectrum,
                                        std::span<const double> all_eigenvalues, double alpha,
                                        const std::vector<int>& hops);

}  // namespace diffuser::analysis
