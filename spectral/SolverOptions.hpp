// Why: one set of knobs (tolerance, budgets, dense/iterative path, seed) shared by every solver,
// so the CLI exposes them once and tests can force a path.
#pragma once

#include <cstdint>

#include "graph/CsrGraph.hpp"

namespace diffuser::spectral {

/// Which eigen-solver path to take.
enum class SolverPath {
  kAuto,       ///< dense at or below the dense size limits, iterative above
  kDense,      ///< always dense (O(n^3) time, O(n^2) memory)
  kIterative,  ///< always Lanczos/Arnoldi (+ shift-invert fallback where allowed)
};

/// Options of the eigen-solvers.
struct SolverOptions {
  /// Convergence tolerance: a Ritz pair (theta, x) is accepted when ||A x - theta x|| <=
  /// tol * rho, rho the operator's spectral-radius bound (1 for normalised and stochastic
  /// operators); the same criterion as ARPACK/SciPy eigsh for |theta| ~ rho. For symmetric
  /// operators the eigenvalue error is <= the residual (and ~ residual^2 / gap).
  double tol = 1e-10;
  /// Most operator applications one Krylov solve may spend before it reports non-convergence.
  std::int64_t max_matvecs = 20000;
  /// When shift-invert is allowed, a Lanczos solve gives up after this many applications and
  /// the shift-invert fallback takes over (small gaps make plain Lanczos slow).
  std::int64_t matvecs_before_shift_invert = 600;
  /// Krylov subspace dimension (0: automatic: max(2 nev + 1, 24) for Lanczos and
  /// max(2 nev + 1, 30) for Arnoldi, nev = wanted + 1 resp. + 5; at most n).
  int ncv = 0;
  /// The dense symmetric path is used for n <= this (kAuto). ~0.2 s at n = 1024.
  graph::Index dense_max_n = 1024;
  /// The dense non-symmetric path is used for n <= this (kAuto). ~0.4 s at n = 512.
  graph::Index dense_max_n_general = 512;
  SolverPath path = SolverPath::kAuto;
  /// Allow the shift-invert fallback (sparse Cholesky of the shifted operator).
  bool shift_invert = true;
  /// Refuse shift-invert when the Cholesky factor would have more nonzeros than this
  /// (8 bytes + 4 bytes each): 10^8 ~ 1.2 GB.
  std::int64_t max_factor_nnz = 100000000;
  /// Seed of the random starting vectors (xoshiro256**): same seed, same result.
  std::uint64_t seed = 20221021;
};

}  // namespace diffuser::spectral
