// Why: the pattern's spectral gap is defined on the normalised adjacency of its symmetrised 0/1
// pattern (docs/design.md §1). This operator owns that symmetrised pattern and the degree scaling,
// so the Laplacian, the sweep cut and shift-invert all read one consistent definition.
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "spectral/LinearOperator.hpp"
#include "spectral/RowSumPlan.hpp"

namespace diffuser::spectral {

/// M = D^{-1/2} S D^{-1/2}, n x n, symmetric, spectrum in [-1, 1], where S is the symmetrised
/// 0/1 pattern of a graph G: S_ij = 1 if (i, j) or (j, i) is an edge of G (self-loops as given),
/// and D = diag(row sums of S). Edge values of G are ignored.
///
/// Convention for isolated nodes (no edge at all, not even a self-loop): they get an implicit
/// self-loop (S_ii = 1, d_i = 1), so M_ii = 1 and the normalised Laplacian I - M has a zero on
/// that node. This is Chung's convention (Spectral Graph Theory, 1997, §1.2): the multiplicity
/// of the eigenvalue 1 of M (0 of I - M) equals the number of connected components.
///
/// The eigenvalue 1 always belongs to the vector D^{1/2} 1 (restricted to each component).
class NormalizedAdjacency final : public LinearOperator {
 public:
  /// Builds S from g in O(n + nnz) (transpose + row merge). Throws diffuser::Error when the
  /// symmetrised pattern would exceed the int32 edge limit.
  explicit NormalizedAdjacency(const graph::CsrGraph& g);

  graph::Index size() const override { return s_.n(); }
  void apply(const double* x, double* y) const override;
  bool symmetric() const override { return true; }
  double spectral_radius_bound() const override { return 1.0; }
  std::string name() const override { return "normalized_adjacency"; }

  /// The symmetrised 0/1 pattern S (with the implicit self-loops of isolated nodes).
  const graph::CsrGraph& pattern() const { return s_; }
  /// d_i = row sum of S (>= 1).
  graph::Index degree(graph::Index i) const { return s_.degree(i); }
  /// vol(V) = sum of all degrees = nnz(S).
  std::int64_t volume() const { return s_.nnz(); }
  /// d_i^{1/2} for every node.
  const std::vector<double>& sqrt_degree() const { return sqrt_degree_; }
  /// Number of isolated nodes that received an implicit self-loop.
  graph::Index isolated_nodes() const { return isolated_; }
  /// nnz of the input graph G (before symmetrisation).
  std::int64_t input_nnz() const { return input_nnz_; }
  /// True when G's pattern is already symmetric (then the walk matrix of G equals D^{-1} S and
  /// is similar to M).
  bool input_symmetric() const { return input_symmetric_; }

  /// The unit eigenvector D^{1/2} 1 / sqrt(vol) of the eigenvalue 1 (length n).
  Eigen::VectorXd top_eigenvector() const;

  /// The compressed row-sum plan used by apply() (see RowSumPlan).
  const RowSumPlan& plan() const { return plan_; }

  /// M as an explicit sparse matrix (for shift-invert factorisations).
  Eigen::SparseMatrix<double> to_sparse() const;

 private:
  graph::CsrGraph s_;
  RowSumPlan plan_;  // compressed row sums of S for apply()
  std::vector<double> sqrt_degree_;
  std::vector<double> inv_sqrt_degree_;
  graph::Index isolated_ = 0;
  std::int64_t input_nnz_ = 0;
  bool input_symmetric_ = false;
};

}  // namespace diffuser::spectral
