// Why: benchmarks time GPU work with events recorded on the stream that runs it (host clocks
// would measure launch overhead, not the kernels). RAII, move-only.
#pragma once

#include <cuda_runtime_api.h>

#include <utility>

#include "attention/cuda/CudaCheck.hpp"

namespace diffuser::attention::cuda {

/// An owned CUDA event with timing enabled.
class CudaEvent {
 public:
  CudaEvent() { DIFFUSER_CUDA_CHECK(cudaEventCreate(&event_)); }
  ~CudaEvent() {
    if (event_ != nullptr) (void)cudaEventDestroy(event_);
  }
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  CudaEvent(CudaEvent&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
  CudaEvent& operator=(CudaEvent&& other) noexcept {
    if (this != &other) {
      if (event_ != nullptr) (void)cudaEventDestroy(event_);
      event_ = std::exchange(other.event_, nullptr);
    }
    return *this;
  }

  void record(cudaStream_t stream) { DIFFUSER_CUDA_CHECK(cudaEventRecord(event_, stream)); }
  void synchronize() const { DIFFUSER_CUDA_CHECK(cudaEventSynchronize(event_)); }

  /// Milliseconds from `start` to this event (both recorded; waits for this one).
  float elapsed_ms_since(const CudaEvent& start) const {
    synchronize();
    float ms = 0.0f;
    DIFFUSER_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, event_));
    return ms;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace diffuser::attention::cuda
