// Why: a pattern alone has no attention weights; to show how diffusion spreads over it we need
// a row-stochastic A on its edges. Two stand-ins without a trained model: uniform weights
// (A = D^-1 G, the pattern's random walk) and the softmax of random Gaussian queries and keys
// (what an untrained layer produces), computed by the attention module itself.
#pragma once

#include <cstdint>
#include <string>

#include "graph/CsrGraph.hpp"

namespace diffuser::viz {

/// How edge weights are assigned to a pattern.
enum class WeightModel {
  kUniform,   ///< a_e = 1 / deg(i) for every edge e = (i, j): the walk D^-1 G
  kRandomQk,  ///< a = edge softmax of s_e = <q_i, k_j> / sqrt(D), q, k i.i.d. N(0, 1)
};

/// "uniform", "random-qk".
const char* to_string(WeightModel model);

/// Parses the names above; diffuser::Error names the bad value and lists the accepted ones.
WeightModel parse_weight_model(const std::string& name);

/// The pattern with row-stochastic edge values (each row sums to 1; existing values ignored).
/// kRandomQk draws q then k ([n, dim] each, row-major) from diffuser::Rng(seed).normal() and
/// runs attention::sparse_attention_forward (one head, float64, no dropout) to get the softmax
/// weights, so the same seed gives the same weights on any thread count. Throws
/// diffuser::Error for an empty row (a query without keys), n = 0 or dim < 1.
graph::CsrGraph attention_weights(const graph::CsrGraph& pattern, WeightModel model, int dim = 16,
                                  std::uint64_t seed = 0);

}  // namespace diffuser::viz
