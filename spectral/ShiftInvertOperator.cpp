// Why: sparse Cholesky behind the shift-invert operator, in the envelope ordering (token order,
// hubs last) with a fill check before any numeric work.
#include "spectral/ShiftInvertOperator.hpp"

#include <fmt/format.h>

#include <Eigen/SparseCholesky>

#include <algorithm>
#include <limits>
#include <vector>

#include "core/Error.hpp"

namespace diffuser::spectral {

namespace {

// Exposes the symbolic nonzero count (strictly lower part) after analyzePattern().
class CountingLLT : public Eigen::SimplicialLLT<Eigen::SparseMatrix<double>, Eigen::Lower,
                                                Eigen::NaturalOrdering<int>> {
 public:
  std::int64_t predicted_lower_nnz() const {
    return static_cast<std::int64_t>(m_nonZerosPerCol.cast<std::int64_t>().sum());
  }
};

}  // namespace

struct ShiftInvertOperator::Factor {
  CountingLLT llt;
  std::vector<int> pos;  // pos[i] = row of node i in the permuted matrix
};

ShiftInvertOperator::~ShiftInvertOperator() = default;

EnvelopeOrdering envelope_ordering(const Eigen::SparseMatrix<double>& b) {
  const Eigen::Index n = b.rows();
  EnvelopeOrdering out;
  out.pos.assign(static_cast<std::size_t>(n), 0);
  const double mean = n > 0 ? static_cast<double>(b.nonZeros()) / static_cast<double>(n) : 0.0;
  const double hub_degree = std::max(64.0, 4.0 * mean);
  std::vector<char> hub(static_cast<std::size_t>(n), 0);
  for (Eigen::Index j = 0; j < n; ++j) {
    const auto deg = b.outerIndexPtr()[j + 1] - b.outerIndexPtr()[j];
    hub[j] = deg > hub_degree ? 1 : 0;
    out.hubs += hub[j];
  }
  int next = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    if (!hub[j]) out.pos[j] = next++;
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    if (hub[j]) out.pos[j] = next++;
  }
  // Envelope of the non-hub block: row p spans from its first non-hub neighbour to p.
  for (Eigen::Index j = 0; j < n; ++j) {
    if (hub[j]) continue;
    int first = out.pos[j];
    for (auto k = b.outerIndexPtr()[j]; k < b.outerIndexPtr()[j + 1]; ++k) {
      const auto i = b.innerIndexPtr()[k];
      if (!hub[i]) first = std::min(first, out.pos[i]);
    }
    out.envelope += out.pos[j] - first + 1;
  }
  // Hub rows come last and may fill completely.
  out.envelope += static_cast<std::int64_t>(out.hubs) * n;
  return out;
}

std::unique_ptr<ShiftInvertOperator> ShiftInvertOperator::try_create(
    const Eigen::SparseMatrix<double>& b, double sigma, ShiftSide side, std::int64_t max_factor_nnz,
    Status& status, std::int64_t& factor_nnz) {
  DIFFUSER_CHECK(b.rows() == b.cols(), "shift-invert: matrix is {} x {}, not square", b.rows(),
                 b.cols());
  DIFFUSER_CHECK(std::isfinite(sigma), "shift-invert: shift {} is not finite", sigma);
  const Eigen::Index n = b.rows();
  EnvelopeOrdering ord = envelope_ordering(b);
  if (ord.envelope > max_factor_nnz) {
    // The envelope bounds the factor of the natural order; above the budget the pattern is not
    // banded (random keys): refuse before any symbolic work, which would itself cost O(fill).
    factor_nnz = ord.envelope;
    status = Status::kTooMuchFill;
    return nullptr;
  }
  // C = s (B - sigma I), permuted: non-hub nodes in token order, hubs last.
  const double s = side == ShiftSide::kBelow ? 1.0 : -1.0;
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<std::size_t>(b.nonZeros() + n));
  for (Eigen::Index j = 0; j < n; ++j) {
    for (auto k = b.outerIndexPtr()[j]; k < b.outerIndexPtr()[j + 1]; ++k) {
      t.emplace_back(ord.pos[b.innerIndexPtr()[k]], ord.pos[j], s * b.valuePtr()[k]);
    }
    t.emplace_back(ord.pos[j], ord.pos[j], -s * sigma);
  }
  Eigen::SparseMatrix<double> c(n, n);
  c.setFromTriplets(t.begin(), t.end());
  t.clear();
  t.shrink_to_fit();
  std::unique_ptr<ShiftInvertOperator> out(new ShiftInvertOperator());
  out->factor_ = std::make_unique<Factor>();
  out->factor_->pos = std::move(ord.pos);
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
  const std::vector<int>& pos = factor_->pos;
  Eigen::VectorXd xp(n_);
  for (graph::Index i = 0; i < n_; ++i) xp[pos[i]] = x[i];
  const Eigen::VectorXd yp = factor_->llt.solve(xp);
  for (graph::Index i = 0; i < n_; ++i) y[i] = yp[pos[i]];
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
