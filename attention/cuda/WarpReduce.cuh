// Why: the row kernels reduce over a row's edges either with one warp (short rows) or with a
// whole block (long rows, e.g. a global token of degree n). Both reductions are butterflies
// over a fixed assignment of edges to threads, so every run gives the same bits, and every
// thread of the group ends with the same value (floating-point addition is commutative, so
// partners in a butterfly compute identical sums). Device code: include only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace diffuser::attention::cuda {

/// Threads per block of every row and edge kernel (8 warps).
inline constexpr int kBlockThreads = 256;
/// Warps per block.
inline constexpr int kWarpsPerBlock = kBlockThreads / 32;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

/// A row reduced by one full warp: thread `rank()` of `size()` takes edges begin + rank,
/// begin + rank + size, ... Every lane must call sum()/max() (no lane may have exited).
struct WarpRow {
  __device__ int rank() const { return static_cast<int>(threadIdx.x & 31u); }
  __device__ int size() const { return 32; }
  __device__ float sum(float v) const { return warp_sum(v); }
  __device__ float max(float v) const { return warp_max(v); }
};

/// A row reduced by the whole block (blockDim.x a multiple of 32, at most 1024). `scratch`
/// points to 32 floats of shared memory. Every thread of the block must call sum()/max() the
/// same number of times (they contain __syncthreads()).
struct BlockRow {
  float* scratch;

  __device__ int rank() const { return static_cast<int>(threadIdx.x); }
  __device__ int size() const { return static_cast<int>(blockDim.x); }
  __device__ float sum(float v) const { return reduce(v, true); }
  __device__ float max(float v) const { return reduce(v, false); }

 private:
  __device__ float reduce(float v, bool is_sum) const {
    v = is_sum ? warp_sum(v) : warp_max(v);
    __syncthreads();  // every reader of the previous reduction is done with scratch
    const unsigned lane = threadIdx.x & 31u;
    if (lane == 0) scratch[threadIdx.x >> 5] = v;
    __syncthreads();
    const unsigned warps = blockDim.x >> 5;
    float r = lane < warps ? scratch[lane] : (is_sum ? 0.0f : -INFINITY);
    return is_sum ? warp_sum(r) : warp_max(r);
  }
};

/// Blocks needed for `items` work items at one warp each (ceil(items / kWarpsPerBlock)).
inline std::int64_t blocks_for_warps(std::int64_t items) {
  return (items + kWarpsPerBlock - 1) / kWarpsPerBlock;
}

}  // namespace diffuser::attention::cuda
