// Why: for tiny spectral gaps (window-only patterns at large n) plain Lanczos needs
// O(1/sqrt(gap)) iterations; the shift-inverted operator turns the wanted end into well
// separated large eigenvalues. Sparse Cholesky of the shifted matrix certifies the shift lies
// outside the spectrum (it only succeeds for positive definite matrices).
#pragma once

#include <Eigen/SparseCore>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "spectral/LinearOperator.hpp"

namespace diffuser::spectral {

/// A symmetric ordering for sparse Cholesky: nodes whose degree exceeds max(64, 4 x mean
/// degree) ("hubs", e.g. global tokens) last, the others in index (token) order.
struct EnvelopeOrdering {
  std::vector<int> pos;       ///< pos[i] = position of node i
  graph::Index hubs = 0;      ///< number of hubs
  std::int64_t envelope = 0;  ///< bound on the Cholesky factor's nonzeros in this order
};

/// The envelope ordering of a sparse symmetric matrix (column j's row indices = row j's).
EnvelopeOrdering envelope_ordering(const Eigen::SparseMatrix<double>& b);

/// Which side of the spectrum the shift sigma is on.
enum class ShiftSide {
  kBelow,  ///< sigma < lambda_min(B): factor C = B - sigma I
  kAbove,  ///< sigma > lambda_max(B): factor C = sigma I - B
};

/// y = C^{-1} x for C = s (B - sigma I) symmetric positive definite, B sparse symmetric n x n.
/// Eigenvalue nu of the operator <-> eigenvalue lambda = sigma + s / nu of B (s = +1 below,
/// -1 above): the eigenvalues of B closest to sigma become the largest nu. Factorised once
/// (Eigen SimplicialLLT) in the envelope ordering of envelope_ordering(): attention patterns
/// are banded in token order once their hubs (global tokens) are moved last, and then the
/// factor stays inside the envelope (George & Liu, Computer Solution of Large Sparse Positive
/// Definite Systems, 1981, ch. 4). A minimum-degree ordering would cost more than the solve
/// on the large patterns and cannot help the non-banded ones (random keys make expanders,
/// whose factors are dense under any ordering).
class ShiftInvertOperator final : public LinearOperator {
 public:
  /// Factorises C. Throws diffuser::Error when the factor would have more than
  /// max_factor_nnz nonzeros (the message says how many) or when C is not positive definite
  /// (sigma lies inside the spectrum). Use try_create to probe shifts without exceptions.
  static std::unique_ptr<ShiftInvertOperator> create(const Eigen::SparseMatrix<double>& b,
                                                     double sigma, ShiftSide side,
                                                     std::int64_t max_factor_nnz);
  ~ShiftInvertOperator() override;

  /// Outcome of a factorisation attempt.
  enum class Status { kOk, kNotPositiveDefinite, kTooMuchFill };
  /// Like the constructor, but returns nullptr and sets `status` (and `factor_nnz`, the
  /// predicted nonzeros of the factor) instead of throwing.
  static std::unique_ptr<ShiftInvertOperator> try_create(const Eigen::SparseMatrix<double>& b,
                                                         double sigma, ShiftSide side,
                                                         std::int64_t max_factor_nnz,
                                                         Status& status, std::int64_t& factor_nnz);

  graph::Index size() const override { return n_; }
  void apply(const double* x, double* y) const override;
  bool symmetric() const override { return true; }
  /// Unknown in advance (1 / distance of sigma to the spectrum): +infinity.
  double spectral_radius_bound() const override;
  std::string name() const override;

  double sigma() const { return sigma_; }
  ShiftSide side() const { return side_; }
  /// Eigenvalue of B that corresponds to eigenvalue nu of this operator.
  double to_original(double nu) const;
  /// Nonzeros of the Cholesky factor (including its diagonal).
  std::int64_t factor_nnz() const { return factor_nnz_; }

 private:
  struct Factor;
  ShiftInvertOperator() = default;
  std::unique_ptr<Factor> factor_;
  graph::Index n_ = 0;
  double sigma_ = 0.0;
  ShiftSide side_ = ShiftSide::kBelow;
  std::int64_t factor_nnz_ = 0;
};

}  // namespace diffuser::spectral
