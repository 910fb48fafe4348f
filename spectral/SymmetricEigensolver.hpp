// Why: the extreme eigenvalues of symmetric operators (normalised adjacency, Laplacian, diffused
// symmetric operators, shift-inverted operators) are what the gap, lambda_max and the
// expander metrics need. One entry point hides the dense / Lanczos choice and always returns
// residuals and convergence status.
#pragma once

#include <Eigen/Dense>

#include <span>
#include <vector>

#include "spectral/EigenResult.hpp"
#include "spectral/LinearOperator.hpp"
#include "spectral/SolverOptions.hpp"

namespace diffuser::spectral {

/// Known eigenvectors to remove from the search: `basis` has orthonormal columns (n x m) that
/// span an invariant subspace of the operator A. The solvers work with
/// A' = P A P + value * V V^T, P = I - V V^T, which has the same eigenpairs as A on the
/// complement of span(V) and the eigenvalue `value` on span(V). Pick `value` outside the end of
/// the spectrum being searched (e.g. -2 when looking for the largest eigenvalues of M).
struct Deflation {
  Eigen::MatrixXd basis;  ///< n x m, orthonormal columns (m = 0: no deflation)
  double value = 0.0;
};

/// Which end of a symmetric spectrum.
enum class Which { kLargest, kSmallest };

/// The `count` algebraically largest (or smallest) eigenvalues of the symmetric operator `op`
/// restricted to the complement of `deflation`, most extreme first, each with its unit
/// eigenvector and residual ||A x - lambda x|| measured on `op`. Dense path (Eigen
/// SelfAdjointEigenSolver, eigenvectors by inverse iteration) for n <= opts.dense_max_n under
/// SolverPath::kAuto; otherwise implicitly restarted Lanczos (Spectra SymEigsSolver) with at
/// most opts.max_matvecs applications. A Lanczos run that does not converge still returns its
/// best Ritz pairs, with converged = false and the reason in `note`. Repeated eigenvalues are
/// returned once per Krylov direction found (a single-vector Krylov method cannot see
/// multiplicities). `start` (n entries, optional) replaces the seeded random starting vector
/// of the Lanczos path, e.g. to continue from an earlier run's best Ritz vector. Throws
/// diffuser::Error when op is not symmetric, count is not in [1, n - m] or start has the wrong
/// size.
std::vector<EigenResult> symmetric_extremes(const LinearOperator& op, Which which, int count,
                                            const Deflation& deflation, const SolverOptions& opts,
                                            std::span<const double> start = {});

}  // namespace diffuser::spectral
