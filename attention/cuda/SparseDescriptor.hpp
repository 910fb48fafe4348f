// Why: cuSPARSE's generic API describes a CSR matrix by a descriptor that must be destroyed;
// the cuSPARSE path keeps one per head (all sharing the pattern's offsets and columns), so the
// descriptor gets an owner (RAII, move-only).
#pragma once

#include <cusparse.h>

#include <cstdint>
#include <utility>

#include "attention/cuda/CudaCheck.hpp"

namespace diffuser::attention::cuda {

/// An owned cusparseSpMatDescr_t for an n x n float CSR matrix with int32 offsets and columns
/// (zero-based). The arrays are borrowed: they must outlive the descriptor.
class SparseDescriptor {
 public:
  SparseDescriptor() = default;
  SparseDescriptor(std::int64_t n, std::int64_t nnz, const int* offsets, const int* columns,
                   float* values) {
    DIFFUSER_CUSPARSE_CHECK(cusparseCreateCsr(
        &descr_, n, n, nnz, const_cast<int*>(offsets), const_cast<int*>(columns), values,
        CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F));
  }
  ~SparseDescriptor() {
    if (descr_ != nullptr) (void)cusparseDestroySpMat(descr_);
  }
  SparseDescriptor(const SparseDescriptor&) = delete;
  SparseDescriptor& operator=(const SparseDescriptor&) = delete;
  SparseDescriptor(SparseDescriptor&& other) noexcept
      : descr_(std::exchange(other.descr_, nullptr)) {}
  SparseDescriptor& operator=(SparseDescriptor&& other) noexcept {
    if (this != &other) {
      if (descr_ != nullptr) (void)cusparseDestroySpMat(descr_);
      descr_ = std::exchange(other.descr_, nullptr);
    }
    return *this;
  }

  cusparseSpMatDescr_t get() const { return descr_; }

  /// Points the descriptor at another values array (same pattern); host-side, no copy.
  void set_values(const float* values) {
    DIFFUSER_CUSPARSE_CHECK(cusparseSpMatSetValues(descr_, const_cast<float*>(values)));
  }

 private:
  cusparseSpMatDescr_t descr_ = nullptr;
};

}  // namespace diffuser::attention::cuda
