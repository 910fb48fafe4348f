// Why: the two rules of HopSuggestion.hpp over the epsilon-vs-K curve of HopEpsilon.
#include "analysis/HopSuggestion.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/Error.hpp"
#include "spectral/PatternEigenvalues.hpp"

namespace diffuser::analysis {

const char* to_string(HopRule rule) {
  switch (rule) {
    case HopRule::kTarget:
      return "target";
    case HopRule::kConverged:
      return "converged";
    case HopRule::kMaxHops:
      return "max_hops";
  }
  return "?";
}

namespace {

// epsilon of K = infinity. alpha > 0: f(mu) = alpha / (1 - (1 - alpha) mu) is positive and
// increasing on [-1, 1], so its largest non-trivial value is f(mu2), attained (mu2 is an
// eigenvalue on both paths). alpha = 0: mu^K -> 0 unless some non-trivial |mu| = 1, which the
// structure decides exactly (a second component: mu2 = 1; a bipartite one: mu_min = -1).
double limit_epsilon(const spectral::GraphSpectrum& s, std::span<const double> all, bool exact,
                     double alpha) {
  if (s.components >= 2) return 1.0;  // f(1) = 1 on the second component's vector
  if (alpha == 0.0) return s.bipartite ? 1.0 : 0.0;
  const double mu2 = exact ? all[1] : s.mu2.value;
  return Diffusion::ppr(alpha).map(mu2);
}

}  // namespace

HopSuggestion suggest_hops(const spectral::GraphSpectrum& spectrum,
                           std::span<const double> all_eigenvalues, const HopCriteria& c) {
  DIFFUSER_CHECK(c.alpha >= 0.0 && c.alpha <= 1.0, "suggest_hops: alpha = {} outside [0, 1]",
                 c.alpha);
  DIFFUSER_CHECK(c.max_hops >= 0 && c.max_hops <= Diffusion::kMaxHops,
                 "suggest_hops: max_hops = {} outside [0, {}]", c.max_hops, Diffusion::kMaxHops);
  DIFFUSER_CHECK(c.relative_tolerance > 0.0 && c.relative_tolerance < 1.0,
                 "suggest_hops: relative_tolerance = {} outside (0, 1)", c.relative_tolerance);
  DIFFUSER_CHECK(!c.target_epsilon || (*c.target_epsilon > 0.0 && *c.target_epsilon <= 1.0),
                 "suggest_hops: target_epsilon = {} outside (0, 1]", c.target_epsilon.value_or(0));
  DIFFUSER_CHECK(
      all_eigenvalues.empty() || all_eigenvalues.size() == static_cast<std::size_t>(spectrum.n),
      "suggest_hops: {} eigenvalues given for a pattern of n = {}", all_eigenvalues.size(),
      spectrum.n);

  std::vector<int> hops(static_cast<std::size_t>(c.max_hops) + 1);
  std::iota(hops.begin(), hops.end(), 0);
  HopSuggestion out;
  out.alpha = c.alpha;
  out.curve = epsilon_vs_hops(spectrum, all_eigenvalues, c.alpha, hops);
  out.exact = out.curve.front().exact;
  out.epsilon_plain = out.curve.front().epsilon;
  out.epsilon_limit = limit_epsilon(spectrum, all_eigenvalues, out.exact, c.alpha);
  out.converged_threshold =
      out.epsilon_limit + c.relative_tolerance * (out.epsilon_plain - out.epsilon_limit);

  auto first_at_most = [&](double bound) -> std::optional<int> {
    for (const HopEpsilon& p : out.curve) {
      if (p.epsilon <= bound) return p.diffusion.hops();
    }
    return std::nullopt;
  };
  const std::string about = fmt::format(
      "plain attention {:.6g}, untruncated PPR(alpha={}) limit {:.6g}{}", out.epsilon_plain,
      c.alpha, out.epsilon_limit, out.exact ? "" : "; epsilons are bounds over [mu_min, mu2]");
  auto finish = [&](int k, HopRule rule, std::string why) {
    out.hops = k;
    out.rule = rule;
    out.epsilon = out.curve[static_cast<std::size_t>(k)].epsilon;
    out.reasoning = fmt::format("K = {}: {} ({})", k, why, about);
    return out;
  };

  if (spectrum.components >= 2) {
    if (c.target_epsilon) out.target_reached = *c.target_epsilon >= 1.0;
    return finish(0, HopRule::kConverged,
                  fmt::format("the pattern has {} components (mu2 = 1): no number of hops mixes "
                              "them, epsilon stays 1",
                              spectrum.components));
  }
  if (c.alpha == 0.0 && spectrum.bipartite) {
    if (c.target_epsilon) out.target_reached = *c.target_epsilon >= 1.0;
    return finish(0, HopRule::kConverged,
                  "a component is bipartite (mu_min = -1) and alpha = 0: |(-1)^K| = 1 for every "
                  "K, so plain hops never mix");
  }
  if (c.target_epsilon) {
    const std::optional<int> k = first_at_most(*c.target_epsilon);
    out.target_reached = k.has_value();
    if (k) {
      return finish(
          *k, HopRule::kTarget,
          fmt::format("the smallest K with epsilon(K) = {:.6g} <= target {:.6g}",
                      out.curve[static_cast<std::size_t>(*k)].epsilon, *c.target_epsilon));
    }
  }
  const std::string unreachable =
      c.target_epsilon
          ? fmt::format("no K <= {} reaches the target {:.6g}{}; ", c.max_hops, *c.target_epsilon,
                        *c.target_epsilon < out.epsilon_limit
                            ? " (it is below the untruncated limit, so no K does)"
                            : "")
          : std::string();
  if (const std::optional<int> k = first_at_most(out.converged_threshold)) {
    return finish(
        *k, HopRule::kConverged,
        fmt::format("{}the smallest K that achieves {:.4g}% of the reduction diffusion can "
                    "give: epsilon(K) = {:.6g} <= {:.6g}",
                    unreachable, 100.0 * (1.0 - c.relative_tolerance),
                    out.curve[static_cast<std::size_t>(*k)].epsilon, out.converged_threshold));
  }
  return finish(c.max_hops, HopRule::kMaxHops,
                fmt::format("{}no K <= {} meets the convergence threshold {:.6g}; epsilon({}) = "
                            "{:.6g}",
                            unreachable, c.max_hops, out.converged_threshold, c.max_hops,
                            out.curve.back().epsilon));
}

PatternHops suggest_hops_for_pattern(const graph::CsrGraph& g,
                                     const spectral::NormalizedAdjacency& m,
                                     const HopCriteria& criteria,
                                     const spectral::SolverOptions& opts) {
  DIFFUSER_CHECK(g.n() >= 2,
                 "suggest_hops: the pattern has n = {} tokens; a spectral gap needs "
                 "n >= 2",
                 g.n());
  PatternHops out;
  out.spectrum = spectral::graph_spectrum(g, m, opts);
  std::vector<double> all;
  if (g.n() <= opts.dense_max_n)
    all = spectral::pattern_eigenvalues(g, opts.dense_max_n, 1, opts).top;
  out.suggestion = suggest_hops(out.spectrum, all, criteria);
  return out;
}

}  // namespace diffuser::analysis
