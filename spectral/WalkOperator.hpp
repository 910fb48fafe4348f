// Why: the random walk on the directed pattern (each query spreads uniformly over its keys) is
// the unweighted proxy of an attention matrix; its second-largest |eigenvalue| says how fast
// multi-hop diffusion over the pattern forgets where it started.
#pragma once

#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "spectral/LinearOperator.hpp"
#include "spectral/RowSumPlan.hpp"

namespace diffuser::spectral {

/// P = D_out^{-1} G (n x n, row-stochastic, in general not symmetric): P_ij = 1 / outdeg(i) for
/// every edge (i, j) of the directed pattern G (edge values ignored). A row without edges
/// (dangling query) gets an implicit self-loop, P_ii = 1, so P is always stochastic; the count
/// is reported by dangling_rows(). Holds a reference: `g` must outlive this operator.
class WalkOperator final : public LinearOperator {
 public:
  explicit WalkOperator(const graph::CsrGraph& g);

  graph::Index size() const override { return g_.n(); }
  void apply(const double* x, double* y) const override;
  bool symmetric() const override { return false; }
  double spectral_radius_bound() const override { return 1.0; }
  std::string name() const override { return "walk"; }

  /// Number of rows without edges (treated as self-loops).
  graph::Index dangling_rows() const { return dangling_; }

 private:
  const graph::CsrGraph& g_;
  RowSumPlan plan_;  // compressed row sums of G
  graph::Index dangling_ = 0;
};

}  // namespace diffuser::spectral
