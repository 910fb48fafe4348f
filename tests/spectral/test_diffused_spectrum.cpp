// Why: the diffusion eigenvalue maps (docs/design.md §1) must match direct eigen-decompositions of
// the dense diffused operator, and the diffused spectrum must agree with an eigen-solve of the
// diffused operator. The polynomial itself is tested in tests/core/test_diffusion.cpp.
#include <algorithm>
#include <cmath>
#include <complex>

#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "spectral/DiffusedOperator.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SymmetricEigensolver.hpp"
#include "spectral/WalkOperator.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;
using namespace diffuser::testing;

namespace {

Eigen::MatrixXd dense_polynomial(const std::vector<double>& th, const Eigen::MatrixXd& a) {
  const Eigen::Index n = a.rows();
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(n, n), pk = Eigen::MatrixXd::Identity(n, n);
  for (double c : th) {
    t += c * pk;
    pk = (pk * a).eval();
  }
  return t;
}

std::vector<Diffusion> polynomial_specs() {
  return {Diffusion::ppr(0.1, 5),  Diffusion::ppr(0.3, 2),   Diffusion::ppr(0.05, 12),
          Diffusion::heat(1.0, 6), Diffusion::heat(5.0, 10), Diffusion::plain()};
}

}  // namespace

TEST_CASE("eigenvalue maps match the dense diffused symmetric operator",
          "[cpu][spectral][diffusion]") {
  // M of a window+random pattern; f(M) dense; eig(f(M)) must equal f(eig(M)) as multisets.
  const CsrGraph g = window_pattern(160, 2, 1, 2, 21);
  const Eigen::MatrixXd m = dense_normalized_adjacency(g);
  const Eigen::VectorXd mu = symmetric_eigenvalues(m);
  for (const Diffusion& spec : polynomial_specs()) {
    INFO(spec.describe());
    Eigen::VectorXd direct = symmetric_eigenvalues(dense_polynomial(spec.theta(), m));
    std::vector<double> mapped;
    for (Eigen::Index i = 0; i < mu.size(); ++i) mapped.push_back(spec.map(mu[i]));
    std::sort(mapped.begin(), mapped.end());
    for (Eigen::Index i = 0; i < mu.size(); ++i) CHECK(std::abs(direct[i] - mapped[i]) <= 1e-12);
  }
}

TEST_CASE("eigenvalue maps match the dense diffused walk (complex eigenvalues)",
          "[cpu][spectral][diffusion]") {
  // A directed walk with random positive edge weights (an attention-like matrix). Random
  // weights keep the eigenvalues simple: an unweighted random walk has defective eigenvalues
  // (e.g. 1/4 with a Jordan block), which rounding splits by ~eps^(1/3) = 5e-6.
  const CsrGraph g = random_pattern(120, 3, true, 13);
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(g.n(), g.n());
  Rng rng(99);
  for (Index i = 0; i < g.n(); ++i) {
    for (Index j : g.row(i)) p(i, j) = 0.1 + rng.uniform();
    p.row(i) /= p.row(i).sum();
  }
  Eigen::EigenSolver<Eigen::MatrixXd> es(p, false);
  for (const Diffusion& spec : polynomial_specs()) {
    INFO(spec.describe());
    Eigen::EigenSolver<Eigen::MatrixXd> ed(dense_polynomial(spec.theta(), p), false);
    // Every mapped eigenvalue must appear among the direct ones (match by nearest); simple
    // eigenvalues of a non-normal matrix move by ~ condition x 1e-16, 1e-9 leaves margin.
    double worst = 0;
    for (Eigen::Index i = 0; i < es.eigenvalues().size(); ++i) {
      const std::complex<double> f = spec.map(es.eigenvalues()[i]);
      double best = 1e300;
      for (Eigen::Index j = 0; j < ed.eigenvalues().size(); ++j) {
        best = std::min(best, std::abs(ed.eigenvalues()[j] - f));
      }
      worst = std::max(worst, best);
    }
    CHECK(worst <= 1e-9);
  }
}

TEST_CASE("diffused operator solved directly agrees with the map", "[cpu][spectral][diffusion]") {
  const CsrGraph g = window_pattern(900, 2, 2, 1, 5);
  const NormalizedAdjacency m(g);
  SolverOptions o;
  o.path = SolverPath::kIterative;
  const GraphSpectrum s = graph_spectrum(g, m, o);
  for (const Diffusion& spec : {Diffusion::ppr(0.1, 5), Diffusion::heat(2.0, 6)}) {
    const DiffusedOperator f(m, spec);
    Deflation d{m.top_eigenvector(), -f.spectral_radius_bound() - 1.0};
    const EigenResult top = symmetric_extremes(f, Which::kLargest, 1, d, o)[0];
    const DiffusedSpectrum ds = diffused_spectrum(s, spec);
    INFO(spec.describe() << " " << top.note);
    CHECK(top.converged);
    // f(mu2) is an eigenvalue of f(M) and second_largest bounds them all; when f is increasing
    // on [mu_min, mu2] (exact) the bound is attained.
    CHECK(top.value >= ds.f_mu2 - 1e-8);
    CHECK(top.value <= ds.second_largest + 1e-8);
    if (ds.exact) CHECK(std::abs(top.value - ds.second_largest) <= 1e-8);
    CHECK(ds.gap == Approx(1 - ds.second_largest));
  }
}
