// Why: y = x - M x on top of the normalised adjacency's product.
#include "spectral/NormalizedLaplacian.hpp"

namespace diffuser::spectral {

void NormalizedLaplacian::apply(const double* x, double* y) const {
  m_.apply(x, y);
  const graph::Index n = size();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (graph::Index i = 0; i < n; ++i) y[i] = x[i] - y[i];
}

}  // namespace diffuser::spectral
