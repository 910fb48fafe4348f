// Why: plans, tiles and kernels pass runs and blocks of rows around as half-open ranges; one
// small type for them, shared by AttentionPlan and RowTiles.
#pragma once

#include "graph/CsrGraph.hpp"

namespace diffuser::attention {

/// A half-open range of rows [begin, end).
struct RowRange {
  graph::Index begin = 0;
  graph::Index end = 0;
};

}  // namespace diffuser::attention
