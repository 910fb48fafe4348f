// Why: see WeightModel.hpp. The random-QK weights come from the attention module's own softmax
// (AttentionSaved::attn), so the picture shows exactly what the kernels compute.
#include "viz/WeightModel.hpp"

#include <vector>

#include "attention/SparseAttention.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"

namespace diffuser::viz {

using graph::Index;

const char* to_string(WeightModel model) {
  return model == WeightModel::kUniform ? "uniform" : "random-qk";
}

WeightModel parse_weight_model(const std::string& name) {
  if (name == "uniform") return WeightModel::kUniform;
  if (name == "random-qk") return WeightModel::kRandomQk;
  fail("unknown weight model '{}' (expected uniform or random-qk)", name);
}

graph::CsrGraph attention_weights(const graph::CsrGraph& pattern, WeightModel model, int dim,
                                  std::uint64_t seed) {
  const Index n = pattern.n();
  DIFFUSER_CHECK(n >= 1, "attention weights: the pattern has no tokens");
  for (Index i = 0; i < n; ++i) {
    DIFFUSER_CHECK(pattern.degree(i) > 0,
                   "attention weights: row {} has no keys (every query needs a key)", i);
  }
  std::vector<float> values(static_cast<std::size_t>(pattern.nnz()));
  if (model == WeightModel::kUniform) {
    for (Index i = 0; i < n; ++i) {
      const float w = 1.0f / static_cast<float>(pattern.degree(i));
      for (Index e = pattern.offsets()[i]; e < pattern.offsets()[i + 1]; ++e) values[e] = w;
    }
  } else {
    DIFFUSER_CHECK(dim >= 1, "attention weights: head dimension {} (must be >= 1)", dim);
    const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(dim);
    std::vector<double> q(size), k(size), v(size, 0.0), z(size);
    Rng rng(seed);
    for (double& x : q) x = rng.normal();
    for (double& x : k) x = rng.normal();
    const attention::AttentionPlan plan(pattern.pattern());
    attention::AttentionOptions options;
    options.heads = 1;
    attention::AttentionInputs<double> inputs{q, k, v, 1, {}};
    attention::AttentionSaved<double> saved;
    attention::sparse_attention_forward<double>(plan, options, inputs, std::span<double>(z),
                                                &saved);
    for (std::int64_t e = 0; e < pattern.nnz(); ++e) {
      values[static_cast<std::size_t>(e)] = static_cast<float>(saved.weight(0, 0, e));
    }
  }
  graph::CsrGraph out = pattern.pattern();
  out.set_values(std::move(values));
  return out;
}

}  // namespace diffuser::viz
