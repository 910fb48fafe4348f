// Why: attention matrices and walks on directed patterns are not symmetric; their
// second-largest |eigenvalue| (how fast diffusion mixes) needs Arnoldi or a dense
// non-symmetric solve. The known Perron pair (1, 1) of a stochastic matrix is removed by
// Wielandt deflation so the wanted eigenvalue becomes the largest in modulus.
#pragma once

#include <Eigen/Dense>

#include <string>
#include <vector>

#include "spectral/EigenResult.hpp"
#include "spectral/LinearOperator.hpp"
#include "spectral/SolverOptions.hpp"

namespace diffuser::spectral {

/// Wielandt deflation A - x u^T of a known eigenpair (lambda_1, x) with u^T x = lambda_1: the
/// eigenvalue lambda_1 becomes 0 and every other eigenvalue is unchanged (Saad, Numerical
/// Methods for Large Eigenvalue Problems, 2nd ed., §4.2.2).
struct WielandtDeflation {
  Eigen::VectorXd x;  ///< right eigenvector of lambda_1 (n)
  Eigen::VectorXd u;  ///< any vector with u^T x = lambda_1 (n)
  double lambda = 1.0;
};

/// The `count` eigenvalues of largest modulus of `op` (after `deflation` when given), in
/// decreasing modulus; complex ones carry `imag`. Dense (Eigen EigenSolver, eigenvector by
/// complex inverse iteration) for n <= opts.dense_max_n_general under SolverPath::kAuto,
/// otherwise implicitly restarted Arnoldi (Spectra GenEigsSolver). Residuals are measured on
/// `op` itself (the deflated eigenvector is mapped back, x + beta x_1) unless the eigenvalue
/// equals lambda_1, in which case they are measured on the deflated operator (see `op` field).
/// `vector` is left empty (eigenvectors may be complex). Throws diffuser::Error on bad
/// arguments.
std::vector<EigenResult> largest_modulus(const LinearOperator& op, int count,
                                         const WielandtDeflation* deflation,
                                         const SolverOptions& opts);

/// Second-largest |eigenvalue| of a row-stochastic operator (A 1 = 1), counting multiplicity:
/// the largest-modulus eigenvalue of A - 1 (1/n) 1^T. Throws diffuser::Error when
/// ||A 1 - 1||_inf > 1e-8 (not stochastic).
EigenResult second_largest_modulus(const LinearOperator& stochastic, const SolverOptions& opts);

}  // namespace diffuser::spectral
