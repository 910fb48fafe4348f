// Why: the fast CPU path of docs/design.md §1. Each kernel runs over one sequence, row-parallel
// with OpenMP over the plan's work-balanced row blocks (dynamic schedule; every output row is
// computed by one thread in a fixed order, so results are bitwise identical for any thread
// count), reads each neighbour's whole H·D feature row once per edge, and vectorises over the
// head dimension. A^T products run over the transposed graph; nothing uses atomics. Tiny calls
// (under about 6.5e4 multiply-adds per kernel, e.g. n = 8, W = 8) run on the calling thread
// without opening a parallel region, which would cost more than the work. The forward hop, on
// a plan with row tiles (PlanOptions::row_tiles, the default), runs its sparse rows through
// TiledHop.hpp instead: a key shared by the rows of a tile is loaded once for all of them.
#pragma once

#include <cstdint>

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"
#include "attention/EdgeLayout.hpp"
#include "attention/cpu/SequenceShape.hpp"

namespace diffuser::attention::cpu {

/// SDDMM + edge softmax: for every valid row i < len and valid key j < len of edge e = (i, j),
/// s = <q_i, k_j> / sqrt(D) per head, a_e = softmax over the row's valid edges. Masked edges,
/// rows i >= len and rows without a valid key get a = 0. q, k: [n, W]; a: nnz·H in `layout`.
template <typename T>
void scores_softmax_forward(const AttentionPlan& plan, const SequenceShape& s, const T* q,
                            const T* k, EdgeLayout layout, T* a);

/// out = c1 · (A · y) + c0 · v row by row (rows >= len: 0); A's values a in `layout` (pattern
/// edge order). y, v, out: [n, W]; out must not overlap y or v. One Horner step of the
/// diffusion (c1 = theta_K when y = V, else 1; c0 = theta_k). Sparse rows go through the row
/// tiles when the plan has them (tiled_hop_block), else row by row; dense runs through GEMMs.
template <typename T>
void spmm_hop_forward(const AttentionPlan& plan, const SequenceShape& s, const T* a,
                      EdgeLayout layout, const T* y, T c1, const T* v, T c0, T* out);

/// One backward hop over the transposed graph, for every key row j < len (rows >= len: g_next
/// and partial get 0, dv untouched):
///   g_next_j  = sum_{t=(i->j)} a_t · g_i                (dY_{k+1} = A^T dY_k)
///   da_t     += y_scale · <g_i, y_next_j>               (dA += dY_k Y_{k+1}^T on the pattern)
///   dv_j     += theta_next · g_next_j                   (dV = sum_k theta_k dY_k)
///   partial_j = <g_next_j, v_j>                          (row part of dtheta_{k+1})
/// over valid queries i < len. a_t, da_t: nnz·H in `layout` in transposed edge order.
/// g, y_next, v, g_next, dv: [n, W]; partial: [n] (may be null).
template <typename T>
void transposed_hop_backward(const AttentionPlan& plan, const SequenceShape& s, const T* a_t,
                             EdgeLayout layout, const T* g, const T* y_next, T y_scale, const T* v,
                             T theta_next, T* g_next, T* dv, T* da_t, double* partial);

/// Dropout + edge-softmax backward and dq, per query row i < len (rows >= len: dq 0):
///   da_e = da_t[inverse_perm e] · m_e (m_e = 1/(1-p) when a_dropped_e != 0, else 0; 1 when
///   a_dropped is null), ds_e = a_e (da_e - sum_row a da) / sqrt(D),
///   dq_i = sum_e ds_e k_j; ds is written to ds_t (transposed order, 0 on masked edges).
/// a and a_dropped are in `layout` (pattern order); da_t and ds_t in `transposed_layout`
/// (transposed order).
template <typename T>
void softmax_backward_dq(const AttentionPlan& plan, const SequenceShape& s, const T* a,
                         const T* a_dropped, T keep_scale, EdgeLayout layout, const T* da_t,
                         EdgeLayout transposed_layout, const T* k, T* dq, T* ds_t);

/// dk_j = sum_{t=(i->j)} ds_t q_i over the transposed graph (rows >= len: 0).
template <typename T>
void keys_backward(const AttentionPlan& plan, const SequenceShape& s, const T* ds_t,
                   EdgeLayout layout, const T* q, T* dk);

/// Whole forward for an already validated call (same contract as reference_forward).
template <typename T>
void optimized_forward(const AttentionPlan& plan, const AttentionOptions& options,
                       const AttentionGeometry& g, const T* q, const T* k, const T* v, T* z,
                       AttentionSaved<T>* saved);

/// Whole backward for an already validated call (same contract as reference_backward).
template <typename T>
void optimized_backward(const AttentionPlan& plan, const AttentionGeometry& g, const T* q,
                        const T* k, const T* v, const AttentionSaved<T>& saved, const T* dz, T* dq,
                        T* dk, T* dv, double* dtheta);

}  // namespace diffuser::attention::cpu
