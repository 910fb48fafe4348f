// Why: dense and Lanczos paths for extreme eigenvalues of symmetric operators, with the Ritz
// pairs recomputed from the final Lanczos factorisation so that a run that did not converge
// still reports its best estimate and true residual instead of nothing.
#include "spectral/SymmetricEigensolver.hpp"

#include <fmt/format.h>

#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "spectral/SpectraOperator.hpp"

namespace diffuser::spectral {

namespace {

// Exposes the final Lanczos factorisation (V, H) of Spectra's solver.
class RitzLanczos : public Spectra::SymEigsSolver<SpectraOperator> {
 public:
  using Spectra::SymEigsSolver<SpectraOperator>::SymEigsSolver;
  const Eigen::MatrixXd& basis() const { return m_fac.matrix_V(); }
  const Eigen::MatrixXd& projected() const { return m_fac.matrix_H(); }
  Eigen::Index dim() const { return m_fac.subspace_dim(); }
};

Eigen::VectorXd project_out(const Eigen::MatrixXd& v, Eigen::VectorXd x) {
  if (v.cols() > 0) {
    x -= v * (v.transpose() * x);
    x -= v * (v.transpose() * x);  // second pass: classical Gram-Schmidt twice is enough
  }
  return x;
}

double acceptance(double tol, double bound, double theta) {
  const double scale = std::isfinite(bound) ? bound : std::max(std::abs(theta), 1e-300);
  return std::max(10.0 * tol, 1e-13) * scale;
}

std::vector<EigenResult> dense_extremes(const LinearOperator& op, Which which, int count,
                                        const Deflation& defl, const SolverOptions& opts) {
  const graph::Index n = op.size();
  // Peak: the copy, its symmetrised temporary, the solver's n x n workspace, the LU.
  Eigen::MatrixXd a = op.to_dense(4);
  a = 0.5 * (a + a.transpose()).eval();  // exact symmetry for the dense solver
  const Eigen::MatrixXd& v = defl.basis;
  if (v.cols() > 0) {
    // P A P + value V V^T with P = I - V V^T, by rank-m updates (O(n^2 m), no n^3 products):
    // P A P = A - V W^T - W V^T + V C V^T with W = A V and C = V^T A V (A symmetric).
    const Eigen::MatrixXd w = a * v;
    const Eigen::MatrixXd c = v.transpose() * w;
    a -= v * w.transpose();
    a -= w * v.transpose();
    a += v * (c + defl.value * Eigen::MatrixXd::Identity(v.cols(), v.cols())) * v.transpose();
    a = 0.5 * (a + a.transpose()).eval();
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(a, Eigen::EigenvaluesOnly);
  DIFFUSER_CHECK(es.info() == Eigen::Success, "dense eigen-solver failed on {} (n = {})", op.name(),
                 n);
  const Eigen::VectorXd& ev = es.eigenvalues();  // ascending
  std::vector<EigenResult> out;
  Eigen::MatrixXd found(n, 0);
  Rng rng(opts.seed);
  const double bound = op.spectral_radius_bound();
  for (int k = 0; k < count; ++k) {
    const double lambda = which == Which::kLargest ? ev[n - 1 - k] : ev[k];
    // Inverse iteration with a tiny shift (the exact eigenvalue would make the matrix singular).
    const double delta = 1e-10 * std::max(1.0, std::abs(lambda));
    const double mu = lambda + (which == Which::kLargest ? delta : -delta);
    Eigen::PartialPivLU<Eigen::MatrixXd> lu(a - mu * Eigen::MatrixXd::Identity(n, n));
    Eigen::VectorXd x(n);
    for (graph::Index i = 0; i < n; ++i) x[i] = rng.normal();
    for (int it = 0; it < 3; ++it) {
      x = project_out(v, x);
      x = project_out(found, x);
      x = lu.solve(x);
      x /= x.norm();
    }
    x = project_out(found, project_out(v, x));
    x /= x.norm();
    found.conservativeResize(n, found.cols() + 1);
    found.col(found.cols() - 1) = x;
    EigenResult r;
    r.value = lambda;
    r.method = Method::kDense;
    r.op = op.name();
    r.residual = residual_norm(op, x, lambda);
    r.converged = r.residual <= acceptance(opts.tol, bound, lambda) * 1e3;
    if (!r.converged) {
      r.note = fmt::format("dense eigenvector residual {:.3g} is large (ill-conditioned operator)",
                           r.residual);
    }
    r.vector.assign(x.data(), x.data() + n);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<EigenResult> lanczos_extremes(const LinearOperator& op, Which which, int count,
                                          const Deflation& defl, const SolverOptions& opts,
                                          std::span<const double> init) {
  const graph::Index n = op.size();
  const double bound = op.spectral_radius_bound();
  // Shift so that the wanted end sits at |theta| ~ bound (Spectra's test is relative to
  // |theta|, which would be needlessly strict for eigenvalues near 0).
  const double shift = std::isfinite(bound) ? (which == Which::kLargest ? bound : -bound) : 0.0;
  SpectraOperator sop(op, shift);
  sop.set_orthogonal_deflation(&defl.basis, defl.value);
  // One Ritz value beyond the wanted ones as a buffer for clusters.
  const int nev = static_cast<int>(std::min<std::int64_t>(count + 1, n - 1));
  // Subspace size, then restarts, so that at most max_matvecs products are spent: the first
  // factorisation costs ncv + 1 (Spectra applies the operator once more on the start), each
  // restart at most ncv - nev.
  const std::int64_t want_ncv =
      opts.ncv > 0 ? std::max(opts.ncv, nev + 1) : std::max(2 * nev + 1, 64);
  const int ncv = static_cast<int>(
      std::min<std::int64_t>({n, want_ncv, std::max<std::int64_t>(nev + 1, opts.max_matvecs - 1)}));
  const std::int64_t maxit = std::max<std::int64_t>(0, (opts.max_matvecs - 1 - ncv) / (ncv - nev));
  RitzLanczos solver(sop, nev, ncv);
  Eigen::VectorXd start(n);
  if (!init.empty()) {
    start = Eigen::Map<const Eigen::VectorXd>(init.data(), n);
  } else {
    Rng rng(opts.seed);
    for (graph::Index i = 0; i < n; ++i) start[i] = rng.normal();
  }
  start = project_out(defl.basis, start);
  DIFFUSER_CHECK(start.norm() > 0.0 && std::isfinite(start.norm()),
                 "lanczos on {}: the starting vector is zero or not finite after deflation",
                 op.name());
  solver.init(start.data());
  const Spectra::SortRule rule =
      which == Which::kLargest ? Spectra::SortRule::LargestAlge : Spectra::SortRule::SmallestAlge;
  try {
    solver.compute(rule, maxit, opts.tol);
  } catch (const std::exception& e) {
    fail("lanczos on {} (n = {}) failed: {}", op.name(), n, e.what());
  }
  const bool spectra_ok = solver.info() == Spectra::CompInfo::Successful;

  const Eigen::Index m = solver.dim();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> hs(solver.projected().topLeftCorner(m, m));
  std::vector<EigenResult> out;
  for (int k = 0; k < count; ++k) {
    const Eigen::Index idx = which == Which::kLargest ? m - 1 - k : k;
    const double lambda = hs.eigenvalues()[idx] - shift;
    Eigen::VectorXd x = solver.basis().leftCols(m) * hs.eigenvectors().col(idx);
    x = project_out(defl.basis, x);
    x /= x.norm();
    EigenResult r;
    r.value = lambda;
    r.method = Method::kLanczos;
    r.op = op.name();
    r.matvecs = sop.count();
    r.iterations = solver.num_iterations();
    r.residual = residual_norm(op, x, lambda);
    r.converged = r.residual <= acceptance(opts.tol, bound, lambda);
    if (!r.converged) {
      r.note = fmt::format(
          "lanczos did not converge: residual {:.3g} after {} operator applications "
          "(spectra: {})",
          r.residual, sop.count(), spectra_ok ? "converged on its estimate" : "not converging");
    }
    r.vector.assign(x.data(), x.data() + n);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<EigenResult> symmetric_extremes(const LinearOperator& op, Which which, int count,
                                            const Deflation& deflation, const SolverOptions& opts,
                                            std::span<const double> start) {
  const graph::Index n = op.size();
  DIFFUSER_CHECK(start.empty() || static_cast<graph::Index>(start.size()) == n,
                 "symmetric eigen-solver: starting vector has {} entries, operator {} has n = {}",
                 start.size(), op.name(), n);
  DIFFUSER_CHECK(op.symmetric(), "symmetric eigen-solver: operator {} is not symmetric", op.name());
  const Eigen::Index m = deflation.basis.cols();
  DIFFUSER_CHECK(m == 0 || deflation.basis.rows() == n,
                 "symmetric eigen-solver: deflation basis has {} rows, operator {} has n = {}",
                 deflation.basis.rows(), op.name(), n);
  DIFFUSER_CHECK(count >= 1 && count <= n - m,
                 "symmetric eigen-solver: asked for {} eigenvalues of {} (n = {}, {} deflated)",
                 count, op.name(), n, m);
  DIFFUSER_CHECK(opts.tol > 0.0 && opts.tol < 1.0, "solver tolerance must be in (0, 1) (got {})",
                 opts.tol);
  DIFFUSER_CHECK(opts.max_matvecs >= 1, "solver max_matvecs must be >= 1 (got {})",
                 opts.max_matvecs);
  const bool dense = opts.path == SolverPath::kDense ||
                     (opts.path == SolverPath::kAuto && n <= opts.dense_max_n) ||
                     n - m < std::max(3, 2 * count + 1);  // too small for a Krylov subspace
  return dense ? dense_extremes(op, which, count, deflation, opts)
               : lanczos_extremes(op, which, count, deflation, opts, start);
}

}  // namespace diffuser::spectral
