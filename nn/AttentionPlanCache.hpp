// Why: building a pattern and its attention plan (transpose, permutations, row blocks) costs
// O(n + nnz) and the trainer feeds a handful of bucket lengths over and over; the original code's
// mistake of rebuilding graphs every step is avoided by building each length's plan once.
#pragma once

#include <cstddef>
#include <map>
#include <memory>

#include "attention/AttentionPlan.hpp"
#include "graph/PatternSpec.hpp"

namespace diffuser::nn {

/// Attention plans of one pattern spec, one per sequence length n, built on first use with
/// graph::build_pattern(n, spec) (with spec.causal forced on when the cache is causal) and kept
/// for the lifetime of the cache. A plan returned by get() stays valid (same address) until
/// clear() or destruction. Not thread-safe: one model uses its cache from one thread at a time.
///
/// Memory: one plan per distinct length seen (AttentionPlan::bytes() each: the pattern, its
/// transpose and two edge permutations, about 16·nnz bytes); bytes() sums them. Bucketed
/// batches keep the number of lengths small.
class AttentionPlanCache {
 public:
  AttentionPlanCache() = default;
  /// `causal`: make every pattern causal (keys j <= i only), as the causal LM needs.
  AttentionPlanCache(graph::PatternSpec spec, bool causal);

  /// The plan for length n >= 1 (built now when not yet cached). Throws diffuser::Error for
  /// n < 1 or when the pattern cannot be built (e.g. past the int32 edge limit).
  const attention::AttentionPlan& get(graph::Index n);

  /// The spec patterns are built from (causal already applied).
  const graph::PatternSpec& spec() const { return spec_; }

  /// Number of cached plans and their total bytes.
  std::size_t size() const { return plans_.size(); }
  std::size_t bytes() const;

  /// Drops every cached plan.
  void clear() { plans_.clear(); }

 private:
  graph::PatternSpec spec_;
  std::map<graph::Index, std::unique_ptr<attention::AttentionPlan>> plans_;
};

}  // namespace diffuser::nn
