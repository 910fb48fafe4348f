// Why: Spectra's solvers take an OpType with rows(), cols() and perform_op(); this adapter turns
// any LinearOperator (plus an optional shift and deflation) into one and counts applications.
// Internal to spectral/: only the solver .cpp files include it.
#pragma once

#include <Eigen/Dense>

#include <cstdint>

#include "spectral/LinearOperator.hpp"

namespace diffuser::spectral {

/// Spectra OpType: y = A' x + shift x, where A' is `op`, optionally with an orthogonal deflation
/// P A P + value V V^T (P = I - V V^T).
class SpectraOperator {
 public:
  using Scalar = double;

  SpectraOperator(const LinearOperator& op, double shift) : op_(op), shift_(shift) {}

  /// Orthogonal deflation: V orthonormal (n x m), deflated directions get eigenvalue `value`.
  void set_orthogonal_deflation(const Eigen::MatrixXd* basis, double value) {
    basis_ = basis;
    value_ = value;
  }

  Eigen::Index rows() const { return op_.size(); }
  Eigen::Index cols() const { return op_.size(); }

  void perform_op(const double* x_in, double* y_out) const {
    ++count_;
    const Eigen::Index n = op_.size();
    Eigen::Map<const Eigen::VectorXd> x(x_in, n);
    Eigen::Map<Eigen::VectorXd> y(y_out, n);
    if (basis_ != nullptr && basis_->cols() > 0) {
      // P A P x + value V V^T x with P = I - V V^T; the scratch vector is reused (no allocation
      // per product: a fresh n-vector costs page faults on every Krylov step).
      const Eigen::VectorXd c = basis_->transpose() * x;
      scratch_.resize(n);
      scratch_.noalias() = x - (*basis_) * c;
      op_.apply(scratch_.data(), y_out);
      const Eigen::VectorXd d = basis_->transpose() * y;
      y.noalias() -= (*basis_) * (d - value_ * c);
    } else {
      op_.apply(x_in, y_out);
    }
    if (shift_ != 0.0) y += shift_ * x;
  }

  std::int64_t count() const { return count_; }

 private:
  const LinearOperator& op_;
  double shift_ = 0.0;
  const Eigen::MatrixXd* basis_ = nullptr;
  double value_ = 0.0;
  mutable std::int64_t count_ = 0;
  mutable Eigen::VectorXd scratch_;
};

}  // namespace diffuser::spectral
