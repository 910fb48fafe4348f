// Why: the hop kernel. One launch serves all H heads: a warp takes a row (or a segment of a long
// row), reads each edge's column index once and then the key's whole contiguous H*D feature
// row, so the pattern is read once per hop instead of once per head (the cuSPARSE path makes H
// calls). Long rows are cut into segments whose partial sums a fix-up pass adds in slot order:
// the result is deterministic and a global row of degree n does not stall the launch.
#include <cstdint>

#include "attention/cuda/AttentionKernels.hpp"
#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/WarpReduce.cuh"

namespace diffuser::attention::cuda {

namespace {

// Vector type a lane moves per column step: float4 (D % 4 == 0, aligned rows) or float.
template <bool kVec4>
struct Lanes;
template <>
struct Lanes<true> {
  using Type = float4;
  static constexpr int kWidth = 4;
};
template <>
struct Lanes<false> {
  using Type = float;
  static constexpr int kWidth = 1;
};

__device__ __forceinline__ void set_zero(float4& v) { v = make_float4(0.0f, 0.0f, 0.0f, 0.0f); }
__device__ __forceinline__ void set_zero(float& v) { v = 0.0f; }

__device__ __forceinline__ void fma_into(float4& acc, float w, const float4& x) {
  acc.x = fmaf(w, x.x, acc.x);
  acc.y = fmaf(w, x.y, acc.y);
  acc.z = fmaf(w, x.z, acc.z);
  acc.w = fmaf(w, x.w, acc.w);
}
__device__ __forceinline__ void fma_into(float& acc, float w, float x) { acc = fmaf(w, x, acc); }

// alpha * acc + beta * add (add may be null).
__device__ __forceinline__ float4 combine(const float4& acc, float alpha, const float4* add,
                                          float beta) {
  float4 r = make_float4(alpha * acc.x, alpha * acc.y, alpha * acc.z, alpha * acc.w);
  if (add != nullptr) {
    r.x += beta * add->x;
    r.y += beta * add->y;
    r.z += beta * add->z;
    r.w += beta * add->w;
  }
  return r;
}
__device__ __forceinline__ float combine(float acc, float alpha, const float* add, float beta) {
  float r = alpha * acc;
  if (add != nullptr) r += beta * *add;
  return r;
}

// kTiles column steps of 32 lanes per pass over the row's edges; wider rows take more passes.
// At least 4 blocks (32 warps) per SM: the kernel is a gather, latency is hidden by warps.
template <int kTiles, bool kVec4>
__global__ void __launch_bounds__(kBlockThreads, 4)
    spmm_kernel(DeviceGraphView g, HeadShape s, const float* w, const std::int32_t* weight_perm,
                const float* x, float alpha, const float* add, float beta, int len, float* out,
                float* partial) {
  using V = typename Lanes<kVec4>::Type;
  constexpr int kWidth = Lanes<kVec4>::kWidth;
  const std::int64_t item =
      static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
  if (item >= g.num_segments) return;
  const RowSegment seg = g.segments[item];
  const int lane = static_cast<int>(threadIdx.x & 31u);
  const std::int64_t i = seg.row;
  const std::int64_t width = s.width;
  const int vectors = s.width / kWidth;  // vectors per activation row
  const bool direct = seg.slot < 0;
  const bool compute = i < len;  // padded rows: zeros (direct) or zero partials (fix-up writes 0)
  for (int base = 0; base < vectors; base += 32 * kTiles) {
    V acc[kTiles];
    const float* w_head[kTiles];  // weights of the head this lane's columns belong to
#pragma unroll
    for (int t = 0; t < kTiles; ++t) {
      set_zero(acc[t]);
      const int v = base + t * 32 + lane;
      const int head = v < vectors ? (v * kWidth) / s.head_dim : 0;
      w_head[t] = w + head * g.nnz;
    }
    if (compute) {
      // Unrolled so the column and weight loads of the next edges are issued early.
#pragma unroll 2
      for (std::int64_t e = seg.begin; e < seg.end; ++e) {
        const std::int64_t j = g.columns[e];
        const std::int64_t we = weight_perm != nullptr ? weight_perm[e] : e;
        const V* xj = reinterpret_cast<const V*>(x + j * width);
#pragma unroll
        for (int t = 0; t < kTiles; ++t) {
          const int v = base + t * 32 + lane;
          if (v < vectors) fma_into(acc[t], w_head[t][we], xj[v]);
        }
      }
    }
#pragma unroll
    for (int t = 0; t < kTiles; ++t) {
      const int v = base + t * 32 + lane;
      if (v >= vectors) continue;
      if (!direct) {
        reinterpret_cast<V*>(partial + static_cast<std::int64_t>(seg.slot) * width)[v] = acc[t];
      } else {
        V* o = reinterpret_cast<V*>(out + i * width) + v;
        if (i < len) {
          const V* a = add != nullptr ? reinterpret_cast<const V*>(add + i * width) + v : nullptr;
          *o = combine(acc[t], alpha, a, beta);
        } else {
          V zero;
          set_zero(zero);
          *o = zero;
        }
      }
    }
  }
}

// One block per long row: adds the row's partial slots in slot order, then alpha/beta.
__global__ void __launch_bounds__(kBlockThreads)
    spmm_fixup_kernel(DeviceGraphView g, int width, const float* partial, float alpha,
                      const float* add, float beta, int len, float* out) {
  const LongRow r = g.long_rows[blockIdx.x];
  const std::int64_t i = r.row;
  for (int c = static_cast<int>(threadIdx.x); c < width; c += blockDim.x) {
    float acc = 0.0f;
    for (std::int64_t slot = r.slot_begin; slot < r.slot_end; ++slot) {
      acc += partial[slot * width + c];
    }
    float result = 0.0f;
    if (i < len) result = combine(acc, alpha, add != nullptr ? add + i * width + c : nullptr, beta);
    out[i * width + c] = result;
  }
}

template <bool kVec4>
void launch_spmm_tiles(const DeviceGraphView& g, HeadShape s, const float* w,
                       const std::int32_t* weight_perm, const float* x, float alpha,
                       const float* add, float beta, int len, float* out, float* partial,
                       cudaStream_t stream) {
  const unsigned grid = static_cast<unsigned>(blocks_for_warps(g.num_segments));
  const int vectors = s.width / Lanes<kVec4>::kWidth;
  if (vectors <= 32) {
    spmm_kernel<1, kVec4><<<grid, kBlockThreads, 0, stream>>>(g, s, w, weight_perm, x, alpha, add,
                                                              beta, len, out, partial);
  } else if (vectors <= 64) {
    spmm_kernel<2, kVec4><<<grid, kBlockThreads, 0, stream>>>(g, s, w, weight_perm, x, alpha, add,
                                                              beta, len, out, partial);
  } else {
    spmm_kernel<4, kVec4><<<grid, kBlockThreads, 0, stream>>>(g, s, w, weight_perm, x, alpha, add,
                                                              beta, len, out, partial);
  }
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

void launch_spmm(const DeviceGraphView& g, HeadShape s, const float* w,
                 const std::int32_t* weight_perm, const float* x, float alpha, const float* add,
                 float beta, int len, float* out, float* partial, cudaStream_t stream) {
  if (g.num_segments == 0) return;
  const bool vec4 = s.head_dim % 4 == 0 && aligned16(x) && aligned16(out) &&
                    (add == nullptr || aligned16(add)) &&
                    (partial == nullptr || aligned16(partial));
  if (vec4) {
    launch_spmm_tiles<true>(g, s, w, weight_perm, x, alpha, add, beta, len, out, partial, stream);
  } else {
    launch_spmm_tiles<false>(g, s, w, weight_perm, x, alpha, add, beta, len, out, partial, stream);
  }
  DIFFUSER_CUDA_CHECK_LAUNCH("spmm_kernel");
  if (g.num_long > 0) {
    spmm_fixup_kernel<<<static_cast<unsigned>(g.num_long), kBlockThreads, 0, stream>>>(
        g, s.width, partial, alpha, add, beta, len, out);
    DIFFUSER_CUDA_CHECK_LAUNCH("spmm_fixup_kernel");
  }
}

}  // namespace diffuser::attention::cuda
