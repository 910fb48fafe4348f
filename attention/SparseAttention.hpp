// Why: the entry points of sparse attention with diffusion — the API the CLI and the nn layer
// call. They validate every input once (shapes, heads, lengths, finiteness, options, saved
// state) and then run either the optimised CPU kernels or the plain reference kernels.
#pragma once

#include <span>

#include "attention/AttentionGradients.hpp"
#include "attention/AttentionInputs.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"

namespace diffuser::attention {

/// Which CPU implementation runs: the optimised kernels (attention/cpu/OptimizedKernels.hpp,
/// row-parallel, vectorised) or the plain reference (attention/cpu/ReferenceKernels.hpp,
/// single-threaded loops with double accumulation; the test oracle).
enum class Kernels { kOptimized, kReference };

/// Sparse attention with diffusion, forward (docs/design.md §1), per sequence b and head h:
///   s_e = <q_i, k_j> / sqrt(D) on the pattern's edges e = (i, j) with j < len_b;
///   a_e = softmax of s over row i's valid edges (a = 0 on rows i >= len_b, on padded keys, and
///         on a valid row whose keys are all padded, so that row receives nothing from A);
///   A's values: a_e times the dropout multiplier (AttentionDropout.hpp) when dropout > 0;
///   Z = sum_k theta_k A^k V by Horner (Y_K = theta_K V, Y_k = A Y_{k+1} + theta_k V, Z = Y_0),
///   with rows i >= len_b of Z set to 0.
/// Shapes: q, k, v, z are [batch, n, H·D] (n = plan.n()); z is overwritten entirely and must not
/// overlap the inputs. When `saved` is not null it receives what backward needs (its memory is
/// documented on AttentionSaved and in MemoryMode). Deterministic: the same inputs give bitwise
/// the same outputs for any thread count.
/// Throws diffuser::Error for: shape mismatches, width not a multiple of heads, lengths outside
/// [0, n] or of the wrong count, NaN/Inf anywhere in q, k, v (naming the tensor and element),
/// dropout outside [0, 1). Empty pattern rows are refused when the plan is built.
template <typename T>
void sparse_attention_forward(const AttentionPlan& plan, const AttentionOptions& options,
                              const AttentionInputs<T>& inputs, std::span<T> z,
                              AttentionSaved<T>* saved = nullptr,
                              Kernels kernels = Kernels::kOptimized);

/// Backward of sparse_attention_forward for loss gradient dz = dL/dZ ([batch, n, H·D]; rows
/// i >= len_b are ignored): fills dq, dk, dv and optionally dtheta (AttentionGradients).
/// Math (docs/design.md §1): dY_0 = dZ, dY_{k+1} = A^T dY_k (over the plan's transposed graph),
/// dV = sum_k theta_k dY_k, dtheta_k = <dY_k, V>, dA = sum_{k<K} dY_k Y_{k+1}^T on the pattern,
/// dropout backward, ds_e = a_e (da_e - sum_row a da), dq_i = sum_e ds_e k_j / sqrt(D),
/// dk_j = sum_e ds_e q_i / sqrt(D). `plan` and `inputs` must be those of the forward call that
/// filled `saved` (the plan is checked by id, the shapes and lengths against the saved ones).
/// Deterministic for any thread count; no atomics.
template <typename T>
void sparse_attention_backward(const AttentionPlan& plan, const AttentionInputs<T>& inputs,
                               const AttentionSaved<T>& saved, std::span<const T> dz,
                               const AttentionGradients<T>& grads,
                               Kernels kernels = Kernels::kOptimized);

}  // namespace diffuser::attention
