// Why: see ReceptiveSpread.hpp.
#include "viz/ReceptiveSpread.hpp"

#include "core/Error.hpp"

namespace diffuser::viz {

using graph::Index;

ReceptiveSpread receptive_spread(const graph::CsrGraph& a, Index query,
                                 std::span<const double> theta) {
  DIFFUSER_CHECK(a.has_values(), "receptive field: the graph has no edge values (weights)");
  DIFFUSER_CHECK(query >= 0 && query < a.n(), "receptive field: query {} is outside [0, n = {})",
                 query, a.n());
  DIFFUSER_CHECK(!theta.empty() && theta.size() <= 1025,
                 "receptive field: {} diffusion coefficients (expected 1 to 1025)", theta.size());
  ReceptiveSpread r;
  r.n = a.n();
  r.query = query;
  r.theta.assign(theta.begin(), theta.end());
  const std::int64_t n = a.n();
  const int K = r.degree();
  r.hops.assign(static_cast<std::size_t>((K + 1) * n), 0.0);
  r.hops[static_cast<std::size_t>(query)] = 1.0;
  const graph::Transposed t = graph::transpose(a);
  const auto offsets = t.graph.offsets();
  const auto columns = t.graph.columns();
  const auto values = t.graph.values();
  for (int k = 0; k < K; ++k) {
    const double* prev = r.hops.data() + static_cast<std::int64_t>(k) * n;
    double* next = r.hops.data() + static_cast<std::int64_t>(k + 1) * n;
#pragma omp parallel for schedule(dynamic, 256)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (Index e = offsets[j]; e < offsets[j + 1]; ++e) {
        s += static_cast<double>(values[e]) * prev[columns[e]];
      }
      next[j] = s;
    }
  }
  r.diffused.assign(static_cast<std::size_t>(n), 0.0);
  for (int k = 0; k <= K; ++k) {
    const double* row = r.hops.data() + static_cast<std::int64_t>(k) * n;
    for (std::int64_t j = 0; j < n; ++j) r.diffused[j] += r.theta[k] * row[j];
  }
  return r;
}

}  // namespace diffuser::viz
