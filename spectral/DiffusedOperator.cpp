// Why: Horner evaluation of the diffusion polynomial on top of any base operator.
#include "spectral/DiffusedOperator.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace diffuser::spectral {

DiffusedOperator::DiffusedOperator(const LinearOperator& base, const Diffusion& diffusion)
    : base_(base), diffusion_(diffusion) {
  DIFFUSER_CHECK(diffusion.is_polynomial(),
                 "diffused operator: {} is not a polynomial in A; use its eigenvalue map instead",
                 diffusion.compact());
  theta_ = diffusion.theta();
}

void DiffusedOperator::apply(const double* x, double* y) const {
  const graph::Index n = size();
  const std::size_t kk = theta_.size() - 1;
  std::vector<double> cur(n), next(n);
  for (graph::Index i = 0; i < n; ++i) cur[i] = theta_[kk] * x[i];
  for (std::size_t k = kk; k-- > 0;) {
    base_.apply(cur.data(), next.data());
    for (graph::Index i = 0; i < n; ++i) next[i] += theta_[k] * x[i];
    cur.swap(next);
  }
  for (graph::Index i = 0; i < n; ++i) y[i] = cur[i];
}

double DiffusedOperator::spectral_radius_bound() const {
  const double rho = base_.spectral_radius_bound();
  double bound = 0.0, p = 1.0;
  for (double th : theta_) {
    bound += std::abs(th) * p;
    p *= rho;
  }
  return bound;
}

std::string DiffusedOperator::name() const {
  return diffusion_.compact() + "[" + base_.name() + "]";
}

}  // namespace diffuser::spectral
