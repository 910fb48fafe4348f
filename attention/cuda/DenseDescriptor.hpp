// Why: cuSPARSE's generic API describes each dense operand (one head's columns of a [n, H*D]
// activation) by a descriptor that must be destroyed; the cuSPARSE path caches them per head,
// so they get an owner (RAII, move-only).
#pragma once

#include <cusparse.h>

#include <cstdint>
#include <utility>

#include "attention/cuda/CudaCheck.hpp"

namespace diffuser::attention::cuda {

/// An owned cusparseDnMatDescr_t for a rows x cols float matrix with leading dimension ld in
/// the given order (row-major: element (r, c) at r*ld + c; column-major: at c*ld + r). The
/// values are borrowed.
class DenseDescriptor {
 public:
  DenseDescriptor() = default;
  DenseDescriptor(std::int64_t rows, std::int64_t cols, std::int64_t ld, float* values,
                  cusparseOrder_t order) {
    DIFFUSER_CUSPARSE_CHECK(
        cusparseCreateDnMat(&descr_, rows, cols, ld, values, CUDA_R_32F, order));
  }
  ~DenseDescriptor() {
    if (descr_ != nullptr) (void)cusparseDestroyDnMat(descr_);
  }
  DenseDescriptor(const DenseDescriptor&) = delete;
  DenseDescriptor& operator=(const DenseDescriptor&) = delete;
  DenseDescriptor(DenseDescriptor&& other) noexcept
      : descr_(std::exchange(other.descr_, nullptr)) {}
  DenseDescriptor& operator=(DenseDescriptor&& other) noexcept {
    if (this != &other) {
      if (descr_ != nullptr) (void)cusparseDestroyDnMat(descr_);
      descr_ = std::exchange(other.descr_, nullptr);
    }
    return *this;
  }

  cusparseDnMatDescr_t get() const { return descr_; }

  /// Points the descriptor at another array of the same shape; host-side, no copy.
  void set_values(const float* values) {
    DIFFUSER_CUSPARSE_CHECK(cusparseDnMatSetValues(descr_, const_cast<float*>(values)));
  }

 private:
  cusparseDnMatDescr_t descr_ = nullptr;
};

}  // namespace diffuser::attention::cuda
