// Why: the dense element-wise steps of the backward pass (dV accumulation, dZ scaling), the
// dtheta dot products and the non-finite input check, as small kernels with a fixed grid so
// their reductions are summed in the same order on every run.
#include <cmath>
#include <cstdint>

#include "attention/cuda/AttentionKernels.hpp"
#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/WarpReduce.cuh"

namespace diffuser::attention::cuda {

namespace {

__global__ void scale_kernel(float* out, const float* in, float c, std::int64_t count) {
  for (std::int64_t x = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; x < count;
       x += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[x] = c * in[x];
  }
}

__global__ void axpy_kernel(float* y, const float* x, float c, std::int64_t count) {
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < count;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    y[t] = fmaf(c, x[t], y[t]);
  }
}

// Fixed grid (kReductionBlocks x kBlockThreads): each thread sums a fixed stride of elements
// in double, then a shared-memory tree in a fixed order.
__global__ void __launch_bounds__(kBlockThreads)
    dot_partials_kernel(const float* a, const float* b, std::int64_t count, double* partials) {
  __shared__ double scratch[kBlockThreads];
  double acc = 0.0;
  for (std::int64_t x = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; x < count;
       x += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    acc += static_cast<double>(a[x]) * static_cast<double>(b[x]);
  }
  scratch[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = kBlockThreads / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride)
      scratch[threadIdx.x] += scratch[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = scratch[0];
}

__global__ void __launch_bounds__(kBlockThreads)
    find_nonfinite_kernel(const float* x, std::int64_t count, std::int64_t* partials) {
  __shared__ std::int64_t scratch[kBlockThreads];
  std::int64_t first = count;
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < count;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    if (!isfinite(x[t]) && t < first) first = t;
  }
  scratch[threadIdx.x] = first;
  __syncthreads();
  for (int stride = kBlockThreads / 2; stride > 0; stride >>= 1) {
    if (static_cast<int>(threadIdx.x) < stride) {
      const std::int64_t other = scratch[threadIdx.x + stride];
      if (other < scratch[threadIdx.x]) scratch[threadIdx.x] = other;
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) partials[blockIdx.x] = scratch[0];
}

unsigned elementwise_grid(std::int64_t count) {
  const std::int64_t blocks = (count + kBlockThreads - 1) / kBlockThreads;
  return static_cast<unsigned>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

}  // namespace

void launch_scale(float* out, const float* in, float c, std::int64_t count, cudaStream_t stream) {
  if (count <= 0) return;
  scale_kernel<<<elementwise_grid(count), kBlockThreads, 0, stream>>>(out, in, c, count);
  DIFFUSER_CUDA_CHECK_LAUNCH("scale_kernel");
}

void launch_axpy(float* y, const float* x, float c, std::int64_t count, cudaStream_t stream) {
  if (count <= 0) return;
  axpy_kernel<<<elementwise_grid(count), kBlockThreads, 0, stream>>>(y, x, c, count);
  DIFFUSER_CUDA_CHECK_LAUNCH("axpy_kernel");
}

void launch_dot_partials(const float* a, const float* b, std::int64_t count, double* partials,
                         cudaStream_t stream) {
  dot_partials_kernel<<<kReductionBlocks, kBlockThreads, 0, stream>>>(a, b, count, partials);
  DIFFUSER_CUDA_CHECK_LAUNCH("dot_partials_kernel");
}

void launch_find_nonfinite(const float* x, std::int64_t count, std::int64_t* partials,
                           cudaStream_t stream) {
  find_nonfinite_kernel<<<kReductionBlocks, kBlockThreads, 0, stream>>>(x, count, partials);
  DIFFUSER_CUDA_CHECK_LAUNCH("find_nonfinite_kernel");
}

}  // namespace diffuser::attention::cuda
