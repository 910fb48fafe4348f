// Why: uploads the per-pattern data of an AttentionPlan once.
#include "attention/cuda/DevicePlan.hpp"

namespace diffuser::attention::cuda {

DevicePlan::DevicePlan(const AttentionPlan& plan, graph::Index long_row_degree,
                       graph::Index segment_edges)
    : n_(plan.n()),
      nnz_(plan.nnz()),
      plan_id_(plan.id()),
      pattern_(plan.pattern(), long_row_degree, segment_edges),
      transposed_(plan.transposed(), long_row_degree, segment_edges),
      perm_(plan.transpose_perm(), "transpose permutation") {}

}  // namespace diffuser::attention::cuda
