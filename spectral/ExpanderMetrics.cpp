// Why: formulas behind the expander metrics (gap, epsilon, Cheeger, Ramanujan, mixing hops).
#include "spectral/ExpanderMetrics.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"

namespace diffuser::spectral {

ExpanderMetrics expander_metrics(const GraphSpectrum& s, const NormalizedAdjacency& m,
                                 double mixing_tolerance) {
  DIFFUSER_CHECK(mixing_tolerance > 0.0 && mixing_tolerance < 1.0,
                 "mixing tolerance must be in (0, 1) (got {})", mixing_tolerance);
  DIFFUSER_CHECK(m.size() == s.n,
                 "expander metrics: spectrum (n = {}) and operator (n = {}) differ", s.n, m.size());
  ExpanderMetrics e;
  e.lambda2 = s.lambda2();
  e.lambda_max = s.lambda_max();
  e.mu_star = std::max(std::abs(s.mu2.value), std::abs(s.mu_min.value));
  e.epsilon_complete = e.mu_star;
  const double l2 = std::max(e.lambda2, 0.0);  // rounding can give -1e-16 for lambda2 = 0
  e.cheeger_lower = l2 / 2.0;
  e.cheeger_upper = std::sqrt(2.0 * l2);
  if (static_cast<graph::Index>(s.mu2.vector.size()) == s.n && s.n >= 2) {
    e.sweep = fiedler_sweep_cut(m, s.mu2.vector);
  }

  // Regularity of S without self-loops.
  const graph::CsrGraph& g = m.pattern();
  bool all_loops = true, no_loops = true, regular = true;
  graph::Index d0 = -1;
  graph::Index d_min = std::numeric_limits<graph::Index>::max(), d_max = 0;
  for (graph::Index i = 0; i < s.n; ++i) {
    const bool loop = g.has_edge(i, i);
    all_loops = all_loops && loop;
    no_loops = no_loops && !loop;
    const graph::Index d = g.degree(i) - (loop ? 1 : 0);
    if (d0 < 0) d0 = d;
    regular = regular && d == d0;
    d_min = std::min(d_min, g.degree(i));
    d_max = std::max(d_max, g.degree(i));
  }
  e.regular = regular && (all_loops || no_loops) && s.n >= 1;
  if (e.regular) {
    e.regular_degree = d0;
    e.self_loops = all_loops && s.n >= 1;
    const double l = e.self_loops ? 1.0 : 0.0;
    const double d = d0 + l;  // degree in S
    if (d0 >= 3) {
      const double top = std::max(std::abs(d * s.mu2.value - l), std::abs(d * s.mu_min.value - l));
      e.ramanujan_ratio = top / (2.0 * std::sqrt(d0 - 1.0));
    }
  }

  e.mixing_tolerance = mixing_tolerance;
  if (std::isfinite(e.mu_star) && e.mu_star < 1.0 - 1e-15) {
    const double c = std::sqrt(static_cast<double>(d_max) / static_cast<double>(d_min));
    if (c <= mixing_tolerance) {
      e.mixing_hops = 0;
    } else if (e.mu_star <= 0.0) {
      e.mixing_hops = 1;
    } else {
      e.mixing_hops = static_cast<std::int64_t>(
          std::ceil(std::log(c / mixing_tolerance) / std::log(1.0 / e.mu_star)));
    }
  }
  return e;
}

}  // namespace diffuser::spectral
