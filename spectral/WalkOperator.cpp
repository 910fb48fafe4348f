// Why: y = P x with P = D_out^{-1} G as compressed row sums of G divided by the out-degrees.
#include "spectral/WalkOperator.hpp"

namespace diffuser::spectral {

WalkOperator::WalkOperator(const graph::CsrGraph& g) : g_(g), plan_(g) {
  for (graph::Index i = 0; i < g.n(); ++i) dangling_ += g.degree(i) == 0 ? 1 : 0;
}

void WalkOperator::apply(const double* x, double* y) const {
  const graph::Index n = g_.n();
  plan_.row_sums(x, y);
  const auto off = g_.offsets();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (graph::Index i = 0; i < n; ++i) {
    const graph::Index d = off[i + 1] - off[i];
    y[i] = d == 0 ? x[i] : y[i] / static_cast<double>(d);
  }
}

}  // namespace diffuser::spectral
