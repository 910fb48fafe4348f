// Why: an eigenvalue without its residual, convergence status and method is a number nobody can
// trust; every solver in spectral/ returns this record, and non-convergence is reported here
// instead of being hidden.
#pragma once

#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace diffuser::spectral {

/// How an eigenvalue was obtained.
enum class Method {
  kDense,        ///< dense float64 eigen-decomposition (Eigen), eigenvector by inverse iteration
  kLanczos,      ///< implicitly restarted Lanczos on the (deflated) operator (Spectra)
  kShiftInvert,  ///< Lanczos on (s (A - sigma I))^{-1}, sparse Cholesky (Eigen, envelope ordering)
  kArnoldi,      ///< implicitly restarted Arnoldi on the (Wielandt-deflated) operator (Spectra)
  kComponents,   ///< exact: the graph has >= 2 connected components
  kBipartite,    ///< exact: a component is bipartite, so -1 is an eigenvalue of M
  kSimilarity,   ///< the walk matrix of a symmetric pattern is similar to M: taken from M
  kTrivial,      ///< n too small for a non-trivial eigenvalue (n <= 1)
};

/// Name of a method as written in reports ("lanczos", "shift-invert", ...).
const char* to_string(Method m);

/// One eigenvalue with its evidence. `residual` is ||A x - lambda x||_2 / ||x||_2 measured on
/// the operator named by `op` (recomputed after the solver returns, not the solver's estimate).
struct EigenResult {
  double value = std::numeric_limits<double>::quiet_NaN();  ///< real part of lambda
  double imag = 0.0;                                        ///< imaginary part of lambda
  double residual = std::numeric_limits<double>::quiet_NaN();
  bool converged = false;
  Method method = Method::kDense;
  std::int64_t matvecs = 0;     ///< applications of the operator (or of the solve)
  std::int64_t iterations = 0;  ///< restarts of the Krylov method
  std::string op;               ///< which matrix the number is about
  std::string note;             ///< why it did not converge, or which fallback was taken
  std::vector<double> vector;   ///< unit eigenvector (real eigenvalues only; may be empty)

  /// |lambda|.
  double modulus() const { return std::abs(std::complex<double>(value, imag)); }
};

}  // namespace diffuser::spectral
