// Why: every CPU kernel runs over one sequence of a batch and needs the same few numbers about
// it (heads, head dim, row width, valid length); one small type for them.
#pragma once

#include <cstdint>

#include "graph/CsrGraph.hpp"

namespace diffuser::attention::cpu {

/// Shape of one sequence for the kernels: H heads of D values, width W = H·D, valid length len.
struct SequenceShape {
  int heads = 0;
  int head_dim = 0;
  std::int64_t width = 0;
  graph::Index len = 0;
};

}  // namespace diffuser::attention::cpu
