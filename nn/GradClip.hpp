// Why: clipping the global gradient norm keeps early transformer training stable. The norm is a
// reduction over every parameter, so it is summed in fixed chunks in double and combined in
// order: the same value for any thread count.
#pragma once

#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// ||g||_2 over all of store.grads(), accumulated in double. Throws diffuser::Error naming the
/// first tensor with a NaN or Inf gradient (a diverged step should stop, not be applied).
template <typename T>
double grad_norm(const ParameterStore<T>& store);

/// Global-norm clipping (Pascanu et al. 2013; as torch.nn.utils.clip_grad_norm_): with
/// N = grad_norm(store), if N > max_norm every gradient is scaled by max_norm / N (so the new
/// norm is max_norm). max_norm must be > 0 (finite). Returns N, the norm before clipping.
template <typename T>
double clip_grad_norm(ParameterStore<T>& store, double max_norm);

}  // namespace diffuser::nn
