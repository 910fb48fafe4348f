// Why: builds the row split on the host in O(n + nnz / segment) and uploads everything once.
#include "attention/cuda/DeviceGraph.hpp"

#include <algorithm>
#include <vector>

#include "core/Error.hpp"

namespace diffuser::attention::cuda {

DeviceGraph::DeviceGraph(const graph::CsrGraph& g, graph::Index long_row_degree,
                         graph::Index segment_edges) {
  DIFFUSER_CHECK(long_row_degree >= 1, "CUDA plan: long_row_degree = {} must be >= 1",
                 long_row_degree);
  DIFFUSER_CHECK(segment_edges >= 1, "CUDA plan: segment_edges = {} must be >= 1", segment_edges);
  const graph::Index n = g.n();
  const auto offsets = g.offsets();
  std::vector<RowSegment> segments;
  std::vector<LongRow> long_rows;
  std::vector<std::int32_t> short_rows;
  std::int64_t slots = 0;
  for (graph::Index i = 0; i < n; ++i) {
    if (g.degree(i) <= long_row_degree) {
      short_rows.push_back(i);
      continue;
    }
    LongRow row{i, static_cast<std::int32_t>(slots), 0};
    for (std::int64_t b = offsets[i]; b < offsets[i + 1]; b += segment_edges) {
      const std::int64_t e = std::min<std::int64_t>(b + segment_edges, offsets[i + 1]);
      segments.push_back(RowSegment{i, static_cast<std::int32_t>(b), static_cast<std::int32_t>(e),
                                    static_cast<std::int32_t>(slots)});
      ++slots;
    }
    DIFFUSER_CHECK(slots < graph::kMaxIndex, "CUDA plan: too many long-row segments ({})", slots);
    row.slot_end = static_cast<std::int32_t>(slots);
    long_rows.push_back(row);
  }
  for (const std::int32_t i : short_rows) {
    segments.push_back(RowSegment{i, offsets[i], offsets[i + 1], -1});
  }
  DIFFUSER_CHECK(static_cast<std::int64_t>(segments.size()) < graph::kMaxIndex,
                 "CUDA plan: too many work items ({})", segments.size());

  offsets_ = DeviceBuffer<std::int32_t>(g.offsets(), "CSR offsets");
  columns_ = DeviceBuffer<std::int32_t>(g.columns(), "CSR columns");
  segments_ = DeviceBuffer<RowSegment>(std::span<const RowSegment>(segments), "CSR row segments");
  long_rows_ = DeviceBuffer<LongRow>(std::span<const LongRow>(long_rows), "CSR long rows");
  short_rows_ =
      DeviceBuffer<std::int32_t>(std::span<const std::int32_t>(short_rows), "CSR short rows");

  view_.n = n;
  view_.nnz = g.nnz();
  view_.offsets = offsets_.data();
  view_.columns = columns_.data();
  view_.segments = segments_.data();
  view_.num_segments = static_cast<std::int32_t>(segments.size());
  view_.long_rows = long_rows_.data();
  view_.num_long = static_cast<std::int32_t>(long_rows.size());
  view_.short_rows = short_rows_.data();
  view_.num_short = static_cast<std::int32_t>(short_rows.size());
  view_.num_slots = static_cast<std::int32_t>(slots);
}

std::size_t DeviceGraph::bytes() const {
  return offsets_.bytes() + columns_.bytes() + segments_.bytes() + long_rows_.bytes() +
         short_rows_.bytes();
}

}  // namespace diffuser::attention::cuda
