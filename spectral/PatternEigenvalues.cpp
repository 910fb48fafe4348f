// Why: see PatternEigenvalues.hpp.
#include "spectral/PatternEigenvalues.hpp"

#include <fmt/format.h>
#include <Eigen/Dense>

#include <algorithm>
#include <cstdint>
#include <functional>

#include "core/Error.hpp"
#include "core/MemoryBudget.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SymmetricEigensolver.hpp"

namespace diffuser::spectral {

using graph::Index;

PatternEigenvalues pattern_eigenvalues(const graph::CsrGraph& g, Index dense_max, int count,
                                       const SolverOptions& opts) {
  DIFFUSER_CHECK(g.n() >= 2, "eigenvalues: the graph has n = {} nodes (needs n >= 2)", g.n());
  DIFFUSER_CHECK(count >= 1, "eigenvalues: count = {} (must be >= 1)", count);
  const NormalizedAdjacency m(g);
  PatternEigenvalues out;
  out.n = g.n();
  if (g.n() <= dense_max) {
    // Peak: the dense copy and the solver's n x n workspace.
    check_memory_budget(
        2 * sizeof(double) * static_cast<std::uint64_t>(g.n()) * static_cast<std::uint64_t>(g.n()),
        fmt::format("the dense eigenvalues of n = {} (lower --dense-max)", g.n()));
    const Eigen::MatrixXd dense(m.to_sparse());
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(dense, Eigen::EigenvaluesOnly);
    DIFFUSER_CHECK(solver.info() == Eigen::Success,
                   "eigenvalues: the dense eigen-solver failed on n = {}", g.n());
    const Eigen::VectorXd& ev = solver.eigenvalues();
    out.top.assign(ev.data(), ev.data() + ev.size());
    std::sort(out.top.begin(), out.top.end(), std::greater<>());
    out.complete = true;
    out.method = "dense";
    return out;
  }
  const Index nontrivial = g.n() - 1;
  const int k = static_cast<int>(std::min<Index>(count, nontrivial));
  // The top eigenvalue 1 belongs to D^{1/2} 1 (per component); deflate that vector to -2 so
  // the Lanczos run returns the non-trivial top, then put the 1 back in front.
  Deflation top_deflation;
  top_deflation.basis = m.top_eigenvector();
  top_deflation.value = -2.0;
  const auto top = symmetric_extremes(m, Which::kLargest, k, top_deflation, opts);
  const auto bottom = symmetric_extremes(m, Which::kSmallest, k, Deflation{}, opts);
  out.top.push_back(1.0);
  for (const auto& r : top) {
    out.top.push_back(r.value);
    out.max_residual = std::max(out.max_residual, r.residual);
    out.converged = out.converged && r.converged;
  }
  for (const auto& r : bottom) {
    out.bottom.push_back(r.value);
    out.max_residual = std::max(out.max_residual, r.residual);
    out.converged = out.converged && r.converged;
  }
  out.method = "lanczos";
  return out;
}

}  // namespace diffuser::spectral
