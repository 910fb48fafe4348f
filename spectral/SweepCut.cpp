// Why: O(nnz) incremental cut/volume bookkeeping for the sweep and for a single set.
#include "spectral/SweepCut.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/Error.hpp"

namespace diffuser::spectral {

SweepCut fiedler_sweep_cut(const NormalizedAdjacency& m, std::span<const double> x) {
  const graph::Index n = m.size();
  DIFFUSER_CHECK(n >= 2, "sweep cut: needs n >= 2 (got {})", n);
  DIFFUSER_CHECK(static_cast<graph::Index>(x.size()) == n,
                 "sweep cut: vector has {} entries, graph has n = {}", x.size(), n);
  std::vector<double> y(n);
  for (graph::Index i = 0; i < n; ++i) {
    DIFFUSER_CHECK(std::isfinite(x[i]), "sweep cut: entry {} of the vector is {}", i, x[i]);
    y[i] = x[i] / m.sqrt_degree()[i];
  }
  std::vector<graph::Index> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](graph::Index a, graph::Index b) { return y[a] < y[b]; });
  std::vector<graph::Index> pos(n);
  for (graph::Index t = 0; t < n; ++t) pos[order[t]] = t;

  const graph::CsrGraph& s = m.pattern();
  const std::int64_t total = m.volume();
  std::int64_t cut = 0, vol = 0;
  double best = std::numeric_limits<double>::infinity();
  graph::Index best_t = 0;
  std::int64_t best_cut = 0, best_vol = 0;
  for (graph::Index t = 0; t + 1 < n; ++t) {
    const graph::Index v = order[t];
    for (graph::Index w : s.row(v)) {
      if (w == v) continue;
      cut += pos[w] < t ? -1 : 1;
    }
    vol += m.degree(v);
    const std::int64_t denom = std::min(vol, total - vol);
    const double phi = static_cast<double>(cut) / static_cast<double>(denom);
    if (phi < best) {
      best = phi;
      best_t = t;
      best_cut = cut;
      best_vol = vol;
    }
  }
  SweepCut out;
  out.set.assign(order.begin(), order.begin() + best_t + 1);
  out.cut = best_cut;
  out.volume = best_vol;
  out.total_volume = total;
  out.conductance = best;
  return out;
}

SweepCut set_conductance(const NormalizedAdjacency& m, std::span<const graph::Index> set) {
  const graph::Index n = m.size();
  std::vector<char> in(n, 0);
  for (graph::Index v : set) {
    DIFFUSER_CHECK(v >= 0 && v < n, "set conductance: node {} out of range [0, {})", v, n);
    DIFFUSER_CHECK(!in[v], "set conductance: node {} listed twice", v);
    in[v] = 1;
  }
  DIFFUSER_CHECK(!set.empty() && static_cast<graph::Index>(set.size()) < n,
                 "set conductance: the set must be non-empty and proper (size {} of n = {})",
                 set.size(), n);
  SweepCut out;
  out.set.assign(set.begin(), set.end());
  out.total_volume = m.volume();
  for (graph::Index v : set) {
    out.volume += m.degree(v);
    for (graph::Index w : m.pattern().row(v)) out.cut += in[w] ? 0 : 1;
  }
  const std::int64_t denom = std::min(out.volume, out.total_volume - out.volume);
  out.conductance = static_cast<double>(out.cut) / static_cast<double>(denom);
  return out;
}

}  // namespace diffuser::spectral
