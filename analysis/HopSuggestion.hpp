// Why: the number of hops K is the one cost knob of Diffuser attention (K sparse products per
// layer), and nobody picks it from the pattern. The spectral gap says how close the diffused
// operator p_K(M) can get to the rank-one "full attention" projection and how fast it gets
// there, so K can be chosen before training: the smallest K that reaches a target distance, or
// past which more hops buy (almost) nothing. docs/spectral.md §11.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/HopEpsilon.hpp"
#include "core/Diffusion.hpp"
#include "graph/CsrGraph.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SolverOptions.hpp"

namespace diffuser::analysis {

/// What suggest_hops aims for (the PPR teleport alpha of the diffusion, and the two rules).
struct HopCriteria {
  double alpha = Diffusion::kDefaultAlpha;
  /// Target distance: the smallest K with epsilon(K) <= target_epsilon. Absent: only the
  /// convergence rule.
  std::optional<double> target_epsilon;
  /// Convergence rule: the smallest K with epsilon(K) - epsilon_limit <= relative_tolerance *
  /// (epsilon(0) - epsilon_limit), i.e. K hops have achieved all but this fraction of what
  /// untruncated diffusion can achieve. In (0, 1).
  double relative_tolerance = 0.05;
  /// Largest K tried, in [0, Diffusion::kMaxHops].
  int max_hops = 64;
};

/// Which rule decided the suggestion.
enum class HopRule {
  kTarget,     ///< epsilon(K) <= target_epsilon
  kConverged,  ///< the convergence rule (also when the target is unreachable)
  kMaxHops,    ///< neither rule met for K <= max_hops: max_hops is returned
};

/// "target", "converged" or "max_hops".
const char* to_string(HopRule rule);

/// The suggested K with the reasoning behind it.
struct HopSuggestion {
  int hops = 0;  ///< the suggested K (Diffusion::ppr(alpha, hops))
  HopRule rule = HopRule::kConverged;
  double alpha = 0.0;
  double epsilon = 0.0;        ///< epsilon(hops)
  double epsilon_plain = 0.0;  ///< epsilon(0) = mu_star: plain attention, no diffusion
  /// epsilon of the untruncated PPR(alpha) (K = infinity), the floor no K goes below; for
  /// alpha = 0 the limit of mu^K: 0 when mu_star < 1, else 1.
  double epsilon_limit = 0.0;
  /// The convergence threshold epsilon_limit + relative_tolerance * (epsilon_plain -
  /// epsilon_limit).
  double converged_threshold = 0.0;
  /// With a target: whether some K <= max_hops reaches it (false: the convergence rule chose).
  std::optional<bool> target_reached;
  /// True when every epsilon is the maximum over all non-trivial eigenvalues (all eigenvalues
  /// given, S connected); false: the bound max |p_K| over [mu_min, mu2], so the suggestion is
  /// conservative (it may be larger than the exact one, never smaller for the target rule).
  bool exact = false;
  /// epsilon(K) for K = 0..max_hops.
  std::vector<HopEpsilon> curve;
  /// One sentence that explains the choice with the numbers.
  std::string reasoning;
};

/// Suggests K for Diffusion::ppr(criteria.alpha, K) on the pattern whose spectrum is given.
/// `all_eigenvalues`: every eigenvalue of M, descending, or empty (then the bounds over
/// [mu_min, mu2] are used; see epsilon_vs_hops). A disconnected pattern (mu2 = 1) gets K = 0:
/// no diffusion brings its components together. Throws diffuser::Error naming the field for
/// alpha outside [0, 1], max_hops outside [0, kMaxHops], relative_tolerance outside (0, 1) or a
/// target_epsilon outside (0, 1].
HopSuggestion suggest_hops(const spectral::GraphSpectrum& spectrum,
                           std::span<const double> all_eigenvalues, const HopCriteria& criteria);

/// A pattern's spectrum and the suggestion on it.
struct PatternHops {
  spectral::GraphSpectrum spectrum;
  HopSuggestion suggestion;
};

/// suggest_hops on pattern g (n >= 2): its spectrum by graph_spectrum(g, m, opts) and, when
/// n <= opts.dense_max_n, every eigenvalue of M by a dense solve (exact epsilons); bounds above.
/// `m` must have been built from g. What `diffuser spectral suggest-hops` and the config value
/// attention.hops = "auto" both call, so they agree.
PatternHops suggest_hops_for_pattern(const graph::CsrGraph& g,
                                     const spectral::NormalizedAdjacency& m,
                                     const HopCriteria& criteria,
                                     const spectral::SolverOptions& opts = {});

}  // namespace diffuser::analysis
