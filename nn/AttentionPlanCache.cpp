// Why: the plan cache's build-on-first-use lookup.
#include "nn/AttentionPlanCache.hpp"

#include "core/Error.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::nn {

AttentionPlanCache::AttentionPlanCache(graph::PatternSpec spec, bool causal)
    : spec_(std::move(spec)) {
  if (causal) spec_.causal = true;
  graph::validate_spec(spec_);
}

const attention::AttentionPlan& AttentionPlanCache::get(graph::Index n) {
  DIFFUSER_CHECK(n >= 1, "attention plan cache: sequence length must be >= 1, got {}", n);
  auto it = plans_.find(n);
  if (it == plans_.end()) {
    const graph::CsrGraph pattern = graph::build_pattern(n, spec_);
    it = plans_.emplace(n, std::make_unique<attention::AttentionPlan>(pattern)).first;
  }
  return *it->second;
}

std::size_t AttentionPlanCache::bytes() const {
  std::size_t total = 0;
  for (const auto& [n, plan] : plans_) total += plan->bytes();
  return total;
}

}  // namespace diffuser::nn
