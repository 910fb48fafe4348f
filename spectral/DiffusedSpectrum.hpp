// Why: diffusion changes the spectrum by a scalar map f (docs/design.md §1); applied to the
// computed eigenvalues of the pattern it shows how many hops / which alpha close the gap to full
// attention, without another eigen-solve.
#pragma once

#include <complex>

#include "core/Diffusion.hpp"
#include "spectral/GraphSpectrum.hpp"

namespace diffuser::spectral {

/// Spectral quantities of the diffused walk f(P) on the symmetrised pattern (P = D^{-1} S is
/// similar to M, so f(P) has eigenvalues f(mu_i)), and the image of the directed walk's mu2.
struct DiffusedSpectrum {
  Diffusion diffusion;
  double f_mu2 = 0.0;     ///< f(mu2): eigenvalue of f(M) on the Fiedler vector
  double f_mu_min = 0.0;  ///< f(mu_min)
  /// max of f over [mu_min, mu2]: an upper bound on every non-trivial eigenvalue of f(M),
  /// attained (exact) when f is increasing there (untruncated PPR and heat, plain).
  double second_largest = 0.0;
  /// 1 - second_largest: a lower bound on the one-sided gap of f(M) (f(1) = 1 is kept).
  double gap = 0.0;
  /// max |f| over [mu_min, mu2]: an upper bound on every non-trivial |eigenvalue| of f(M).
  double mu_star = 0.0;
  /// f(mu2_walk): the eigenvalue of f(P_directed) on the directed walk's second eigenvector.
  std::complex<double> f_mu2_walk{0.0, 0.0};
  /// True when second_largest == f(mu2) (the bound is attained by a computed eigenvalue).
  bool exact = false;
};

/// Applies `diffusion` to a computed spectrum (n >= 2).
DiffusedSpectrum diffused_spectrum(const GraphSpectrum& s, const Diffusion& diffusion);

}  // namespace diffuser::spectral
