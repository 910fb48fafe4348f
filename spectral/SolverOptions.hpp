// Why: one set of knobs (tolerance, budgets, dense/iterative path, seed) shared by every solver,
// so the CLI exposes them once and tests can force a path.
#pragma once

#include <cstdint>
#include <string_view>

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
  /// When shift-invert is allowed, a Lanczos solve stops after this many applications. If it
  /// has not converged, shift-invert takes over: for lambda2 only when the estimate says the gap
  /// is small (< small_gap), for mu_min always; when shift-invert is refused (the pattern is not
  /// banded, see ShiftInvertOperator) Lanczos continues from its best Ritz vector.
  std::int64_t matvecs_before_shift_invert = 1000;
  /// Gaps below this are "small": slow Lanczos convergence at the top is then blamed on the gap
  /// and shift-invert near 0 is tried. Above it, slow convergence comes from a cluster at the
  /// edge of the bulk (expanders), which a shift near 0 would not separate.
  double small_gap = 0.05;
  /// Krylov subspace dimension (0: automatic: max(2 nev + 1, 64) for Lanczos and
  /// max(2 nev + 1, 48) for Arnoldi, nev = wanted + 1 resp. + 5; at most n). Larger subspaces
  /// need far fewer products on clustered spectra (the edge of the bulk of an expander's
  /// spectrum): 547 instead of 972 at n = 10^5 for 64 instead of 24.
  int ncv = 0;
  /// The dense symmetric path is used for n <= this (kAuto): O(n^3), ~0.05 s per solve at
  /// n = 512; Lanczos is faster above (and exact enough: both are tested against each other).
  graph::Index dense_max_n = 512;
  /// The dense non-symmetric path is used for n <= this (kAuto): Eigen's EigenSolver, ~0.1 s
  /// at n = 256, 3 s at 1024.
  graph::Index dense_max_n_general = 256;
  SolverPath path = SolverPath::kAuto;
  /// Allow the shift-invert fallback (sparse Cholesky of the shifted operator).
  bool shift_invert = true;
  /// Refuse shift-invert when the Cholesky factor could have more nonzeros than this (its
  /// envelope bound, 8 bytes + 4 bytes each): 10^8 ~ 1.2 GB.
  std::int64_t max_factor_nnz = 100000000;
  /// Block size of the mu2 solver for connected patterns on the iterative path: 1 = single-vector
  /// Lanczos (Spectra), the default; 2..16 = thick-restarted block Lanczos (BlockEigensolver.hpp),
  /// which reads the pattern once per block of vectors. The block method is opt-in: on both
  /// n = 100,000 patterns of docs/benchmarks.md it needs 3x the vector products of the
  /// single-vector method and is 3.8-4.2x slower overall. A block solve that does not converge
  /// within max_matvecs falls back to the single-vector path (and its shift-invert fallback)
  /// with the budget that is left.
  int block_size = 1;
  /// Columns of the block Krylov basis (0: automatic, 16 blocks, at most n - 1); after a restart
  /// half of them are kept (the best Ritz vectors).
  int block_basis = 0;
  /// Seed of the random starting vectors (xoshiro256**): same seed, same result.
  std::uint64_t seed = 20221021;
};

/// How make_solver_options names its arguments in errors: as the CLI flags (`--max-matvecs`)
/// or as the Python keywords (`max_matvecs`).
enum class OptionSpelling { kCliFlags, kKeywords };

/// The user-facing knobs checked and put into SolverOptions: tol in (0, 1), max_matvecs >= 1,
/// dense_max >= 0 (dense_max_n = dense_max, dense_max_n_general = min(dense_max, 256)),
/// method "auto" | "dense" | "iterative", shift-invert allowed or not, the solver seed. Throws
/// diffuser::Error naming the argument (in `spelling`) and the value.
SolverOptions make_solver_options(double tol, std::int64_t max_matvecs, graph::Index dense_max,
                                  std::string_view method, bool shift_invert, std::uint64_t seed,
                                  OptionSpelling spelling);

}  // namespace diffuser::spectral
