// Why: mu2 of a large pattern is bound by the cost of the products M x, and each product is
// latency-bound on ~128 random keys per row. A block method reads the pattern once for b vectors
// (b = 8 doubles: one cache line per gathered key), so a product of b vectors costs less than b
// products of one. It is opt-in (SolverOptions::block_size): measured on both n = 100,000
// patterns it needs 3x the vector applications of single-vector Lanczos and is ~4x slower
// overall (docs/spectral.md §3, docs/benchmarks.md "Spectral"). It stays, tested, as the measured
// alternative (`bench_spectral --block-size B` times both in one run); single-vector Lanczos
// stays the default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "spectral/EigenResult.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SolverOptions.hpp"

namespace diffuser::spectral {

/// Y = M X for a block of b vectors: X is n x b with row stride ldx (x[j * ldx + k] is entry j
/// of vector k), Y is n x b row-major contiguous (y[i * b + k]); 1 <= b <= RowSumPlan::kMaxBlock.
/// Column k of Y equals m.apply() of column k of X bit for bit.
void apply_block(const NormalizedAdjacency& m, const double* x, std::ptrdiff_t ldx, int b,
                 double* y);

/// Counters of one block solve.
struct BlockSolveStats {
  std::int64_t block_products = 0;     ///< products M X with an n x b block
  std::int64_t single_products = 0;    ///< products M x with one vector (residual certificates)
  std::int64_t restarts = 0;           ///< thick restarts of the block Krylov basis
  double product_seconds = 0.0;        ///< in apply_block
  double orthogonalise_seconds = 0.0;  ///< Gram-Schmidt passes, Cholesky-QR, restarts
  double rayleigh_ritz_seconds = 0.0;  ///< small dense eigenproblems
};

/// mu2 of M (its second-largest eigenvalue) for a connected pattern by the thick-restarted block
/// Lanczos method (block Krylov-Schur, Zhou & Saad 2008) with block size opts.block_size (>= 2)
/// and D^{1/2} 1 deflated (kept as a locked basis vector). A pair is returned as converged only
/// when its true residual ||M x - mu x||, measured by a separate product, is <= max(10 tol,
/// 1e-13) -- the criterion of the Lanczos path; the solver itself stops at a Krylov residual
/// estimate <= tol. It spends at most opts.max_matvecs vector applications (a block product
/// counts b); when that is not enough it returns its best Ritz pair with converged = false, the
/// true residual and a note. Deterministic: the same result bit for bit for any thread count.
/// Method is kLanczos (the note names the block method). Throws diffuser::Error when the block
/// size is outside [2, RowSumPlan::kMaxBlock] or n is too small for the block basis (n - 1 <
/// 3 b).
EigenResult block_second_eigenvalue(const NormalizedAdjacency& m, const SolverOptions& opts,
                                    BlockSolveStats* stats = nullptr);

}  // namespace diffuser::spectral
