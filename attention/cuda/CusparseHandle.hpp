// Why: a cuSPARSE handle is costly to create and holds per-device state; one per CudaAttention,
// bound to its stream, released with it (RAII, move-only).
#pragma once

#include <cusparse.h>

#include <utility>

#include "attention/cuda/CudaCheck.hpp"

namespace diffuser::attention::cuda {

/// An owned cuSPARSE handle whose calls run on `stream`.
class CusparseHandle {
 public:
  explicit CusparseHandle(cudaStream_t stream) {
    DIFFUSER_CUSPARSE_CHECK(cusparseCreate(&handle_));
    const cusparseStatus_t status = cusparseSetStream(handle_, stream);
    if (status != CUSPARSE_STATUS_SUCCESS) {
      (void)cusparseDestroy(handle_);
      throw_cusparse_error("cusparseSetStream(handle_, stream)", status, __FILE__, __LINE__);
    }
  }
  ~CusparseHandle() {
    if (handle_ != nullptr) (void)cusparseDestroy(handle_);
  }
  CusparseHandle(const CusparseHandle&) = delete;
  CusparseHandle& operator=(const CusparseHandle&) = delete;
  CusparseHandle(CusparseHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)) {}
  CusparseHandle& operator=(CusparseHandle&& other) noexcept {
    if (this != &other) {
      if (handle_ != nullptr) (void)cusparseDestroy(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  cusparseHandle_t get() const { return handle_; }

 private:
  cusparseHandle_t handle_ = nullptr;
};

}  // namespace diffuser::attention::cuda
