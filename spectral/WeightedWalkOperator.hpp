// Why: an attention matrix A (edge softmax on a pattern) is a weighted row-stochastic operator;
// its second-largest |eigenvalue| is what multi-hop diffusion actually mixes with.
#pragma once

#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"
#include "spectral/LinearOperator.hpp"

namespace diffuser::spectral {

/// How WeightedWalkOperator treats rows whose edge values do not sum to 1.
enum class RowSums {
  kRequireStochastic,  ///< every row must sum to 1 within `tolerance`, else diffuser::Error
  kNormalize,          ///< divide each row by its sum (every row sum must be > 0)
};

/// A_ij = value of edge (i, j) (n x n, row-stochastic, not symmetric in general): the attention
/// matrix of one head. Values are copied to float64 (and normalised when asked). Holds a
/// reference to the pattern: `g` must outlive this operator.
class WeightedWalkOperator final : public LinearOperator {
 public:
  /// Throws diffuser::Error when g has no values, a value is negative, a row is empty, or (with
  /// kRequireStochastic) |row sum - 1| > tolerance; the message names the row and its sum.
  /// The default tolerance 1e-4 allows float32 softmax rounding over rows of ~10^4 edges.
  WeightedWalkOperator(const graph::CsrGraph& g, RowSums mode = RowSums::kRequireStochastic,
                       double tolerance = 1e-4);

  graph::Index size() const override { return g_.n(); }
  void apply(const double* x, double* y) const override;
  bool symmetric() const override { return false; }
  double spectral_radius_bound() const override { return 1.0; }
  std::string name() const override { return "attention"; }

  /// The float64 edge weights actually used (normalised when kNormalize), size nnz.
  const std::vector<double>& weights() const { return w_; }

 private:
  const graph::CsrGraph& g_;
  std::vector<double> w_;
};

}  // namespace diffuser::spectral
