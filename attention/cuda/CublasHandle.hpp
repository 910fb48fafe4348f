// Why: the dense baseline (full attention through cuBLAS GEMMs) needs a cuBLAS handle bound to
// the benchmark's stream, released with its owner (RAII, move-only).
#pragma once

#include <cublas_v2.h>

#include <utility>

#include "attention/cuda/CudaCheck.hpp"

namespace diffuser::attention::cuda {

/// An owned cuBLAS handle whose calls run on `stream` (default FP32 math: no TF32 unless the
/// caller changes the math mode).
class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream) {
    DIFFUSER_CUBLAS_CHECK(cublasCreate(&handle_));
    const cublasStatus_t status = cublasSetStream(handle_, stream);
    if (status != CUBLAS_STATUS_SUCCESS) {
      (void)cublasDestroy(handle_);
      throw_cublas_error("cublasSetStream(handle_, stream)", status, __FILE__, __LINE__);
    }
  }
  ~CublasHandle() {
    if (handle_ != nullptr) (void)cublasDestroy(handle_);
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  CublasHandle(CublasHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  CublasHandle& operator=(CublasHandle&& other) noexcept {
    if (this != &other) {
      if (handle_ != nullptr) (void)cublasDestroy(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

}  // namespace diffuser::attention::cuda
