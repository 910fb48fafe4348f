// Why: the strategy behind graph_spectrum(): exact structural shortcuts first, then Lanczos,
// then shift-invert for small gaps, Arnoldi for directed walks.
#include "spectral/GraphSpectrum.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "core/Error.hpp"
#include "spectral/BlockEigensolver.hpp"
#include "spectral/GeneralEigensolver.hpp"
#include "spectral/RowSumPlan.hpp"
#include "spectral/ShiftInvertOperator.hpp"
#include "spectral/SymmetricEigensolver.hpp"
#include "spectral/WalkOperator.hpp"

namespace diffuser::spectral {

namespace {

bool accepted(double residual, const SolverOptions& opts) {
  return residual <= std::max(10.0 * opts.tol, 1e-13);
}

// An exact eigenpair (value, x) of M, with its residual measured.
EigenResult exact(const LinearOperator& op, double value, Eigen::VectorXd x, Method method,
                  std::string note) {
  x /= x.norm();
  EigenResult r;
  r.value = value;
  r.method = method;
  r.op = op.name();
  r.residual = residual_norm(op, x, value);
  r.converged = true;
  r.note = std::move(note);
  r.vector.assign(x.data(), x.data() + x.size());
  return r;
}

// Turns an eigenpair of a shift-invert operator into one of M and checks it on M.
EigenResult from_shift_invert(const NormalizedAdjacency& m, const ShiftInvertOperator& si,
                              const EigenResult& inner, const SolverOptions& opts) {
  EigenResult r;
  r.value = si.to_original(inner.value);
  r.method = Method::kShiftInvert;
  r.op = m.name();
  r.matvecs = inner.matvecs;
  r.iterations = inner.iterations;
  const Eigen::VectorXd x =
      Eigen::Map<const Eigen::VectorXd>(inner.vector.data(), static_cast<Eigen::Index>(m.size()));
  r.residual = residual_norm(m, x, r.value);
  r.converged = inner.converged && accepted(r.residual, opts);
  r.vector = inner.vector;
  r.note = fmt::format("shift-invert at sigma = {:.17g} (Cholesky factor {} nonzeros)", si.sigma(),
                       si.factor_nnz());
  if (!r.converged) r.note += "; did not converge: " + inner.note;
  return r;
}

// Options of the Lanczos run on a shift-inverted operator: iterative, and a tenth of the
// tolerance, since a relative residual r of the inverted problem becomes ~2 r on M.
SolverOptions inner_options(const SolverOptions& opts) {
  SolverOptions o = opts;
  o.path = SolverPath::kIterative;
  o.tol = opts.tol / 10.0;
  return o;
}

// Second-largest eigenvalue of M for a connected graph by shift-invert on L + tau I
// (= (1 + tau) I - M), with D^{1/2} 1 deflated. `estimate` is a Lanczos estimate of mu2.
bool shift_invert_top(const NormalizedAdjacency& m, const Eigen::SparseMatrix<double>& b,
                      const Eigen::MatrixXd& v1, const EigenResult& estimate,
                      const SolverOptions& opts, EigenResult& out, std::string& why) {
  // tau ~ lambda2 / 4: the wanted eigenvalue 1/(lambda2 + tau) of (L + tau I)^{-1} is then
  // well separated from 1/(lambda3 + tau), and D^{1/2} 1 (eigenvalue 1/tau, deflated) is
  // amplified no more than the wanted direction itself. A second round re-centres tau on the
  // first round's lambda2 when the Lanczos estimate was poor.
  double lambda_est = std::isfinite(estimate.value) ? std::max(1.0 - estimate.value, 0.0) : 1.0;
  bool factorised = false;
  for (int round = 0; round < 2; ++round) {
    double tau = std::clamp(0.25 * lambda_est, 1e-12, 1e-2);
    std::unique_ptr<ShiftInvertOperator> si;
    for (int attempt = 0; attempt < 4 && !si; ++attempt, tau *= 10.0) {
      ShiftInvertOperator::Status status{};
      std::int64_t nnz = 0;
      si = ShiftInvertOperator::try_create(b, 1.0 + tau, ShiftSide::kAbove, opts.max_factor_nnz,
                                           status, nnz);
      if (status == ShiftInvertOperator::Status::kTooMuchFill) {
        why =
            fmt::format("shift-invert skipped: Cholesky factor would have {} nonzeros (budget {})",
                        nnz, opts.max_factor_nnz);
        return factorised;
      }
    }
    if (!si) break;  // rounding made L + tau I indefinite even for larger tau
    factorised = true;
    const Deflation d{v1, 0.0};
    const EigenResult inner =
        symmetric_extremes(*si, Which::kLargest, 1, d, inner_options(opts))[0];
    out = from_shift_invert(m, *si, inner, opts);
    if (out.converged || !std::isfinite(out.value)) return true;
    lambda_est = std::max(1.0 - out.value, 0.0);
  }
  if (!factorised) why = "shift-invert failed: L + tau I is not positive definite";
  return factorised;
}

// Smallest eigenvalue of M by shift-invert on M - sigma I, sigma certified below the spectrum
// by a successful Cholesky factorisation. `estimate` is a Lanczos estimate (>= mu_min). Up to
// three rounds, each re-centred on the previous round's eigenvalue with a 10x closer shift:
// the bottom of a band pattern's spectrum is a cluster with spacing ~1/n^2, and the inner
// Lanczos converges fast only once sigma is closer to mu_min than that spacing.
bool shift_invert_bottom(const NormalizedAdjacency& m, const Eigen::SparseMatrix<double>& b,
                         const EigenResult& estimate, const SolverOptions& opts, EigenResult& out,
                         std::string& why) {
  double theta = std::isfinite(estimate.value) ? estimate.value : -1.0;
  double delta = std::max(2.0 * (std::isfinite(estimate.residual) ? estimate.residual : 0.0), 1e-6);
  bool factorised = false;
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<ShiftInvertOperator> si;
    for (int attempt = 0; attempt < 16 && !si; ++attempt) {
      ShiftInvertOperator::Status status{};
      std::int64_t nnz = 0;
      si = ShiftInvertOperator::try_create(b, theta - delta, ShiftSide::kBelow, opts.max_factor_nnz,
                                           status, nnz);
      if (status == ShiftInvertOperator::Status::kTooMuchFill) {
        why = fmt::format(
            "shift-invert skipped: Cholesky factor would have up to {} nonzeros (budget {})", nnz,
            opts.max_factor_nnz);
        return factorised;
      }
      if (!si) delta *= 4.0;  // sigma still inside the spectrum: move further down
    }
    if (!si) break;
    factorised = true;
    const EigenResult inner =
        symmetric_extremes(*si, Which::kLargest, 1, {}, inner_options(opts))[0];
    out = from_shift_invert(m, *si, inner, opts);
    if (out.converged || !std::isfinite(out.value)) return true;
    theta = out.value;
    delta = std::max(delta / 10.0, 1e-13);
  }
  if (!factorised) why = "shift-invert failed: no shift below the spectrum found";
  return factorised;
}

bool uses_dense(graph::Index n, const SolverOptions& opts) {
  return opts.path == SolverPath::kDense ||
         (opts.path == SolverPath::kAuto && n <= opts.dense_max_n);
}

// Continues a Lanczos solve from its best Ritz vector with the budget that is left.
EigenResult continue_lanczos(const LinearOperator& op, Which which, const Deflation& d,
                             const EigenResult& first, const SolverOptions& opts,
                             const std::string& why) {
  SolverOptions rest = opts;
  rest.max_matvecs = std::max<std::int64_t>(1, opts.max_matvecs - first.matvecs);
  EigenResult r = symmetric_extremes(op, which, 1, d, rest, first.vector)[0];
  r.matvecs += first.matvecs;
  r.iterations += first.iterations;
  if (!why.empty()) r.note = why + (r.note.empty() ? "" : "; " + r.note);
  return r;
}

// The block size second_eigenvalue() uses for a connected pattern (1: single-vector Lanczos).
int effective_block_size(graph::Index n, const SolverOptions& opts) {
  const int bs = opts.block_size;
  DIFFUSER_CHECK(bs >= 1 && bs <= RowSumPlan::kMaxBlock,
                 "spectral: solver block size {} is not in [1, {}]", bs, RowSumPlan::kMaxBlock);
  if (bs < 2 || uses_dense(n, opts)) return 1;
  const std::int64_t want = opts.block_basis > 0 ? opts.block_basis : 16 * std::int64_t{bs};
  if (std::min<std::int64_t>(want, n - 1) / bs < 3) return 1;  // too small for a block basis
  return bs;
}

EigenResult solve_mu2_single(const NormalizedAdjacency& m, const SolverOptions& opts,
                             std::optional<Eigen::SparseMatrix<double>>& b);

// mu2 for a connected graph: the block method when selected (block_size); when it does not
// converge within its budget, the single-vector path below continues with what is left.
EigenResult solve_mu2(const NormalizedAdjacency& m, const SolverOptions& opts,
                      std::optional<Eigen::SparseMatrix<double>>& b) {
  const int bs = effective_block_size(m.size(), opts);
  if (bs == 1) return solve_mu2_single(m, opts, b);
  SolverOptions bo = opts;
  bo.block_size = bs;
  // With shift-invert allowed, the block method gets the budget of the first Lanczos run in
  // block products (a product of bs vectors costs about 2 single products at bs = 8).
  if (opts.shift_invert) {
    bo.max_matvecs = std::min<std::int64_t>(
        opts.max_matvecs,
        std::int64_t{bs} * std::max<std::int64_t>(opts.matvecs_before_shift_invert / 2, 3));
  }
  EigenResult r = block_second_eigenvalue(m, bo);
  if (r.converged || bo.max_matvecs >= opts.max_matvecs) return r;
  SolverOptions rest = opts;
  rest.max_matvecs = std::max<std::int64_t>(1, opts.max_matvecs - r.matvecs);
  EigenResult s = solve_mu2_single(m, rest, b);
  s.matvecs += r.matvecs;
  s.note = fmt::format("{} did not converge (residual {:.3g}); single-vector path{}{}", r.note,
                       r.residual, s.note.empty() ? "" : ": ", s.note);
  return s;
}

// mu2 for a connected graph: Lanczos; when it is slow and the gap estimate is small,
// shift-invert; otherwise Lanczos continues from its best Ritz vector.
EigenResult solve_mu2_single(const NormalizedAdjacency& m, const SolverOptions& opts,
                             std::optional<Eigen::SparseMatrix<double>>& b) {
  const graph::Index n = m.size();
  Eigen::MatrixXd v1 = m.top_eigenvector();
  Deflation d{v1, -2.0};
  const bool try_si = opts.shift_invert && !uses_dense(n, opts);
  SolverOptions first = opts;
  if (try_si) first.max_matvecs = std::min(opts.max_matvecs, opts.matvecs_before_shift_invert);
  const EigenResult r = symmetric_extremes(m, Which::kLargest, 1, d, first)[0];
  if (r.converged || first.max_matvecs >= opts.max_matvecs) return r;
  // Ritz values of the largest eigenvalue are lower bounds, so 1 - theta >= lambda2.
  const double lambda_est = 1.0 - r.value;
  std::string why;
  if (lambda_est < opts.small_gap) {
    if (!b) b = m.to_sparse();
    EigenResult si;
    if (shift_invert_top(m, *b, v1, r, opts, si, why)) return si;
  }
  return continue_lanczos(m, Which::kLargest, d, r, opts, why);
}

// mu_min: Lanczos; when it is slow, shift-invert (refused cheaply when the pattern is not banded
// and the factor would exceed the budget), else Lanczos continues from its best Ritz vector.
EigenResult solve_mu_min(const NormalizedAdjacency& m, const SolverOptions& opts,
                         std::optional<Eigen::SparseMatrix<double>>& b) {
  const graph::Index n = m.size();
  const bool try_si = opts.shift_invert && !uses_dense(n, opts);
  SolverOptions first = opts;
  if (try_si) first.max_matvecs = std::min(opts.max_matvecs, opts.matvecs_before_shift_invert);
  const EigenResult r = symmetric_extremes(m, Which::kSmallest, 1, {}, first)[0];
  if (r.converged || first.max_matvecs >= opts.max_matvecs) return r;
  if (!b) b = m.to_sparse();
  EigenResult si;
  std::string why;
  if (shift_invert_bottom(m, *b, r, opts, si, why)) return si;
  return continue_lanczos(m, Which::kSmallest, {}, r, opts, why);
}

}  // namespace

namespace {

// mu2 of M: exact for >= 2 components, else Lanczos with shift-invert fallback.
EigenResult second_eigenvalue(const NormalizedAdjacency& m, const Components& comps,
                              const SolverOptions& opts,
                              std::optional<Eigen::SparseMatrix<double>>& b) {
  const graph::Index n = m.size();
  if (comps.count < 2) return solve_mu2(m, opts, b);
  // x = D^{1/2} (1_{C0} / vol(C0) - 1_{C1} / vol(C1)): eigenvalue 1, orthogonal to D^{1/2} 1.
  const auto& sq = m.sqrt_degree();
  double vol0 = 0, vol1 = 0;
  for (graph::Index i = 0; i < n; ++i) {
    if (comps.label[i] == 0) vol0 += m.degree(i);
    if (comps.label[i] == 1) vol1 += m.degree(i);
  }
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  for (graph::Index i = 0; i < n; ++i) {
    if (comps.label[i] == 0) x[i] = sq[i] / vol0;
    if (comps.label[i] == 1) x[i] = -sq[i] / vol1;
  }
  return exact(m, 1.0, x, Method::kComponents,
               fmt::format("{} connected components: eigenvalue 1 has multiplicity {}", comps.count,
                           comps.count));
}

}  // namespace

EigenResult second_eigenvalue(const NormalizedAdjacency& m, const SolverOptions& opts) {
  DIFFUSER_CHECK(m.size() >= 2, "second eigenvalue: n = {} has no second eigenvalue", m.size());
  std::optional<Eigen::SparseMatrix<double>> b;
  return second_eigenvalue(m, find_components(m.pattern()), opts, b);
}

GraphSpectrum graph_spectrum(const graph::CsrGraph& g, const SolverOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const NormalizedAdjacency m(g);
  GraphSpectrum s = graph_spectrum(g, m, opts);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

GraphSpectrum graph_spectrum(const graph::CsrGraph& g, const NormalizedAdjacency& m,
                             const SolverOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const graph::Index n = g.n();
  DIFFUSER_CHECK(n >= 1, "graph spectrum: the graph is empty (n = 0)");
  DIFFUSER_CHECK(m.size() == n && m.input_nnz() == g.nnz(),
                 "graph spectrum: normalised adjacency (n = {}, {} input edges) was not built from "
                 "this graph (n = {}, {} edges)",
                 m.size(), m.input_nnz(), n, g.nnz());
  GraphSpectrum s;
  s.n = n;
  s.nnz = g.nnz();
  s.nnz_symmetric = m.pattern().nnz();
  s.isolated_nodes = m.isolated_nodes();
  s.pattern_symmetric = m.input_symmetric();
  const Components comps = find_components(m.pattern());
  s.components = comps.count;
  const graph::Index bip = comps.first_bipartite();
  s.bipartite = bip >= 0;
  const WalkOperator p(g);

  if (n == 1) {
    s.mu2.method = s.mu2_walk.method = Method::kTrivial;
    s.mu2.op = m.name();
    s.mu2_walk.op = p.name();
    s.mu2.note = s.mu2_walk.note = "n = 1 has no second eigenvalue";
    s.mu_min = exact(m, 1.0, Eigen::VectorXd::Ones(1), Method::kTrivial, "n = 1: M = [1]");
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return s;
  }

  std::optional<Eigen::SparseMatrix<double>> b;  // M as a sparse matrix, built on demand
  const auto& sq = m.sqrt_degree();

  // mu2 of M.
  s.mu2 = second_eigenvalue(m, comps, opts, b);

  // mu_min of M.
  if (bip >= 0) {
    Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
    for (graph::Index i = 0; i < n; ++i) {
      if (comps.label[i] == bip) x[i] = comps.colour[i] == 0 ? sq[i] : -sq[i];
    }
    s.mu_min = exact(m, -1.0, x, Method::kBipartite,
                     fmt::format("component {} is bipartite: D^(1/2) times its +-1 colouring has "
                                 "eigenvalue -1",
                                 bip));
  } else {
    s.mu_min = solve_mu_min(m, opts, b);
  }

  // mu2_walk of P.
  if (comps.count >= 2) {
    Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
    for (graph::Index i = 0; i < n; ++i) x[i] = comps.label[i] == 1 ? 1.0 : 0.0;
    s.mu2_walk = exact(p, 1.0, x, Method::kComponents,
                       "S is disconnected: every weakly connected component holds a closed class, "
                       "so eigenvalue 1 of P is repeated");
    s.mu2_walk.vector.clear();
  } else if (s.pattern_symmetric) {
    const EigenResult& src = std::abs(s.mu2.value) >= std::abs(s.mu_min.value) ? s.mu2 : s.mu_min;
    EigenResult r;
    r.value = src.value;
    r.method = Method::kSimilarity;
    r.op = p.name();
    r.converged = src.converged;
    r.matvecs = 0;
    Eigen::VectorXd y(n);
    for (graph::Index i = 0; i < n; ++i) y[i] = src.vector[i] / sq[i];
    r.residual = residual_norm(p, y, r.value);
    r.note = fmt::format("symmetric pattern: P = D^-1 S is similar to M; eigenvalue from {} ({})",
                         &src == &s.mu2 ? "mu2" : "mu_min", to_string(src.method));
    s.mu2_walk = std::move(r);
  } else {
    s.mu2_walk = second_largest_modulus(p, opts);
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace diffuser::spectral
