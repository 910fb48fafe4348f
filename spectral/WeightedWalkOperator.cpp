// Why: validation of the attention matrix's stochasticity and its row-parallel product.
#include "spectral/WeightedWalkOperator.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace diffuser::spectral {

WeightedWalkOperator::WeightedWalkOperator(const graph::CsrGraph& g, RowSums mode, double tolerance)
    : g_(g) {
  DIFFUSER_CHECK(g.has_values(), "attention operator: the graph (n = {}) has no edge values",
                 g.n());
  DIFFUSER_CHECK(tolerance >= 0.0 && std::isfinite(tolerance),
                 "attention operator: row-sum tolerance must be finite and >= 0 (got {})",
                 tolerance);
  const auto vals = g.values();
  w_.assign(vals.begin(), vals.end());
  for (graph::Index i = 0; i < g.n(); ++i) {
    DIFFUSER_CHECK(g.degree(i) > 0, "attention operator: row {} has no edges (not stochastic)", i);
    double sum = 0.0;
    for (graph::Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) {
      DIFFUSER_CHECK(w_[e] >= 0.0, "attention operator: edge ({}, {}) has negative weight {}", i,
                     g.columns()[e], w_[e]);
      sum += w_[e];
    }
    if (mode == RowSums::kRequireStochastic) {
      DIFFUSER_CHECK(std::abs(sum - 1.0) <= tolerance,
                     "attention operator: row {} sums to {} (|sum - 1| > tolerance {})", i, sum,
                     tolerance);
    } else {
      DIFFUSER_CHECK(sum > 0.0, "attention operator: row {} sums to 0, cannot normalise", i);
      for (graph::Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) w_[e] /= sum;
    }
  }
}

void WeightedWalkOperator::apply(const double* x, double* y) const {
  const graph::Index n = g_.n();
  const auto off = g_.offsets();
  const auto col = g_.columns();
#pragma omp parallel for schedule(static) if (g_.nnz() > 100000)
  for (graph::Index i = 0; i < n; ++i) {
    double acc = 0.0;
    for (graph::Index k = off[i]; k < off[i + 1]; ++k) acc += w_[k] * x[col[k]];
    y[i] = acc;
  }
}

}  // namespace diffuser::spectral
