// Why: a pattern (or its transpose) is uploaded to the device once and reused by every call and
// every sequence of a batch; the work split of its rows (DeviceGraphView) is computed once on
// the host at the same time.
#pragma once

#include <cstddef>

#include "attention/cuda/DeviceBuffer.hpp"
#include "attention/cuda/DeviceGraphView.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::attention::cuda {

/// Device copy of a CSR graph's offsets and columns plus its row split: rows with more than
/// `long_row_degree` edges are long and are cut into segments of at most `segment_edges`
/// edges; other rows are one item each. Throws diffuser::Error for long_row_degree < 1 or
/// segment_edges < 1.
class DeviceGraph {
 public:
  DeviceGraph() = default;
  DeviceGraph(const graph::CsrGraph& g, graph::Index long_row_degree, graph::Index segment_edges);

  /// The view passed to kernels (valid while this object lives).
  const DeviceGraphView& view() const { return view_; }

  /// Device bytes held.
  std::size_t bytes() const;

 private:
  DeviceBuffer<std::int32_t> offsets_;
  DeviceBuffer<std::int32_t> columns_;
  DeviceBuffer<RowSegment> segments_;
  DeviceBuffer<LongRow> long_rows_;
  DeviceBuffer<std::int32_t> short_rows_;
  DeviceGraphView view_;
};

}  // namespace diffuser::attention::cuda
