// Why: sparse Cholesky (with a fill check before the numeric factorisation) behind the
// shift-invert operator.
#include "spectral/ShiftInvertOperator.hpp"

#include <fmt/format.h>

#include <Eigen/SparseCholesky>

#include <limits>

#include "core/Error.hpp"

namespace diffuser::spectral {

namespace {

// Exposes the symbolic nonzero count (strictly lower part) after analyzePattern().
class CountingLLT : public Eigen::SimplicialLLT<Eigen::SparseMatrix<double>, Eigen::Lower,
                                                Eigen::AMDOrdering<int>> {
 public:
  std::int64_t predicted_lower_nnz() const {
    return static_cast<std::int64_t>(m_nonZerosPerCol.cast<std::int64_t>().sum());
  }
};

}  // namespace

struct ShiftInvertOperator::Factor {
  CountingLLT llt;
};

ShiftInvertOperator::~ShiftInvertOperator() = default;

std::unique_ptr<ShiftInvertOperator> ShiftInvertOperator::try_create(
    const Eigen::SparseMatrix<double>& b, double sigma, ShiftSide side, std::int64_t max_factor_nnz,
    Status& status, std::int64_t& factor_nnz) {
  DIFFUSER_CHECK(b.rows() == b.cols(), "shift-invert: matrix is {} x {}, not square", b.rows(),
                 b.cols());
  DIFFUSER_CHECK(std::isfinite(sigma), "shift-invert: shift {} is not finite", sigma);
  const Eigen::Index n = b.rows();
  Eigen::SparseMatrix<double> id(n, n);
  id.setIdentity();
  const double s = side == ShiftSide::kBelow ? 1.0 : -1.0;
  const Eigen::SparseMatrix<double> c = s * (b - sigma * id);
  std::unique_ptr<ShiftInvertOperator> out(new ShiftInvertOperator());
  out->factor_ = std::make_unique<Factor>();
  out->n_ = static_cast<graph::Index>(n);
  out->sigma_ = sigma;
  out->side_ = side;
  out->factor_->llt.analyzePattern(c);
  factor_nnz = out->factor_->llt.predicted_lower_nnz() + n;
  out->factor_nnz_ = factor_nnz;
  if (factor_nnz > max_factor_nnz) {
    status = Status::kTooMuchFill;
    return nullptr;
  }
  out->factor_->llt.factorize(c);
  if (out->factor_->llt.info() != Eigen::Success) {
    status = Status::kNotPositiveDefinite;
    return nullptr;
  }
  status = Status::kOk;
  return out;
}

std::unique_ptr<ShiftInvertOperator> ShiftInvertOperator::create(
    const Eigen::SparseMatrix<double>& b, double sigma, ShiftSide side,
    std::int64_t max_factor_nnz) {
  Status status = Status::kOk;
  std::int64_t nnz = 0;
  auto made = try_create(b, sigma, side, max_factor_nnz, status, nnz);
  DIFFUSER_CHECK(status != Status::kTooMuchFill,
                 "shift-invert: the Cholesky factor would have {} nonzeros, more than the budget "
                 "{}",
                 nnz, max_factor_nnz);
  DIFFUSER_CHECK(status == Status::kOk,
                 "shift-invert: shift {} lies inside the spectrum (the shifted matrix is not "
                 "positive definite)",
                 sigma);
  return made;
}

void ShiftInvertOperator::apply(const double* x, double* y) const {
  Eigen::Map<const Eigen::VectorXd> xv(x, n_);
  Eigen::Map<Eigen::VectorXd> yv(y, n_);
  yv = factor_->llt.solve(xv);
}

double ShiftInvertOperator::spectral_radius_bound() const {
  return std::numeric_limits<double>::infinity();
}

std::string ShiftInvertOperator::name() const {
  return fmt::format("shift-invert(sigma={})", sigma_);
}

double ShiftInvertOperator::to_original(double nu) const {
  return side_ == ShiftSide::kBelow ? sigma_ + 1.0 / nu : sigma_ - 1.0 / nu;
}

}  // namespace diffuser::spectral
