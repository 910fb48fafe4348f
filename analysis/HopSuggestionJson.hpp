// Why: `diffuser spectral suggest-hops` and diffuser.spectral.suggest_hops() in Python report a
// HopSuggestion under the same keys with the same numbers; one function builds them, so the two
// cannot drift apart.
#pragma once

#include <nlohmann/json.hpp>

#include "analysis/HopSuggestion.hpp"

namespace diffuser::analysis {

/// A suggestion as JSON, keys in this order: hops, diffusion (the compact spec of PPR(alpha,
/// hops)), rule, target_reached (null without a target), epsilon, epsilon_plain,
/// epsilon_limit, converged_threshold, reasoning, curve ([{hops, epsilon}] per K). Non-finite
/// numbers are null. `alpha` is the criteria's alpha (the diffusion the hops belong to).
nlohmann::ordered_json suggestion_json(const HopSuggestion& h, double alpha);

}  // namespace diffuser::analysis
