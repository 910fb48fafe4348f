// Why: every kernel and library call of a CudaAttention runs on its own stream, released with
// its owner (RAII, move-only). The stream is a blocking one: it stays ordered with the legacy
// default stream, so a plain cudaMemcpy upload (DeviceBuffer::upload, which may return before
// its DMA has landed) is always complete before work queued afterwards on this stream starts.
#pragma once

#include <cuda_runtime_api.h>

#include <utility>

#include "attention/cuda/CudaCheck.hpp"

namespace diffuser::attention::cuda {

/// An owned CUDA stream (cudaStreamDefault flags: ordered with the legacy default stream) on
/// the device current at construction.
class CudaStream {
 public:
  CudaStream() { DIFFUSER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamDefault)); }
  ~CudaStream() {
    if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
  }
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  CudaStream(CudaStream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  CudaStream& operator=(CudaStream&& other) noexcept {
    if (this != &other) {
      if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
      stream_ = std::exchange(other.stream_, nullptr);
    }
    return *this;
  }

  cudaStream_t get() const { return stream_; }

  /// Waits for all work queued on the stream; throws diffuser::Error if any of it failed.
  void synchronize() const { DIFFUSER_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

}  // namespace diffuser::attention::cuda
