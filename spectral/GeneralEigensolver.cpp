// Why: dense and Arnoldi paths for the largest-modulus eigenvalues of non-symmetric operators,
// with Ritz pairs recomputed from the final Arnoldi factorisation so that non-convergence
// still reports the best estimate and its true residual.
#include "spectral/GeneralEigensolver.hpp"

#include <fmt/format.h>

#include <Spectra/GenEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <stdexcept>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "spectral/SpectraOperator.hpp"

namespace diffuser::spectral {

namespace {

using Complex = std::complex<double>;

// A - x u^T as an operator.
class WielandtOperator final : public LinearOperator {
 public:
  WielandtOperator(const LinearOperator& op, const WielandtDeflation& d) : op_(op), d_(d) {}
  graph::Index size() const override { return op_.size(); }
  void apply(const double* x, double* y) const override {
    op_.apply(x, y);
    const Eigen::Index n = op_.size();
    const double c = d_.u.dot(Eigen::Map<const Eigen::VectorXd>(x, n));
    Eigen::Map<Eigen::VectorXd>(y, n) -= c * d_.x;
  }
  bool symmetric() const override { return false; }
  double spectral_radius_bound() const override {
    return op_.spectral_radius_bound() + d_.x.norm() * d_.u.norm();
  }
  std::string name() const override {
    return op_.name() + " (Wielandt-deflated: eigenvalue " + fmt::format("{}", d_.lambda) +
           " -> 0)";
  }

 private:
  const LinearOperator& op_;
  const WielandtDeflation& d_;
};

class RitzArnoldi : public Spectra::GenEigsSolver<SpectraOperator> {
 public:
  using Spectra::GenEigsSolver<SpectraOperator>::GenEigsSolver;
  const Eigen::MatrixXd& basis() const { return m_fac.matrix_V(); }
  const Eigen::MatrixXd& projected() const { return m_fac.matrix_H(); }
  Eigen::Index dim() const { return m_fac.subspace_dim(); }
};

struct Candidate {
  Complex lambda;
  Eigen::VectorXcd x;  // eigenvector of the (deflated) operator
};

// Fills value/residual/op of r from a candidate pair of the (possibly deflated) operator.
void finish(EigenResult& r, const LinearOperator& op, const LinearOperator& solved,
            const WielandtDeflation* d, const Candidate& c) {
  r.value = c.lambda.real();
  r.imag = c.lambda.imag();
  Eigen::VectorXcd x = c.x;
  if (d != nullptr && std::abs(c.lambda - d->lambda) > 1e-8) {
    const Complex beta = d->u.cast<Complex>().dot(x) / (c.lambda - d->lambda);
    x += beta * d->x.cast<Complex>();
    r.op = op.name();
    r.residual = residual_norm(op, x, c.lambda);
  } else {
    r.op = solved.name();
    r.residual = residual_norm(solved, c.x, c.lambda);
  }
}

std::vector<EigenResult> dense_general(const LinearOperator& op, const LinearOperator& solved,
                                       const WielandtDeflation* d, int count,
                                       const SolverOptions& opts) {
  const graph::Index n = solved.size();
  // Peak: the copy plus the real Schur form's T and U and the solver's own matrix.
  const Eigen::MatrixXd a = solved.to_dense(5);
  Eigen::EigenSolver<Eigen::MatrixXd> es(a, false);
  DIFFUSER_CHECK(es.info() == Eigen::Success, "dense eigen-solver failed on {} (n = {})",
                 solved.name(), n);
  std::vector<Complex> ev(es.eigenvalues().data(), es.eigenvalues().data() + n);
  std::stable_sort(ev.begin(), ev.end(), [](Complex p, Complex q) {
    if (std::abs(p) != std::abs(q)) return std::abs(p) > std::abs(q);
    return p.imag() > q.imag();  // conjugate pairs: positive imaginary part first
  });
  const Eigen::MatrixXcd ac = a.cast<Complex>();
  Rng rng(opts.seed);
  const double bound = solved.spectral_radius_bound();
  std::vector<EigenResult> out;
  for (int k = 0; k < count; ++k) {
    const Complex lambda = ev[k];
    const double delta = 1e-10 * std::max(1.0, std::abs(lambda));
    Eigen::PartialPivLU<Eigen::MatrixXcd> lu(ac -
                                             (lambda + delta) * Eigen::MatrixXcd::Identity(n, n));
    Eigen::VectorXcd x(n);
    for (graph::Index i = 0; i < n; ++i) x[i] = Complex(rng.normal(), rng.normal());
    for (int it = 0; it < 3; ++it) {
      x = lu.solve(x);
      x /= x.norm();
    }
    EigenResult r;
    r.method = Method::kDense;
    finish(r, op, solved, d, Candidate{lambda, x});
    r.converged = r.residual <= std::max(10.0 * opts.tol, 1e-13) * bound * 1e3;
    if (!r.converged) {
      r.note = fmt::format(
          "dense eigenvector residual {:.3g} is large (defective or ill-conditioned eigenvalue)",
          r.residual);
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<EigenResult> arnoldi_general(const LinearOperator& op, const LinearOperator& solved,
                                         const WielandtDeflation* d, int count,
                                         const SolverOptions& opts) {
  const graph::Index n = solved.size();
  // Five Ritz values beyond the wanted ones: room for the conjugate partner of the last wanted
  // eigenvalue, and a buffer against mis-convergence in clusters (with nev = 2, implicit
  // restarts can filter out the wanted pair of a directed cycle and converge to the next one).
  const int nev = static_cast<int>(std::min<std::int64_t>(count + 5, n - 2));
  // Subspace size, then restarts, so that at most max_matvecs products are spent: the first
  // factorisation costs ncv + 1 (Spectra applies the operator once more on the start), each
  // restart at most ncv - nev.
  const std::int64_t want_ncv =
      opts.ncv > 0 ? std::max(opts.ncv, nev + 2) : std::max(2 * nev + 1, 48);
  const int ncv = static_cast<int>(
      std::min<std::int64_t>({n, want_ncv, std::max<std::int64_t>(nev + 2, opts.max_matvecs - 1)}));
  const std::int64_t maxit = std::max<std::int64_t>(0, (opts.max_matvecs - 1 - ncv) / (ncv - nev));
  SpectraOperator sop(solved, 0.0);
  RitzArnoldi solver(sop, nev, ncv);
  Rng rng(opts.seed);
  Eigen::VectorXd start(n);
  for (graph::Index i = 0; i < n; ++i) start[i] = rng.normal();
  solver.init(start.data());
  try {
    solver.compute(Spectra::SortRule::LargestMagn, maxit, opts.tol);
  } catch (const std::exception& e) {
    fail("arnoldi on {} (n = {}) failed: {}", solved.name(), n, e.what());
  }
  const bool spectra_ok = solver.info() == Spectra::CompInfo::Successful;
  const Eigen::Index m = solver.dim();
  Eigen::EigenSolver<Eigen::MatrixXd> hs(solver.projected().topLeftCorner(m, m), true);
  DIFFUSER_CHECK(hs.info() == Eigen::Success, "arnoldi on {}: Hessenberg eigen-solve failed",
                 solved.name());
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(m));
  std::iota(idx.begin(), idx.end(), 0);
  const Eigen::VectorXcd theta = hs.eigenvalues();
  std::stable_sort(idx.begin(), idx.end(), [&](Eigen::Index p, Eigen::Index q) {
    if (std::abs(theta[p]) != std::abs(theta[q])) return std::abs(theta[p]) > std::abs(theta[q]);
    return theta[p].imag() > theta[q].imag();
  });
  const double bound = solved.spectral_radius_bound();
  std::vector<EigenResult> out;
  for (int k = 0; k < count; ++k) {
    const Eigen::Index j = idx[k];
    Eigen::VectorXcd x = solver.basis().leftCols(m).cast<Complex>() * hs.eigenvectors().col(j);
    x /= x.norm();
    EigenResult r;
    r.method = Method::kArnoldi;
    r.matvecs = sop.count();
    r.iterations = solver.num_iterations();
    finish(r, op, solved, d, Candidate{theta[j], x});
    r.converged = r.residual <= std::max(10.0 * opts.tol, 1e-13) * bound;
    if (!r.converged) {
      r.note = fmt::format(
          "arnoldi did not converge: residual {:.3g} after {} operator applications "
          "(spectra: {})",
          r.residual, sop.count(), spectra_ok ? "converged on its estimate" : "not converging");
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<EigenResult> largest_modulus(const LinearOperator& op, int count,
                                         const WielandtDeflation* deflation,
                                         const SolverOptions& opts) {
  const graph::Index n = op.size();
  DIFFUSER_CHECK(count >= 1 && count <= n,
                 "general eigen-solver: asked for {} eigenvalues of {} (n = {})", count, op.name(),
                 n);
  DIFFUSER_CHECK(opts.tol > 0.0 && opts.tol < 1.0, "solver tolerance must be in (0, 1) (got {})",
                 opts.tol);
  DIFFUSER_CHECK(opts.max_matvecs >= 1, "solver max_matvecs must be >= 1 (got {})",
                 opts.max_matvecs);
  if (deflation != nullptr) {
    DIFFUSER_CHECK(deflation->x.size() == n && deflation->u.size() == n,
                   "Wielandt deflation vectors have {} and {} entries, operator {} has n = {}",
                   deflation->x.size(), deflation->u.size(), op.name(), n);
    DIFFUSER_CHECK(std::abs(deflation->u.dot(deflation->x) - deflation->lambda) <=
                       1e-10 * std::max(1.0, std::abs(deflation->lambda)),
                   "Wielandt deflation needs u^T x = lambda_1 ({} != {})",
                   deflation->u.dot(deflation->x), deflation->lambda);
  }
  std::unique_ptr<WielandtOperator> deflated;
  if (deflation != nullptr) deflated = std::make_unique<WielandtOperator>(op, *deflation);
  const LinearOperator& solved = deflated ? *deflated : op;
  const bool dense = opts.path == SolverPath::kDense ||
                     (opts.path == SolverPath::kAuto && n <= opts.dense_max_n_general) ||
                     n < 2 * (count + 5) + 2;
  return dense ? dense_general(op, solved, deflation, count, opts)
               : arnoldi_general(op, solved, deflation, count, opts);
}

EigenResult second_largest_modulus(const LinearOperator& stochastic, const SolverOptions& opts) {
  const graph::Index n = stochastic.size();
  DIFFUSER_CHECK(n >= 2, "second-largest eigenvalue of {}: n = {} has no second eigenvalue",
                 stochastic.name(), n);
  WielandtDeflation d;
  d.x = Eigen::VectorXd::Ones(n);
  d.u = Eigen::VectorXd::Constant(n, 1.0 / n);
  d.lambda = 1.0;
  Eigen::VectorXd y(n);
  stochastic.apply(d.x.data(), y.data());
  const double err = (y - d.x).lpNorm<Eigen::Infinity>();
  DIFFUSER_CHECK(err <= 1e-8, "operator {} is not row-stochastic: ||A 1 - 1||_inf = {}",
                 stochastic.name(), err);
  return largest_modulus(stochastic, 1, &d, opts).front();
}

}  // namespace diffuser::spectral
