// Why: the outputs of an attention backward pass, as spans over caller-owned memory.
#pragma once

#include <span>

namespace diffuser::attention {

/// Gradients of a scalar loss L with respect to the inputs, given dZ = dL/dZ.
/// dq, dk, dv are [batch, n, H·D] like the inputs and are overwritten (every element written;
/// padded rows get 0). dtheta, when not empty, must have K + 1 elements and receives
/// dL/dtheta_k = <dZ, A^k V> summed over the batch and the heads (the coefficients are shared);
/// leave it empty when the coefficients are not learned. Outputs must not overlap the inputs.
template <typename T>
struct AttentionGradients {
  std::span<T> dq;
  std::span<T> dk;
  std::span<T> dv;
  std::span<double> dtheta;
};

}  // namespace diffuser::attention
