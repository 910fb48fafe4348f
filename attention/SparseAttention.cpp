// Why: validation and dispatch for the sparse attention entry points.
#include "attention/SparseAttention.hpp"

#include <cmath>

#include "attention/cpu/OptimizedKernels.hpp"
#include "attention/cpu/ReferenceKernels.hpp"
#include "core/Error.hpp"

namespace diffuser::attention {

namespace {

void check_options(const AttentionOptions& o) {
  DIFFUSER_CHECK(std::isfinite(o.dropout) && o.dropout >= 0.0 && o.dropout < 1.0,
                 "attention: dropout = {} outside [0, 1)", o.dropout);
}

template <typename T>
AttentionGeometry checked_geometry(const AttentionPlan& plan, const AttentionOptions& options,
                                   const AttentionInputs<T>& in) {
  check_options(options);
  AttentionGeometry g = resolve_geometry(plan.n(), options.heads, in.batch, in.q.size(),
                                         in.k.size(), in.v.size(), in.lengths);
  check_finite("q", in.q, g);
  check_finite("k", in.k, g);
  check_finite("v", in.v, g);
  return g;
}

}  // namespace

template <typename T>
void sparse_attention_forward(const AttentionPlan& plan, const AttentionOptions& options,
                              const AttentionInputs<T>& inputs, std::span<T> z,
                              AttentionSaved<T>* saved, Kernels kernels) {
  const AttentionGeometry g = checked_geometry(plan, options, inputs);
  check_tensor_size("z", z.size(), g);
  if (saved) {
    saved->geometry = g;
    saved->options = options;
    saved->plan_id = plan.id();
    saved->nnz = plan.nnz();
  }
  if (kernels == Kernels::kReference) {
    cpu::reference_forward(plan, options, g, inputs.q.data(), inputs.k.data(), inputs.v.data(),
                           z.data(), saved);
  } else {
    cpu::optimized_forward(plan, options, g, inputs.q.data(), inputs.k.data(), inputs.v.data(),
                           z.data(), saved);
  }
}

template <typename T>
void sparse_attention_backward(const AttentionPlan& plan, const AttentionInputs<T>& inputs,
                               const AttentionSaved<T>& saved, std::span<const T> dz,
                               const AttentionGradients<T>& grads, Kernels kernels) {
  DIFFUSER_CHECK(saved.plan_id == plan.id() && saved.nnz == plan.nnz(),
                 "attention backward: the saved state was made with a different plan");
  const AttentionOptions& options = saved.options;
  const AttentionGeometry g = checked_geometry(plan, options, inputs);
  DIFFUSER_CHECK(g == saved.geometry,
                 "attention backward: inputs (batch, width or lengths) differ from the forward "
                 "call (forward [{}, {}, {}], backward [{}, {}, {}])",
                 saved.geometry.batch, saved.geometry.n, saved.geometry.width, g.batch, g.n,
                 g.width);
  const int K = options.diffusion.degree();
  const auto edge_values = static_cast<std::size_t>(g.batch * plan.nnz() * g.heads);
  const bool store_hops = options.memory == MemoryMode::kStoreHops && K > 1;
  DIFFUSER_CHECK(
      saved.attn.size() == edge_values &&
          saved.attn_dropped.size() == (options.dropout > 0 ? edge_values : 0) &&
          saved.hops.size() ==
              (store_hops ? static_cast<std::size_t>(g.batch * (K - 1) * g.sequence_numel()) : 0),
      "attention backward: saved state is incomplete (was it passed to forward?)");
  check_tensor_size("dz", dz.size(), g);
  check_tensor_size("dq", grads.dq.size(), g);
  check_tensor_size("dk", grads.dk.size(), g);
  check_tensor_size("dv", grads.dv.size(), g);
  DIFFUSER_CHECK(grads.dtheta.empty() || static_cast<int>(grads.dtheta.size()) == K + 1,
                 "attention backward: dtheta has {} elements, expected K + 1 = {}",
                 grads.dtheta.size(), K + 1);
  check_finite("dz", dz, g);
  double* dtheta = grads.dtheta.empty() ? nullptr : grads.dtheta.data();
  if (kernels == Kernels::kReference) {
    cpu::reference_backward(plan, g, inputs.q.data(), inputs.k.data(), inputs.v.data(), saved,
                            dz.data(), grads.dq.data(), grads.dk.data(), grads.dv.data(), dtheta);
  } else {
    cpu::optimized_backward(plan, g, inputs.q.data(), inputs.k.data(), inputs.v.data(), saved,
                            dz.data(), grads.dq.data(), grads.dk.data(), grads.dv.data(), dtheta);
  }
}

#define DIFFUSER_INSTANTIATE(T)                                                               \
  template void sparse_attention_forward<T>(const AttentionPlan&, const AttentionOptions&,    \
                                            const AttentionInputs<T>&, std::span<T>,          \
                                            AttentionSaved<T>*, Kernels);                     \
  template void sparse_attention_backward<T>(const AttentionPlan&, const AttentionInputs<T>&, \
                                             const AttentionSaved<T>&, std::span<const T>,    \
                                             const AttentionGradients<T>&, Kernels);

DIFFUSER_INSTANTIATE(float)
DIFFUSER_INSTANTIATE(double)
#undef DIFFUSER_INSTANTIATE

}  // namespace diffuser::attention
