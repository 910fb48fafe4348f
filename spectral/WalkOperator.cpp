// Why: row-parallel y = P x with P = D_out^{-1} G, each row summed by one thread in order.
#include "spectral/WalkOperator.hpp"

namespace diffuser::spectral {

WalkOperator::WalkOperator(const graph::CsrGraph& g) : g_(g) {
  for (graph::Index i = 0; i < g.n(); ++i) dangling_ += g.degree(i) == 0 ? 1 : 0;
}

void WalkOperator::apply(const double* x, double* y) const {
  const graph::Index n = g_.n();
  const auto off = g_.offsets();
  const auto col = g_.columns();
#pragma omp parallel for schedule(static) if (g_.nnz() > 100000)
  for (graph::Index i = 0; i < n; ++i) {
    const graph::Index b = off[i], e = off[i + 1];
    if (b == e) {
      y[i] = x[i];
      continue;
    }
    double acc = 0.0;
    for (graph::Index k = b; k < e; ++k) acc += x[col[k]];
    y[i] = acc / static_cast<double>(e - b);
  }
}

}  // namespace diffuser::spectral
