// Why: the cuSPARSE calls of the baseline path and the negotiation of what this cuSPARSE
// version accepts (SDDMM operand order, SpMM algorithm), done once per head shape.
#include "attention/cuda/CusparseBackend.hpp"

#include <algorithm>

#include "core/Error.hpp"

namespace diffuser::attention::cuda {

CusparseBackend::CusparseBackend(const DevicePlan& plan, cudaStream_t stream)
    : plan_(&plan), stream_(stream), handle_(stream), dummy_(16, "cuSPARSE placeholder") {}

void CusparseBackend::prepare(HeadShape s) {
  if (s.heads == shape_.heads && s.head_dim == shape_.head_dim && s.width == shape_.width) return;
  shape_ = HeadShape{0, 0, 0};
  const std::int64_t n = plan_->n(), nnz = plan_->nnz();
  float* dummy = dummy_.data();
  pattern_.clear();
  transposed_.clear();
  const DeviceGraphView& p = plan_->pattern().view();
  const DeviceGraphView& t = plan_->transposed().view();
  for (int h = 0; h < s.heads; ++h) {
    pattern_.emplace_back(n, nnz, p.offsets, p.columns, dummy);
    transposed_.emplace_back(n, nnz, t.offsets, t.columns, dummy);
  }
  x_ = DenseDescriptor(n, s.head_dim, s.width, dummy, CUSPARSE_ORDER_ROW);
  out_ = DenseDescriptor(n, s.head_dim, s.width, dummy, CUSPARSE_ORDER_ROW);

  const float one = 1.0f, zero = 0.0f;
  std::size_t need = 0, size = 0;
  // SpMM: CSR_ALG2 (deterministic for a non-transposed A, row-major); fall back to the default
  // algorithm only if this cuSPARSE refuses ALG2 for the shape.
  spmm_alg_ = CUSPARSE_SPMM_CSR_ALG2;
  const auto spmm_size = [&](const SparseDescriptor& a, cusparseSpMMAlg_t alg) {
    return cusparseSpMM_bufferSize(handle_.get(), CUSPARSE_OPERATION_NON_TRANSPOSE,
                                   CUSPARSE_OPERATION_NON_TRANSPOSE, &one, a.get(), x_.get(), &zero,
                                   out_.get(), CUDA_R_32F, alg, &size);
  };
  const cusparseStatus_t alg2 = spmm_size(pattern_[0], spmm_alg_);
  if (alg2 != CUSPARSE_STATUS_SUCCESS) {
    spmm_alg_ = CUSPARSE_SPMM_ALG_DEFAULT;
    const cusparseStatus_t fallback = spmm_size(pattern_[0], spmm_alg_);
    if (fallback != CUSPARSE_STATUS_SUCCESS) {
      fail(
          "cuSPARSE: cusparseSpMM_bufferSize refused both CSR_ALG2 ({}) and ALG_DEFAULT ({}) "
          "for n = {}, D = {}, ld = {}",
          cusparseGetErrorName(alg2), cusparseGetErrorName(fallback), n, s.head_dim, s.width);
    }
  }
  need = std::max(need, size);
  DIFFUSER_CUSPARSE_CHECK(spmm_size(transposed_[0], spmm_alg_));
  need = std::max(need, size);

  // SDDMM: the first operand form cuSPARSE accepts (see SddmmForm). The same memory serves every
  // form: a row-major n x D matrix with ld W is a column-major D x n matrix with ld W.
  x_cols_ = DenseDescriptor(s.head_dim, n, s.width, dummy, CUSPARSE_ORDER_COL);
  cusparseStatus_t refused[3] = {CUSPARSE_STATUS_SUCCESS, CUSPARSE_STATUS_SUCCESS,
                                 CUSPARSE_STATUS_SUCCESS};
  bool accepted = false;
  for (const SddmmForm form :
       {SddmmForm::kTransposedY, SddmmForm::kColumnMajorY, SddmmForm::kColumnMajorXY}) {
    sddmm_form_ = form;
    if (form == SddmmForm::kTransposedY) {
      y_ = DenseDescriptor(n, s.head_dim, s.width, dummy, CUSPARSE_ORDER_ROW);
    } else {
      y_ = DenseDescriptor(s.head_dim, n, s.width, dummy, CUSPARSE_ORDER_COL);
    }
    const cusparseStatus_t status = cusparseSDDMM_bufferSize(
        handle_.get(), sddmm_op_x(), sddmm_op_y(), &one, sddmm_x().get(), y_.get(), &zero,
        pattern_[0].get(), CUDA_R_32F, CUSPARSE_SDDMM_ALG_DEFAULT, &size);
    refused[static_cast<int>(form)] = status;
    if (status == CUSPARSE_STATUS_SUCCESS) {
      accepted = true;
      break;
    }
  }
  if (!accepted) {
    fail(
        "cuSPARSE: cusparseSDDMM_bufferSize refused every operand form (y transposed: {}; y "
        "column-major: {}; x and y column-major: {}) for n = {}, D = {}, ld = {}",
        cusparseGetErrorName(refused[0]), cusparseGetErrorName(refused[1]),
        cusparseGetErrorName(refused[2]), n, s.head_dim, s.width);
  }
  need = std::max(need, size);
  workspace_.ensure(std::max<std::size_t>(need, 1), "cuSPARSE workspace");
  shape_ = s;
}

void CusparseBackend::sddmm(HeadShape s, const float* x, const float* y, float alpha, float beta,
                            float* out) {
  prepare(s);
  const std::int64_t nnz = plan_->nnz();
  if (beta == 0.0f) {
    DIFFUSER_CUDA_CHECK(
        cudaMemsetAsync(out, 0, static_cast<std::size_t>(nnz) * s.heads * sizeof(float), stream_));
  }
  DenseDescriptor& x_descr = sddmm_x();
  for (int h = 0; h < s.heads; ++h) {
    x_descr.set_values(x + h * s.head_dim);
    y_.set_values(y + h * s.head_dim);
    pattern_[h].set_values(out + h * nnz);
    DIFFUSER_CUSPARSE_CHECK(cusparseSDDMM(
        handle_.get(), sddmm_op_x(), sddmm_op_y(), &alpha, x_descr.get(), y_.get(), &beta,
        pattern_[h].get(), CUDA_R_32F, CUSPARSE_SDDMM_ALG_DEFAULT, workspace_.data()));
  }
}

void CusparseBackend::spmm(bool transposed, HeadShape s, const float* w, const float* x,
                           float alpha, float beta, float* out) {
  prepare(s);
  const std::int64_t nnz = plan_->nnz();
  if (beta == 0.0f) {
    DIFFUSER_CUDA_CHECK(cudaMemsetAsync(
        out, 0, static_cast<std::size_t>(plan_->n()) * s.width * sizeof(float), stream_));
  }
  std::vector<SparseDescriptor>& graph = transposed ? transposed_ : pattern_;
  for (int h = 0; h < s.heads; ++h) {
    graph[h].set_values(w + h * nnz);
    x_.set_values(x + h * s.head_dim);
    out_.set_values(out + h * s.head_dim);
    DIFFUSER_CUSPARSE_CHECK(cusparseSpMM(
        handle_.get(), CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
        graph[h].get(), x_.get(), &beta, out_.get(), CUDA_R_32F, spmm_alg_, workspace_.data()));
  }
}

void CusparseBackend::hop(HeadShape s, const float* w, const float* x, float alpha,
                          const float* add, float beta, int len, float* out) {
  if (add == nullptr || beta == 0.0f) {
    spmm(false, s, w, x, alpha, 0.0f, out);
    return;
  }
  const std::size_t row_bytes = static_cast<std::size_t>(s.width) * sizeof(float);
  const std::size_t n = static_cast<std::size_t>(plan_->n());
  const std::size_t valid = static_cast<std::size_t>(len);
  if (valid > 0) {
    DIFFUSER_CUDA_CHECK(
        cudaMemcpyAsync(out, add, valid * row_bytes, cudaMemcpyDeviceToDevice, stream_));
  }
  if (valid < n) {
    DIFFUSER_CUDA_CHECK(
        cudaMemsetAsync(out + valid * s.width, 0, (n - valid) * row_bytes, stream_));
  }
  spmm(false, s, w, x, alpha, beta, out);
}

std::string CusparseBackend::describe() const {
  std::string text = spmm_alg_ == CUSPARSE_SPMM_CSR_ALG2 ? "SpMM CSR_ALG2" : "SpMM ALG_DEFAULT";
  switch (sddmm_form_) {
    case SddmmForm::kTransposedY:
      return text + ", SDDMM x y^T (row-major)";
    case SddmmForm::kColumnMajorY:
      return text + ", SDDMM x (row-major) y (column-major)";
    case SddmmForm::kColumnMajorXY:
      return text + ", SDDMM x^T y (column-major)";
  }
  return text;
}

}  // namespace diffuser::attention::cuda
