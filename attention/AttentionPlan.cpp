// Why: builds the per-pattern data once (transpose, permutations, balanced row blocks, row
// tiles).
#include "attention/AttentionPlan.hpp"

#include <algorithm>
#include <atomic>

#include "core/Error.hpp"

namespace diffuser::attention {

namespace {

using graph::Index;

// Cost of a row in a block: its edges plus a fixed amount for the per-row work (writing an
// output row of H·D values, softmax bookkeeping), in units of edges.
constexpr std::int64_t kRowCost = 16;
// Target number of blocks: enough for dynamic scheduling to balance rows of very different
// degree (global rows of degree n next to window rows) on any realistic thread count.
constexpr std::int64_t kTargetBlocks = 1024;

// Maximal runs of full rows (degree n), or none.
std::vector<RowRange> full_row_runs(const graph::CsrGraph& g, bool enabled) {
  std::vector<RowRange> runs;
  if (!enabled) return runs;
  for (Index i = 0; i < g.n(); ++i) {
    if (g.degree(i) != g.n()) continue;
    if (!runs.empty() && runs.back().end == i) {
      runs.back().end = i + 1;
    } else {
      runs.push_back({i, i + 1});
    }
  }
  return runs;
}

// Blocks of about equal work over the rows outside the dense runs.
std::vector<RowRange> balanced_blocks(const graph::CsrGraph& g,
                                      const std::vector<RowRange>& dense) {
  const Index n = g.n();
  const auto offsets = g.offsets();
  const std::int64_t total = g.nnz() + kRowCost * n;
  const std::int64_t target = std::max<std::int64_t>(1, total / kTargetBlocks);
  std::vector<RowRange> blocks;
  std::size_t next_dense = 0;
  Index begin = 0;
  std::int64_t work = 0;
  for (Index i = 0; i < n; ++i) {
    if (next_dense < dense.size() && i == dense[next_dense].begin) {
      if (begin < i) blocks.push_back({begin, i});
      i = dense[next_dense++].end - 1;
      begin = i + 1;
      work = 0;
      continue;
    }
    work += (offsets[i + 1] - offsets[i]) + kRowCost;
    if (work >= target) {
      blocks.push_back({begin, i + 1});
      begin = i + 1;
      work = 0;
    }
  }
  if (begin < n) blocks.push_back({begin, n});
  return blocks;
}

Index max_row_degree(const graph::CsrGraph& g) {
  Index best = 0;
  for (Index i = 0; i < g.n(); ++i) best = std::max(best, g.degree(i));
  return best;
}

std::uint64_t next_plan_id() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1);
}

}  // namespace

AttentionPlan::AttentionPlan(const graph::CsrGraph& pattern, PlanOptions options)
    : pattern_(pattern.pattern()) {
  DIFFUSER_CHECK(pattern_.n() > 0, "attention pattern: empty pattern (n = 0)");
  for (Index i = 0; i < pattern_.n(); ++i) {
    DIFFUSER_CHECK(pattern_.degree(i) > 0,
                   "attention pattern: row {} has no keys (every query needs at least one key; "
                   "patterns normally hold a self-loop in every row)",
                   i);
  }
  graph::Transposed t = graph::transpose(pattern_);
  transposed_ = std::move(t.graph);
  perm_ = std::move(t.perm);
  inverse_perm_.resize(perm_.size());
  for (std::size_t e = 0; e < perm_.size(); ++e) inverse_perm_[perm_[e]] = static_cast<Index>(e);
  dense_runs_ = full_row_runs(pattern_, options.dense_rows);
  transposed_dense_runs_ = full_row_runs(transposed_, options.dense_rows);
  row_blocks_ = balanced_blocks(pattern_, dense_runs_);
  transposed_row_blocks_ = balanced_blocks(transposed_, transposed_dense_runs_);
  if (options.row_tiles) row_tiles_ = RowTiles(pattern_, dense_runs_);
  max_degree_ = max_row_degree(pattern_);
  max_transposed_degree_ = max_row_degree(transposed_);
  id_ = next_plan_id();
}

std::size_t AttentionPlan::bytes() const {
  const std::size_t index_count = pattern_.offsets().size() + pattern_.columns().size() +
                                  transposed_.offsets().size() + transposed_.columns().size() +
                                  perm_.size() + inverse_perm_.size();
  const std::size_t ranges = row_blocks_.size() + dense_runs_.size() +
                             transposed_row_blocks_.size() + transposed_dense_runs_.size();
  return index_count * sizeof(Index) + ranges * sizeof(RowRange) + row_tiles_.bytes();
}

}  // namespace diffuser::attention
