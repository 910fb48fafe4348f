// Why: the per-edge kernels of the backend — scores (SDDMM), edge softmax forward and backward
// with dropout, the fused scores+softmax kernel, edge permutation and the device-side dropout
// draw. Rows are reduced by a warp (short rows) or a block (long rows) in one launch, so a
// global row of degree n runs in parallel with the rest instead of stalling the launch.
#include <cmath>
#include <cstdint>

#include "attention/AttentionDropout.hpp"
#include "attention/cuda/AttentionKernels.hpp"
#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/WarpReduce.cuh"

namespace diffuser::attention::cuda {

namespace {

// <a, b> over one head's D values, sequentially in fp32. kVec4: D % 4 == 0 and both rows
// 16-byte aligned.
template <bool kVec4>
__device__ __forceinline__ float head_dot(const float* a, const float* b, int head_dim) {
  float acc = 0.0f;
  if constexpr (kVec4) {
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    for (int d = 0; d < head_dim / 4; ++d) {
      const float4 x = a4[d];
      const float4 y = b4[d];
      acc = fmaf(x.x, y.x, acc);
      acc = fmaf(x.y, y.y, acc);
      acc = fmaf(x.z, y.z, acc);
      acc = fmaf(x.w, y.w, acc);
    }
  } else {
    for (int d = 0; d < head_dim; ++d) acc = fmaf(a[d], b[d], acc);
  }
  return acc;
}

__device__ __forceinline__ float drop_multiplier(EdgeDropout drop, int h, std::int64_t e, int heads,
                                                 std::int64_t nnz) {
  return dropout_multiplier(
      drop.seed, drop.stream,
      dropout_index(static_cast<std::uint64_t>(drop.sequence), static_cast<std::uint64_t>(h),
                    static_cast<std::uint64_t>(e), static_cast<std::uint64_t>(heads),
                    static_cast<std::uint64_t>(nnz)),
      drop.p);
}

// ---- SDDMM: one warp per row segment, one thread per edge ------------------------------------

template <bool kVec4>
__global__ void __launch_bounds__(kBlockThreads)
    edge_dot_kernel(DeviceGraphView g, HeadShape s, const float* x, const float* y, float alpha,
                    bool accumulate, int len, float* out) {
  const std::int64_t item =
      static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (item >= g.num_segments) return;
  const RowSegment seg = g.segments[item];
  const int i = seg.row;
  const int lane = static_cast<int>(threadIdx.x & 31u);
  for (std::int64_t e = seg.begin + lane; e < seg.end; e += 32) {
    const std::int64_t j = g.columns[e];
    for (int h = 0; h < s.heads; ++h) {
      float* o = out + h * g.nnz + e;
      if (i >= len) {
        if (!accumulate) *o = 0.0f;
        continue;
      }
      const float v =
          alpha * head_dot<kVec4>(x + static_cast<std::int64_t>(i) * s.width + h * s.head_dim,
                                  y + j * s.width + h * s.head_dim, s.head_dim);
      *o = accumulate ? *o + v : v;
    }
  }
}

// ---- Edge softmax forward ----------------------------------------------------------------------

// Softmax of row i, head h, over the scores stored in a[e] (in place), masked edges (key >= len)
// excluded; writes the weights to a and, when dropped is not null, a * multiplier to dropped.
// `m` is the row maximum of the unmasked scores computed by the caller's first pass.
template <class Row>
__device__ void softmax_finish(const Row& row, const DeviceGraphView& g, const float* scores,
                               float* a, float* dropped, std::int64_t begin, std::int64_t end,
                               int len, float m, EdgeDropout drop, int h, int heads) {
  m = row.max(m);
  float total = 0.0f;
  if (m != -INFINITY) {
    for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
      if (g.columns[e] < len) total += expf(scores[e] - m);
    }
  }
  total = row.sum(total);
  for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
    float value = 0.0f;
    if (m != -INFINITY && g.columns[e] < len) value = expf(scores[e] - m) / total;
    a[e] = value;
    if (dropped != nullptr) dropped[e] = value * drop_multiplier(drop, h, e, heads, g.nnz);
  }
}

template <class Row>
__device__ void softmax_row(const Row& row, const DeviceGraphView& g, HeadShape s, int i,
                            const float* scores, int len, EdgeDropout drop, float* attn,
                            float* attn_dropped) {
  const std::int64_t begin = g.offsets[i], end = g.offsets[i + 1];
  for (int h = 0; h < s.heads; ++h) {
    const float* sh = scores + h * g.nnz;
    float* ah = attn + h * g.nnz;
    float* dh = attn_dropped != nullptr ? attn_dropped + h * g.nnz : nullptr;
    if (i >= len) {
      for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
        ah[e] = 0.0f;
        if (dh != nullptr) dh[e] = 0.0f;
      }
      continue;
    }
    float m = -INFINITY;
    for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
      if (g.columns[e] < len) m = fmaxf(m, sh[e]);
    }
    softmax_finish(row, g, sh, ah, dh, begin, end, len, m, drop, h, s.heads);
  }
}

__global__ void __launch_bounds__(kBlockThreads)
    softmax_forward_kernel(DeviceGraphView g, HeadShape s, const float* scores, int len,
                           EdgeDropout drop, float* attn, float* attn_dropped) {
  __shared__ float scratch[32];
  if (static_cast<std::int32_t>(blockIdx.x) < g.num_long) {
    softmax_row(BlockRow{scratch}, g, s, g.long_rows[blockIdx.x].row, scores, len, drop, attn,
                attn_dropped);
    return;
  }
  const std::int64_t w =
      static_cast<std::int64_t>(blockIdx.x - g.num_long) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (w >= g.num_short) return;  // the whole warp leaves together
  softmax_row(WarpRow{}, g, s, g.short_rows[w], scores, len, drop, attn, attn_dropped);
}

// ---- Fused scores + softmax ---------------------------------------------------------------------

template <bool kVec4, class Row>
__device__ void fused_row(const Row& row, const DeviceGraphView& g, HeadShape s, int i,
                          const float* q, const float* k, float scale, int len, EdgeDropout drop,
                          float* attn, float* attn_dropped) {
  const std::int64_t begin = g.offsets[i], end = g.offsets[i + 1];
  for (int h = 0; h < s.heads; ++h) {
    float* ah = attn + h * g.nnz;
    float* dh = attn_dropped != nullptr ? attn_dropped + h * g.nnz : nullptr;
    if (i >= len) {
      for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
        ah[e] = 0.0f;
        if (dh != nullptr) dh[e] = 0.0f;
      }
      continue;
    }
    const float* qi = q + static_cast<std::int64_t>(i) * s.width + h * s.head_dim;
    float m = -INFINITY;
    for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
      const std::int64_t j = g.columns[e];
      if (j >= len) continue;
      const float score = scale * head_dot<kVec4>(qi, k + j * s.width + h * s.head_dim, s.head_dim);
      ah[e] = score;  // read back only by this thread
      m = fmaxf(m, score);
    }
    softmax_finish(row, g, ah, ah, dh, begin, end, len, m, drop, h, s.heads);
  }
}

template <bool kVec4>
__global__ void __launch_bounds__(kBlockThreads)
    fused_scores_softmax_kernel(DeviceGraphView g, HeadShape s, const float* q, const float* k,
                                float scale, int len, EdgeDropout drop, float* attn,
                                float* attn_dropped) {
  __shared__ float scratch[32];
  if (static_cast<std::int32_t>(blockIdx.x) < g.num_long) {
    fused_row<kVec4>(BlockRow{scratch}, g, s, g.long_rows[blockIdx.x].row, q, k, scale, len, drop,
                     attn, attn_dropped);
    return;
  }
  const std::int64_t w =
      static_cast<std::int64_t>(blockIdx.x - g.num_long) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (w >= g.num_short) return;
  fused_row<kVec4>(WarpRow{}, g, s, g.short_rows[w], q, k, scale, len, drop, attn, attn_dropped);
}

// ---- Edge softmax backward ----------------------------------------------------------------------

template <class Row>
__device__ void softmax_backward_row(const Row& row, const DeviceGraphView& g, HeadShape s, int i,
                                     const float* attn, const float* da, float scale, int len,
                                     EdgeDropout drop, float* ds) {
  const std::int64_t begin = g.offsets[i], end = g.offsets[i + 1];
  const bool dropout = drop.p > 0.0f;
  for (int h = 0; h < s.heads; ++h) {
    const float* ah = attn + h * g.nnz;
    const float* dah = da + h * g.nnz;
    float* dsh = ds + h * g.nnz;
    if (i >= len) {
      for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) dsh[e] = 0.0f;
      continue;
    }
    float dot = 0.0f;
    for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
      const float mult = dropout ? drop_multiplier(drop, h, e, s.heads, g.nnz) : 1.0f;
      dot += ah[e] * (dah[e] * mult);
    }
    dot = row.sum(dot);
    for (std::int64_t e = begin + row.rank(); e < end; e += row.size()) {
      const float mult = dropout ? drop_multiplier(drop, h, e, s.heads, g.nnz) : 1.0f;
      const float value = scale * ah[e] * (dah[e] * mult - dot);
      dsh[e] = value;  // dsh may alias dah: this thread has read dah[e] already
    }
  }
}

__global__ void __launch_bounds__(kBlockThreads)
    softmax_backward_kernel(DeviceGraphView g, HeadShape s, const float* attn, const float* da,
                            float scale, int len, EdgeDropout drop, float* ds) {
  __shared__ float scratch[32];
  if (static_cast<std::int32_t>(blockIdx.x) < g.num_long) {
    softmax_backward_row(BlockRow{scratch}, g, s, g.long_rows[blockIdx.x].row, attn, da, scale, len,
                         drop, ds);
    return;
  }
  const std::int64_t w =
      static_cast<std::int64_t>(blockIdx.x - g.num_long) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (w >= g.num_short) return;
  softmax_backward_row(WarpRow{}, g, s, g.short_rows[w], attn, da, scale, len, drop, ds);
}

// ---- Small element-wise kernels -----------------------------------------------------------------

__global__ void permute_edges_kernel(const float* in, const std::int32_t* perm, std::int64_t nnz,
                                     std::int64_t total, float* out) {
  for (std::int64_t x = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; x < total;
       x += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t h = x / nnz;
    const std::int64_t t = x - h * nnz;
    out[x] = in[h * nnz + perm[t]];
  }
}

__global__ void counter_uniform_kernel(std::uint64_t seed, std::uint64_t stream_id,
                                       std::uint64_t first, std::int64_t count, float* out) {
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < count;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[t] = counter_uniform(seed, stream_id, first + static_cast<std::uint64_t>(t));
  }
}

// Grid of a row kernel: one block per long row, then one warp per short row.
unsigned row_grid(const DeviceGraphView& g) {
  return static_cast<unsigned>(g.num_long + blocks_for_warps(g.num_short));
}

// Grid of a grid-stride element-wise kernel.
unsigned elementwise_grid(std::int64_t count) {
  const std::int64_t blocks = (count + kBlockThreads - 1) / kBlockThreads;
  return static_cast<unsigned>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

void launch_edge_dot(const DeviceGraphView& g, HeadShape s, const float* x, const float* y,
                     float alpha, bool accumulate, int len, float* out, cudaStream_t stream) {
  if (g.num_segments == 0) return;
  const unsigned grid = static_cast<unsigned>(blocks_for_warps(g.num_segments));
  if (s.head_dim % 4 == 0 && aligned16(x) && aligned16(y)) {
    edge_dot_kernel<true>
        <<<grid, kBlockThreads, 0, stream>>>(g, s, x, y, alpha, accumulate, len, out);
  } else {
    edge_dot_kernel<false>
        <<<grid, kBlockThreads, 0, stream>>>(g, s, x, y, alpha, accumulate, len, out);
  }
  DIFFUSER_CUDA_CHECK_LAUNCH("edge_dot_kernel");
}

void launch_softmax_forward(const DeviceGraphView& g, HeadShape s, const float* scores, int len,
                            EdgeDropout dropout, float* attn, float* attn_dropped,
                            cudaStream_t stream) {
  softmax_forward_kernel<<<row_grid(g), kBlockThreads, 0, stream>>>(g, s, scores, len, dropout,
                                                                    attn, attn_dropped);
  DIFFUSER_CUDA_CHECK_LAUNCH("softmax_forward_kernel");
}

void launch_fused_scores_softmax(const DeviceGraphView& g, HeadShape s, const float* q,
                                 const float* k, float scale, int len, EdgeDropout dropout,
                                 float* attn, float* attn_dropped, cudaStream_t stream) {
  if (s.head_dim % 4 == 0 && aligned16(q) && aligned16(k)) {
    fused_scores_softmax_kernel<true><<<row_grid(g), kBlockThreads, 0, stream>>>(
        g, s, q, k, scale, len, dropout, attn, attn_dropped);
  } else {
    fused_scores_softmax_kernel<false><<<row_grid(g), kBlockThreads, 0, stream>>>(
        g, s, q, k, scale, len, dropout, attn, attn_dropped);
  }
  DIFFUSER_CUDA_CHECK_LAUNCH("fused_scores_softmax_kernel");
}

void launch_softmax_backward(const DeviceGraphView& g, HeadShape s, const float* attn,
                             const float* da, float scale, int len, EdgeDropout dropout, float* ds,
                             cudaStream_t stream) {
  softmax_backward_kernel<<<row_grid(g), kBlockThreads, 0, stream>>>(g, s, attn, da, scale, len,
                                                                     dropout, ds);
  DIFFUSER_CUDA_CHECK_LAUNCH("softmax_backward_kernel");
}

void launch_permute_edges(const float* in, const std::int32_t* perm, std::int64_t nnz, int heads,
                          float* out, cudaStream_t stream) {
  const std::int64_t total = nnz * heads;
  if (total == 0) return;
  permute_edges_kernel<<<elementwise_grid(total), kBlockThreads, 0, stream>>>(in, perm, nnz, total,
                                                                              out);
  DIFFUSER_CUDA_CHECK_LAUNCH("permute_edges_kernel");
}

void launch_counter_uniform(std::uint64_t seed, std::uint64_t stream_id, std::uint64_t first,
                            std::int64_t count, float* out, cudaStream_t stream) {
  if (count <= 0) return;
  counter_uniform_kernel<<<elementwise_grid(count), kBlockThreads, 0, stream>>>(seed, stream_id,
                                                                                first, count, out);
  DIFFUSER_CUDA_CHECK_LAUNCH("counter_uniform_kernel");
}

}  // namespace diffuser::attention::cuda
