// Why: the diffused operator f(A) = sum_k theta_k A^k is what multi-hop attention applies; as an
// operator it can be handed to the same eigen-solvers, to check the spectral maps directly and
// to measure the diffused gap of operators whose spectrum is not known in closed form.
#pragma once

#include <string>
#include <vector>

#include "core/Diffusion.hpp"
#include "spectral/LinearOperator.hpp"

namespace diffuser::spectral {

/// T = sum_{k=0..K} theta_k A^k (n x n) for a polynomial Diffusion, applied by Horner's
/// rule (K products with A per application): y_K = theta_K x; y_k = A y_{k+1} + theta_k x;
/// T x = y_0. Symmetric when A is. Holds a reference: `base` must outlive this operator.
class DiffusedOperator final : public LinearOperator {
 public:
  /// Throws diffuser::Error for an untruncated PPR / heat kernel (use Diffusion::map).
  DiffusedOperator(const LinearOperator& base, const Diffusion& diffusion);

  graph::Index size() const override { return base_.size(); }
  void apply(const double* x, double* y) const override;
  bool symmetric() const override { return base_.symmetric(); }
  /// sum_k |theta_k| rho^k for the base bound rho.
  double spectral_radius_bound() const override;
  std::string name() const override;

  const Diffusion& diffusion() const { return diffusion_; }

 private:
  const LinearOperator& base_;
  Diffusion diffusion_;
  std::vector<double> theta_;
};

}  // namespace diffuser::spectral
