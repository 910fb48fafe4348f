// Why: see DensityMap.hpp. Block rows are independent, so they are split over threads; every
// sum runs in a fixed order inside one thread, which keeps the maps bitwise reproducible.
#include "viz/DensityMap.hpp"

#include <algorithm>
#include <numeric>

#include "core/Error.hpp"

namespace diffuser::viz {

using graph::Index;

double DensityMap::total() const { return std::accumulate(values.begin(), values.end(), 0.0); }

std::vector<std::int64_t> block_starts(Index n, Index pixels) {
  DIFFUSER_CHECK(n >= 1, "density map: the graph has n = {} tokens (needs n >= 1)", n);
  DIFFUSER_CHECK(pixels >= 1, "density map: pixels = {} (must be >= 1)", pixels);
  const std::int64_t p = std::min(n, pixels);
  std::vector<std::int64_t> starts(static_cast<std::size_t>(p + 1));
  for (std::int64_t b = 0; b <= p; ++b) starts[b] = b * n / p;
  return starts;
}

DensityMap density_map(const graph::CsrGraph& g, Index pixels, bool weighted) {
  DIFFUSER_CHECK(!weighted || g.has_values(),
                 "density map: weighted map of a graph without edge values");
  DensityMap m;
  m.n = g.n();
  m.starts = block_starts(g.n(), pixels);
  const auto p = static_cast<std::int64_t>(m.starts.size()) - 1;
  m.pixels = static_cast<Index>(p);
  m.values.assign(static_cast<std::size_t>(p * p), 0.0);
  const auto offsets = g.offsets();
  const auto columns = g.columns();
  const auto vals = g.values();
  const std::int64_t n = g.n();
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t bi = 0; bi < p; ++bi) {
    double* out = m.values.data() + bi * p;
    for (std::int64_t i = m.starts[bi]; i < m.starts[bi + 1]; ++i) {
      for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
        out[block_of(columns[e], n, p)] += weighted ? static_cast<double>(vals[e]) : 1.0;
      }
    }
  }
  return m;
}

DensityMap diffused_density_map(const graph::CsrGraph& a, std::span<const double> theta,
                                Index pixels, std::int64_t max_cells) {
  DIFFUSER_CHECK(a.has_values(),
                 "diffused density map: the graph has no edge values (attention weights)");
  DIFFUSER_CHECK(!theta.empty(), "diffused density map: no diffusion coefficients");
  DensityMap m;
  m.n = a.n();
  m.starts = block_starts(a.n(), pixels);
  const auto p = static_cast<std::int64_t>(m.starts.size()) - 1;
  const std::int64_t n = a.n();
  m.pixels = static_cast<Index>(p);
  DIFFUSER_CHECK(n * p <= max_cells,
                 "diffused density map: n = {} tokens x {} pixels = {} cells exceeds the limit {} "
                 "(use fewer pixels)",
                 n, p, n * p, max_cells);
  const auto offsets = a.offsets();
  const auto columns = a.columns();
  const auto vals = a.values();
  const auto K = static_cast<std::int64_t>(theta.size()) - 1;
  // Y = theta_K C, then Y <- A Y + theta_k C for k = K-1 .. 0 (Horner), row by row.
  std::vector<double> y(static_cast<std::size_t>(n * p), 0.0), next(y.size());
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) y[i * p + block_of(i, n, p)] = theta[K];
  for (std::int64_t k = K - 1; k >= 0; --k) {
#pragma omp parallel for schedule(dynamic, 64)
    for (std::int64_t i = 0; i < n; ++i) {
      double* out = next.data() + i * p;
      std::fill(out, out + p, 0.0);
      for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
        const double w = vals[e];
        const double* src = y.data() + static_cast<std::int64_t>(columns[e]) * p;
        for (std::int64_t c = 0; c < p; ++c) out[c] += w * src[c];
      }
      out[block_of(i, n, p)] += theta[k];
    }
    y.swap(next);
  }
  m.values.assign(static_cast<std::size_t>(p * p), 0.0);
#pragma omp parallel for schedule(static)
  for (std::int64_t bi = 0; bi < p; ++bi) {
    double* out = m.values.data() + bi * p;
    for (std::int64_t i = m.starts[bi]; i < m.starts[bi + 1]; ++i) {
      const double* row = y.data() + i * p;
      for (std::int64_t c = 0; c < p; ++c) out[c] += row[c];
    }
  }
  return m;
}

}  // namespace diffuser::viz
