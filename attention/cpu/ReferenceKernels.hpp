// Why: the plain reference implementation of docs/design.md §1 — simple loops over sequences,
// heads, rows and edges, double accumulation, single-threaded, no transposed graph (A^T products
// are scatters over the pattern's own edges). It is the oracle the optimised kernels are tested
// against, so it is written for obviousness, not speed.
#pragma once

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"

namespace diffuser::attention::cpu {

/// Forward of sparse attention with diffusion for an already validated call (see
/// sparse_attention_forward for the contract). q, k, v, z: [batch, n, H·D]. When `saved` is
/// not null, its attn / attn_dropped / hops buffers are resized and filled (the caller sets
/// its geometry, options, plan id and nnz).
template <typename T>
void reference_forward(const AttentionPlan& plan, const AttentionOptions& options,
                       const AttentionGeometry& g, const T* q, const T* k, const T* v, T* z,
                       AttentionSaved<T>* saved);

/// Backward for an already validated call: writes dq, dk, dv ([batch, n, H·D]) and, when
/// dtheta is not null, dtheta[0..K] (overwritten, summed over batch and heads).
template <typename T>
void reference_backward(const AttentionPlan& plan, const AttentionGeometry& g, const T* q,
                        const T* k, const T* v, const AttentionSaved<T>& saved, const T* dz, T* dq,
                        T* dk, T* dv, double* dtheta);

}  // namespace diffuser::attention::cpu
