// Why: `diffuser spectral FILE --json` and diffuser.spectral.analyze() in Python report the same
// numbers under the same keys; one function builds them, so the two cannot drift apart.
#pragma once

#include <nlohmann/json.hpp>

#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/ExpanderMetrics.hpp"
#include "spectral/GraphSpectrum.hpp"

namespace diffuser::spectral {

/// The summary of a pattern's spectrum, keys in this order: n, nnz, nnz_symmetric,
/// pattern_symmetric, isolated_nodes, components, bipartite, lambda2, lambda_max, gap, mu2,
/// mu_min, mu_star, mu2_walk, mu2_walk_complex [re, im], epsilon_complete, cheeger_lower,
/// cheeger_upper, sweep_conductance, sweep_set_size, sweep_cut_edges, regular_degree,
/// ramanujan_ratio, mixing_tolerance, mixing_hops, then per eigenvalue ("lambda2" = mu2 of M,
/// "lambda_max" = mu_min, "mu2_walk") its residuals, method, converged, matvecs and notes.
/// Non-finite numbers and absent values (no sweep cut, not regular, ...) are null. The
/// meaning of each number: docs/spectral.md.
nlohmann::ordered_json spectrum_json(const GraphSpectrum& s, const ExpanderMetrics& e);

/// The diffused operator's spectrum: spec, coefficients (null for a non-polynomial family),
/// f_mu2, f_mu_min, second_largest, gap, mu_star, mu2_walk (= |f(mu2_walk)|), exact.
nlohmann::ordered_json diffused_json(const DiffusedSpectrum& d);

}  // namespace diffuser::spectral
