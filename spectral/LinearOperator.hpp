// Why: the eigen-solvers see operators (y = A x), never storage (docs/design.md §4, after Spectra).
// One abstract interface lets the same Lanczos/Arnoldi/dense code run on the normalised
// adjacency, the Laplacian, walk matrices, attention matrices and diffused polynomials of them.
#pragma once

#include <Eigen/Dense>

#include <complex>
#include <cstdint>
#include <string>

#include "graph/CsrGraph.hpp"

namespace diffuser::spectral {

/// A real square linear operator A of size n x n acting on float64 vectors.
class LinearOperator {
 public:
  virtual ~LinearOperator() = default;

  /// Dimension n.
  virtual graph::Index size() const = 0;

  /// y = A x. x and y point to n doubles each and must not alias. Deterministic for any
  /// thread count (each y_i is summed by one thread in a fixed order).
  virtual void apply(const double* x, double* y) const = 0;

  /// True when A = A^T by construction (Lanczos and the symmetric dense path apply).
  virtual bool symmetric() const = 0;

  /// An upper bound on the spectral radius of A (used to place deflated eigenvalues outside
  /// the spectrum). For row-stochastic and normalised operators this is 1.
  virtual double spectral_radius_bound() const = 0;

  /// Which matrix this is, for reports (e.g. "normalized_adjacency").
  virtual std::string name() const = 0;

  /// Dense copy (n x n, column j = A e_j), for the dense path and tests. O(n * cost(apply)).
  /// Before allocating, refuses (diffuser::Error naming the operator, n and the GiB needed)
  /// when `working_copies` dense n x n float64 matrices (the copy plus the caller's solver
  /// workspace) would exceed this machine's physical memory (core/MemoryBudget.hpp).
  Eigen::MatrixXd to_dense(int working_copies = 1) const;
};

/// ||A x - lambda x||_2 / ||x||_2 for a real eigenpair candidate (x of size n, nonzero).
double residual_norm(const LinearOperator& op, const Eigen::VectorXd& x, double lambda);

/// ||A x - lambda x||_2 / ||x||_2 for a complex eigenpair candidate (A real, x = xr + i xi).
double residual_norm(const LinearOperator& op, const Eigen::VectorXcd& x,
                     std::complex<double> lambda);

}  // namespace diffuser::spectral
