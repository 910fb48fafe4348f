// Why: the cuSPARSE baseline the own kernels are measured against (docs/design.md §3). It keeps one
// CSR descriptor per head for the pattern and one per head for its transpose, all sharing the
// pattern's device offsets/columns (no copy of the pattern per head), plus the dense operand
// descriptors, created once per head shape and re-pointed per call; features are read in place
// from the [n, H*D] activations with leading dimension H*D.
#pragma once

#include <cuda_runtime_api.h>
#include <cusparse.h>

#include <cstddef>
#include <string>
#include <vector>

#include "attention/cuda/AttentionKernels.hpp"
#include "attention/cuda/CusparseHandle.hpp"
#include "attention/cuda/DenseDescriptor.hpp"
#include "attention/cuda/DeviceBuffer.hpp"
#include "attention/cuda/DevicePlan.hpp"
#include "attention/cuda/SparseDescriptor.hpp"

namespace diffuser::attention::cuda {

/// cuSPARSE operations over one DevicePlan on one stream. Every method queues work on the
/// stream and returns; errors of the calls themselves throw diffuser::Error naming the call.
class CusparseBackend {
 public:
  /// The plan must outlive the backend.
  CusparseBackend(const DevicePlan& plan, cudaStream_t stream);

  /// SDDMM on the pattern, per head h: out[h, e] = alpha * <x[i, h], y[j, h]> + beta * out[h, e]
  /// for every edge e = (i, j) (no masking; the softmax masks). x, y: [n, H*D]; out: [H, nnz].
  void sddmm(HeadShape s, const float* x, const float* y, float alpha, float beta, float* out);

  /// SpMM per head (CSR_ALG2, row-major, ld = H*D): out[:, h] = alpha * G_h x[:, h] + beta *
  /// out[:, h], where G is the pattern (transposed = false) or its transpose, with edge weights
  /// w [H, nnz] in that graph's own edge order. beta = 0 clears out first.
  void spmm(bool transposed, HeadShape s, const float* w, const float* x, float alpha, float beta,
            float* out);

  /// One Horner hop in the alpha/beta form of the PPR step: out = V on rows < len and 0 beyond
  /// (one device copy for all heads), then out = alpha * A x + beta * out per head. With
  /// add = null: out = alpha * A x.
  void hop(HeadShape s, const float* w, const float* x, float alpha, const float* add, float beta,
           int len, float* out);

  /// The SpMM algorithm in use (CSR_ALG2 unless cuSPARSE refused it for this shape).
  cusparseSpMMAlg_t spmm_algorithm() const { return spmm_alg_; }

  /// How SDDMM reads its dense operands: the first of these forms cuSPARSE accepts.
  enum class SddmmForm {
    kTransposedY,    ///< x row-major n x D (op N), y row-major n x D (op T)
    kColumnMajorY,   ///< x row-major n x D (op N), y as column-major D x n (op N)
    kColumnMajorXY,  ///< x as column-major D x n (op T), y as column-major D x n (op N)
  };
  SddmmForm sddmm_form() const { return sddmm_form_; }
  /// "SpMM CSR_ALG2, SDDMM y^T" and the like, for logs and benchmark records.
  std::string describe() const;

  /// Device bytes held (the shared workspace).
  std::size_t bytes() const { return workspace_.bytes() + dummy_.bytes(); }

 private:
  void prepare(HeadShape s);
  DenseDescriptor& sddmm_x() { return sddmm_form_ == SddmmForm::kColumnMajorXY ? x_cols_ : x_; }
  cusparseOperation_t sddmm_op_x() const {
    return sddmm_form_ == SddmmForm::kColumnMajorXY ? CUSPARSE_OPERATION_TRANSPOSE
                                                    : CUSPARSE_OPERATION_NON_TRANSPOSE;
  }
  cusparseOperation_t sddmm_op_y() const {
    return sddmm_form_ == SddmmForm::kTransposedY ? CUSPARSE_OPERATION_TRANSPOSE
                                                  : CUSPARSE_OPERATION_NON_TRANSPOSE;
  }

  const DevicePlan* plan_;
  cudaStream_t stream_;
  CusparseHandle handle_;
  HeadShape shape_{0, 0, 0};
  std::vector<SparseDescriptor> pattern_;     // one per head
  std::vector<SparseDescriptor> transposed_;  // one per head
  DenseDescriptor x_;       // n x D, ld W, row-major: SpMM B, SDDMM A (first two forms)
  DenseDescriptor x_cols_;  // D x n, ld W, column-major: SDDMM A (third form)
  DenseDescriptor y_;       // SDDMM B in the chosen form
  DenseDescriptor out_;     // n x D, ld W, row-major: SpMM C
  SddmmForm sddmm_form_ = SddmmForm::kTransposedY;
  cusparseSpMMAlg_t spmm_alg_ = CUSPARSE_SPMM_CSR_ALG2;
  DeviceBuffer<char> workspace_;
  DeviceBuffer<float> dummy_;  // placeholder values while descriptors are created
};

}  // namespace diffuser::attention::cuda
