// Why: the own CUDA kernels of the attention backend behind plain-pointer launch functions, so
// host code (.cpp, compiled by the C++ compiler) can queue them without seeing device code.
// Every launch works on ONE sequence: activations [n, H*D] row-major, edge values [H, nnz]
// (EdgeLayout::head_major, the layout of every backend). Rows i >= len are padding (docs/design.md
// §1: padded keys contribute nothing, padded queries produce zeros). All kernels give the same
// bits on every run: each output element is summed by one thread or one fixed reduction tree,
// never with atomics.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "attention/cuda/DeviceGraphView.hpp"

namespace diffuser::attention::cuda {

/// Head geometry of a call: width = heads * head_dim is the row stride of every activation.
struct HeadShape {
  int heads = 1;
  int head_dim = 1;
  int width = 1;
};

/// Attention dropout of one sequence (AttentionDropout.hpp): the draw of (head h, edge e) is
/// counter_uniform(seed, stream, (sequence * H + h) * nnz + e); p = 0 disables it.
struct EdgeDropout {
  float p = 0.0f;
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  std::int64_t sequence = 0;
};

/// SDDMM (own kernel, one warp per row segment, one thread per edge, all heads):
/// out[h, e] = alpha * <x[i, h], y[j, h]> (+ out[h, e] when accumulate) for e = (i, j), i < len.
/// Rows i >= len: out = 0 (or unchanged when accumulate).
void launch_edge_dot(const DeviceGraphView& g, HeadShape s, const float* x, const float* y,
                     float alpha, bool accumulate, int len, float* out, cudaStream_t stream);

/// Edge softmax forward per row i < len and head h over the edges whose key j < len:
/// attn[h, e] = exp(s_e - m) / sum_e' exp(s_e' - m); masked edges and rows i >= len get 0.
/// `scores` may equal `attn` (in place). When attn_dropped is not null it receives
/// attn * dropout multiplier. Long rows get a block each, short rows a warp.
void launch_softmax_forward(const DeviceGraphView& g, HeadShape s, const float* scores, int len,
                            EdgeDropout dropout, float* attn, float* attn_dropped,
                            cudaStream_t stream);

/// Fused scores + softmax (+ dropout): s_e = scale * <q_i, k_j> computed per edge and head in
/// registers, then the softmax of launch_softmax_forward, one pass over the pattern per head
/// and no separate score array.
void launch_fused_scores_softmax(const DeviceGraphView& g, HeadShape s, const float* q,
                                 const float* k, float scale, int len, EdgeDropout dropout,
                                 float* attn, float* attn_dropped, cudaStream_t stream);

/// Edge-softmax backward with dropout: with da'_e = da_e * multiplier_e,
/// ds[h, e] = scale * a_e * (da'_e - sum_{e' in row i} a_e' da'_e'); rows i >= len get 0.
/// `ds` may equal `da` (in place).
void launch_softmax_backward(const DeviceGraphView& g, HeadShape s, const float* attn,
                             const float* da, float scale, int len, EdgeDropout dropout, float* ds,
                             cudaStream_t stream);

/// Hop kernel (SpMM for all heads in one launch, the pattern read once). With w [H, g.nnz]:
/// out[i, h*D + d] = alpha * sum_{e in row i} w[h, we] * x[col_e, h*D + d] + beta * add[i, ...]
/// for rows i < len (out = 0 for i >= len), where we = weight_perm[e] when weight_perm is not
/// null (weights stored in another edge order, e.g. the pattern's order while g is the
/// transpose) and we = e otherwise. `add` may be null (then beta is unused). `partial` must hold
/// g.num_slots * width floats when g has long rows (may be null otherwise). out must not
/// overlap x, add or partial.
void launch_spmm(const DeviceGraphView& g, HeadShape s, const float* w,
                 const std::int32_t* weight_perm, const float* x, float alpha, const float* add,
                 float beta, int len, float* out, float* partial, cudaStream_t stream);

/// out[h, t] = in[h, perm[t]] for t < nnz (edge values into another edge order).
void launch_permute_edges(const float* in, const std::int32_t* perm, std::int64_t nnz, int heads,
                          float* out, cudaStream_t stream);

/// out[x] = c * in[x] for x < count (out may equal in).
void launch_scale(float* out, const float* in, float c, std::int64_t count, cudaStream_t stream);

/// y[x] += c * x[x] for x < count.
void launch_axpy(float* y, const float* x, float c, std::int64_t count, cudaStream_t stream);

/// Number of partial sums written by launch_dot_partials / launch_find_nonfinite.
inline constexpr int kReductionBlocks = 256;

/// partials[b] (b < kReductionBlocks) = double-precision partial sums of sum_x a[x] * b[x];
/// their sum, taken in index order, is the dot product (deterministic for a given count).
void launch_dot_partials(const float* a, const float* b, std::int64_t count, double* partials,
                         cudaStream_t stream);

/// partials[b] (b < kReductionBlocks) = smallest index x of block b's share with a non-finite
/// x[x], or count when there is none; the minimum over b is the first non-finite element.
void launch_find_nonfinite(const float* x, std::int64_t count, std::int64_t* partials,
                           cudaStream_t stream);

/// out[t] = counter_uniform(seed, stream_id, first + t) for t < count (the dropout draw of
/// core/Rng.hpp, computed on the device).
void launch_counter_uniform(std::uint64_t seed, std::uint64_t stream_id, std::uint64_t first,
                            std::int64_t count, float* out, cudaStream_t stream);

}  // namespace diffuser::attention::cuda
