// Why: the diffusion eigenvalue maps (DESIGN.md §1) must match direct eigen-decompositions of
// the dense diffused operator, and the coefficients must match the hop recurrence of the paper.
#include <algorithm>
#include <cmath>
#include <complex>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "spectral/DiffusedOperator.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/DiffusionSpec.hpp"
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

std::vector<DiffusionSpec> polynomial_specs() {
  return {DiffusionSpec::ppr_truncated(0.1, 5),   DiffusionSpec::ppr_truncated(0.3, 2),
          DiffusionSpec::ppr_truncated(0.05, 12), DiffusionSpec::heat_truncated(1.0, 6),
          DiffusionSpec::heat_truncated(5.0, 10), DiffusionSpec::none()};
}

}  // namespace

TEST_CASE("PPR coefficients equal the hop recurrence", "[cpu][spectral][diffusion]") {
  // Z_0 = V, Z_{k+1} = (1 - alpha) A Z_k + alpha V; on a scalar eigenvalue mu this is
  // z_{k+1} = (1 - alpha) mu z_k + alpha.
  for (double alpha : {0.1, 0.5}) {
    for (int K : {1, 5, 9}) {
      const DiffusionSpec s = DiffusionSpec::ppr_truncated(alpha, K);
      const auto th = s.coefficients();
      double sum = 0;
      for (double c : th) sum += c;
      CHECK(sum == Approx(1.0).epsilon(1e-14));
      for (double mu : {-1.0, -0.3, 0.2, 0.9, 1.0}) {
        double z = 1.0;
        for (int k = 0; k < K; ++k) z = (1 - alpha) * mu * z + alpha;
        CHECK(s.map(mu) == Approx(z).epsilon(1e-13).margin(1e-15));
      }
      CHECK(s.map(1.0) == Approx(1.0).epsilon(1e-14));
    }
  }
  // alpha = 0.1, K = 5: (1 - alpha)^5 = 59% of the weight on the 5-hop term (DESIGN.md §5).
  CHECK(DiffusionSpec::ppr_truncated(0.1, 5).coefficients()[5] == Approx(0.59049));
  const auto h = DiffusionSpec::heat_truncated(2.0, 3).coefficients();
  const double z = 1 + 2 + 2 + 8.0 / 6;
  CHECK(h[3] == Approx(8.0 / 6 / z).epsilon(1e-14));
}

TEST_CASE("infinite PPR and heat are the limits of the truncated ones",
          "[cpu][spectral][diffusion]") {
  for (double mu : {-0.9, 0.0, 0.5, 0.99}) {
    CHECK(DiffusionSpec::ppr_truncated(0.1, 400).map(mu) ==
          Approx(DiffusionSpec::ppr(0.1).map(mu)).epsilon(1e-12));
    CHECK(DiffusionSpec::heat_truncated(3.0, 60).map(mu) ==
          Approx(DiffusionSpec::heat(3.0).map(mu)).epsilon(1e-12));
  }
}

TEST_CASE("eigenvalue maps match the dense diffused symmetric operator",
          "[cpu][spectral][diffusion]") {
  // M of a window+random pattern; f(M) dense; eig(f(M)) must equal f(eig(M)) as multisets.
  const CsrGraph g = window_pattern(160, 2, 1, 2, 21);
  const Eigen::MatrixXd m = dense_normalized_adjacency(g);
  const Eigen::VectorXd mu = symmetric_eigenvalues(m);
  for (const DiffusionSpec& spec : polynomial_specs()) {
    INFO(spec.describe());
    Eigen::VectorXd direct = symmetric_eigenvalues(dense_polynomial(spec.coefficients(), m));
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
  for (const DiffusionSpec& spec : polynomial_specs()) {
    INFO(spec.describe());
    Eigen::EigenSolver<Eigen::MatrixXd> ed(dense_polynomial(spec.coefficients(), p), false);
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
  for (const DiffusionSpec& spec :
       {DiffusionSpec::ppr_truncated(0.1, 5), DiffusionSpec::heat_truncated(2.0, 6)}) {
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

TEST_CASE("interval maxima of the maps", "[cpu][spectral][diffusion]") {
  for (const DiffusionSpec& spec : polynomial_specs()) {
    // Brute force on a fine grid is a lower bound that the result must reach (and not exceed
    // by more than the golden-section gain, which is tiny).
    double brute = -1e300, brute_abs = 0;
    for (int i = 0; i <= 200000; ++i) {
      const double mu = -1.0 + 1.7 * i / 200000.0;
      brute = std::max(brute, spec.map(mu));
      brute_abs = std::max(brute_abs, std::abs(spec.map(mu)));
    }
    CHECK(spec.max_on_interval(-1.0, 0.7) >= brute - 1e-15);
    CHECK(spec.max_on_interval(-1.0, 0.7) <= brute + 1e-9);
    CHECK(spec.max_abs_on_interval(-1.0, 0.7) >= brute_abs - 1e-15);
    CHECK(spec.max_abs_on_interval(-1.0, 0.7) <= brute_abs + 1e-9);
  }
  CHECK(DiffusionSpec::ppr(0.2).max_on_interval(-0.5, 0.4) == DiffusionSpec::ppr(0.2).map(0.4));
}

TEST_CASE("diffusion parameters are validated", "[cpu][spectral][diffusion]") {
  CHECK_THROWS_WITH(DiffusionSpec::ppr(0.0), Catch::Contains("alpha"));
  CHECK_THROWS_WITH(DiffusionSpec::ppr(1.0), Catch::Contains("alpha"));
  CHECK_THROWS_WITH(DiffusionSpec::ppr_truncated(0.1, 0), Catch::Contains("hops"));
  CHECK_THROWS_WITH(DiffusionSpec::heat(-1.0), Catch::Contains("time"));
  CHECK_THROWS_WITH(DiffusionSpec::heat_truncated(std::nan(""), 3), Catch::Contains("time"));
  CHECK_THROWS_WITH(DiffusionSpec::ppr(0.1).coefficients(), Catch::Contains("not a polynomial"));
  CHECK(DiffusionSpec::ppr_truncated(0.1, 5).describe() == "ppr(alpha=0.1,K=5)");
}
