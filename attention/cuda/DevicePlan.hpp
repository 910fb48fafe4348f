// Why: the device counterpart of AttentionPlan: the pattern, its transpose and the edge
// permutation between them are uploaded once per pattern and shared by every forward and
// backward call (and every sequence of a batch).
#pragma once

#include <cstddef>
#include <cstdint>

#include "attention/AttentionPlan.hpp"
#include "attention/cuda/DeviceBuffer.hpp"
#include "attention/cuda/DeviceGraph.hpp"

namespace diffuser::attention::cuda {

/// Device copy of an AttentionPlan on the current device.
class DevicePlan {
 public:
  /// Uploads plan.pattern(), plan.transposed() and plan.transpose_perm(); long_row_degree and
  /// segment_edges set the row split of both graphs (DeviceGraph).
  DevicePlan(const AttentionPlan& plan, graph::Index long_row_degree, graph::Index segment_edges);

  graph::Index n() const { return n_; }
  std::int64_t nnz() const { return nnz_; }
  std::uint64_t plan_id() const { return plan_id_; }

  /// The pattern: row i = query i, columns = its keys.
  const DeviceGraph& pattern() const { return pattern_; }
  /// The transpose: row j = key j, columns = the queries that read it.
  const DeviceGraph& transposed() const { return transposed_; }
  /// Edge t of transposed() is edge transpose_perm()[t] of pattern() (device array, nnz).
  const std::int32_t* transpose_perm() const { return perm_.data(); }

  /// Device bytes held (both graphs, splits, permutation).
  std::size_t bytes() const { return pattern_.bytes() + transposed_.bytes() + perm_.bytes(); }

 private:
  graph::Index n_ = 0;
  std::int64_t nnz_ = 0;
  std::uint64_t plan_id_ = 0;
  DeviceGraph pattern_;
  DeviceGraph transposed_;
  DeviceBuffer<std::int32_t> perm_;
};

}  // namespace diffuser::attention::cuda
