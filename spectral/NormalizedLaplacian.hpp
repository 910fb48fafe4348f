// Why: lambda2 and lambda_max are reported for the normalised Laplacian; having it as an
// operator lets tests and users solve it directly instead of re-deriving 1 - mu by hand.
#pragma once

#include <string>

#include "spectral/NormalizedAdjacency.hpp"

namespace diffuser::spectral {

/// L = I - D^{-1/2} S D^{-1/2} (n x n, symmetric, spectrum in [0, 2]); eigenvalue lambda of L
/// <-> eigenvalue 1 - lambda of the normalised adjacency M. Holds a reference: `m` must
/// outlive this operator.
class NormalizedLaplacian final : public LinearOperator {
 public:
  explicit NormalizedLaplacian(const NormalizedAdjacency& m) : m_(m) {}

  graph::Index size() const override { return m_.size(); }
  void apply(const double* x, double* y) const override;
  bool symmetric() const override { return true; }
  double spectral_radius_bound() const override { return 2.0; }
  std::string name() const override { return "normalized_laplacian"; }

 private:
  const NormalizedAdjacency& m_;
};

}  // namespace diffuser::spectral
