// Why: kernels take a CSR graph as one small struct of device pointers passed by value, plus a
// precomputed split of its rows into work items, so that a global row of degree n is spread
// over many warps (load balancing) while each result is still summed in a fixed order
// (deterministic, no atomics). Plain data: usable from .cpp and .cu files.
#pragma once

#include <cstdint>

namespace diffuser::attention::cuda {

/// One warp's share of a CSR row: edges [begin, end) of row `row`. slot < 0: the row is short
/// and this item covers all of it (the warp writes the row's result directly); slot >= 0: the
/// row is long and this is one of its segments, whose partial result goes to partial buffer
/// row `slot` (summed later, in slot order, by a fix-up pass).
struct RowSegment {
  std::int32_t row;
  std::int32_t begin;
  std::int32_t end;
  std::int32_t slot;
};

/// A long row (degree above the plan's threshold): its segments own partial slots
/// [slot_begin, slot_end).
struct LongRow {
  std::int32_t row;
  std::int32_t slot_begin;
  std::int32_t slot_end;
};

/// Device view of a CSR graph and its work split. All pointers are device pointers.
///  - segments: all long-row segments first (they start earliest), then one item per short row.
///  - long_rows / short_rows: the rows by class (row-reduction kernels give a long row a whole
///    block and a short row one warp).
struct DeviceGraphView {
  std::int32_t n = 0;
  std::int64_t nnz = 0;
  const std::int32_t* offsets = nullptr;  ///< n + 1
  const std::int32_t* columns = nullptr;  ///< nnz
  const RowSegment* segments = nullptr;
  std::int32_t num_segments = 0;
  const LongRow* long_rows = nullptr;
  std::int32_t num_long = 0;
  const std::int32_t* short_rows = nullptr;
  std::int32_t num_short = 0;
  std::int32_t num_slots = 0;  ///< partial rows needed by the long-row segments
};

}  // namespace diffuser::attention::cuda
