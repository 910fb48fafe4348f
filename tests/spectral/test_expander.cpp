// Why: Cheeger's inequalities, the certified sweep cut, the Ramanujan ratio and the mixing-hops
// bound are checked against brute force (all subsets, explicit matrix powers) and closed forms.
#include <cmath>
#include <numbers>

#include "spectral/ExpanderMetrics.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/SweepCut.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;
using namespace diffuser::testing;

namespace {

// phi(G) by enumerating every proper subset (n <= 16).
double brute_force_conductance(const NormalizedAdjacency& m) {
  const Index n = m.size();
  double best = 1e300;
  for (std::uint32_t mask = 1; mask + 1 < (1u << n); ++mask) {
    std::int64_t cut = 0, vol = 0;
    for (Index v = 0; v < n; ++v) {
      if (!(mask >> v & 1u)) continue;
      vol += m.degree(v);
      for (Index w : m.pattern().row(v)) cut += (mask >> w & 1u) ? 0 : 1;
    }
    best = std::min(
        best, static_cast<double>(cut) / static_cast<double>(std::min(vol, m.volume() - vol)));
  }
  return best;
}

std::vector<CsrGraph> small_graphs() {
  return {cycle(9),
          cycle(12),
          path(11),
          complete(8),
          with_self_loops(complete(6)),
          complete_bipartite(4, 7),
          hypercube(4),
          petersen(),
          disjoint_union(cycle(5), path(6)),
          window_pattern(14, 1, 1, 1, 3),
          random_pattern(13, 2, true, 5),
          random_pattern(15, 3, false, 6)};
}

}  // namespace

TEST_CASE("Cheeger inequalities and the certified sweep cut on small graphs",
          "[cpu][spectral][expander]") {
  for (const CsrGraph& g : small_graphs()) {
    const NormalizedAdjacency m(g);
    const GraphSpectrum s = graph_spectrum(g, m);
    const ExpanderMetrics e = expander_metrics(s, m);
    const double phi = brute_force_conductance(m);
    INFO("n = " << g.n() << " lambda2 = " << e.lambda2 << " phi = " << phi);
    REQUIRE(e.sweep.has_value());
    // Rounding: lambda2 carries ~1e-15 absolute error.
    CHECK(e.cheeger_lower <= phi + 1e-12);
    CHECK(phi <= e.cheeger_upper + 1e-12);
    CHECK(phi <= e.sweep->conductance + 1e-15);             // the sweep is a real cut
    CHECK(e.sweep->conductance <= e.cheeger_upper + 1e-9);  // Cheeger for the Fiedler sweep
    // The reported cut really has the reported conductance.
    const SweepCut again = set_conductance(m, e.sweep->set);
    CHECK(again.cut == e.sweep->cut);
    CHECK(again.volume == e.sweep->volume);
    CHECK(again.conductance == e.sweep->conductance);
  }
}

TEST_CASE("Cheeger bounds hold on larger patterns", "[cpu][spectral][expander]") {
  for (const CsrGraph& g : {window_pattern(3000, 2, 0, 0, 0), window_pattern(3000, 2, 4, 0, 0),
                            window_pattern(3000, 2, 0, 2, 9), cycle(5001)}) {
    const NormalizedAdjacency m(g);
    const GraphSpectrum s = graph_spectrum(g, m);
    const ExpanderMetrics e = expander_metrics(s, m);
    INFO("n = " << g.n() << " lambda2 = " << e.lambda2 << " sweep " << e.sweep->conductance);
    CHECK(s.converged());
    CHECK(e.cheeger_lower <= e.sweep->conductance);
    CHECK(e.sweep->conductance <= e.cheeger_upper * (1 + 1e-6));
  }
}

TEST_CASE("disconnected graph: sweep finds a cut of conductance 0", "[cpu][spectral][expander]") {
  const CsrGraph g = disjoint_union(cycle(40), hypercube(4));
  const NormalizedAdjacency m(g);
  const ExpanderMetrics e = expander_metrics(graph_spectrum(g, m), m);
  CHECK(e.lambda2 == 0.0);
  CHECK(e.sweep->conductance == 0.0);
  CHECK(e.sweep->cut == 0);
  CHECK_FALSE(e.mixing_hops.has_value());
}

TEST_CASE("epsilon and Ramanujan ratio of regular graphs", "[cpu][spectral][expander]") {
  // Petersen: adjacency eigenvalues 3, 1, -2; 2 sqrt(2) = 2.83 -> ratio 2 / 2.83.
  const NormalizedAdjacency m(petersen());
  const ExpanderMetrics e = expander_metrics(graph_spectrum(petersen(), m), m);
  CHECK(e.regular);
  CHECK(e.regular_degree == 3);
  CHECK_FALSE(e.self_loops);
  CHECK(e.epsilon_complete == Approx(2.0 / 3.0).epsilon(1e-9));
  REQUIRE(e.ramanujan_ratio.has_value());
  CHECK(*e.ramanujan_ratio == Approx(2.0 / (2.0 * std::sqrt(2.0))).epsilon(1e-9));
  // With self-loops on every node, the loops are removed before comparing with 2 sqrt(d - 1).
  const CsrGraph h = with_self_loops(hypercube(5));
  const NormalizedAdjacency mh(h);
  const ExpanderMetrics eh = expander_metrics(graph_spectrum(h, mh), mh);
  CHECK(eh.self_loops);
  CHECK(eh.regular_degree == 5);
  // Q_5: adjacency eigenvalues 5 - 2k; max non-trivial |.| = 5 (k = 5, bipartite).
  CHECK(*eh.ramanujan_ratio == Approx(5.0 / (2.0 * 2.0)).epsilon(1e-9));
  // Complete graph K_n: epsilon = 1 / (n - 1).
  const NormalizedAdjacency mk(complete(20));
  CHECK(expander_metrics(graph_spectrum(complete(20), mk), mk).epsilon_complete ==
        Approx(1.0 / 19).epsilon(1e-9));
  // Irregular graph: no Ramanujan ratio.
  const NormalizedAdjacency mp(path(10));
  const ExpanderMetrics ep = expander_metrics(graph_spectrum(path(10), mp), mp);
  CHECK_FALSE(ep.regular);
  CHECK_FALSE(ep.ramanujan_ratio.has_value());
}

TEST_CASE("mixing hops bound holds for explicit matrix powers", "[cpu][spectral][expander]") {
  for (const CsrGraph& g :
       {with_self_loops(cycle(15)), window_pattern(60, 2, 1, 2, 4), petersen()}) {
    const NormalizedAdjacency m(g);
    const GraphSpectrum s = graph_spectrum(g, m);
    const ExpanderMetrics e = expander_metrics(s, m, 1e-4);
    REQUIRE(e.mixing_hops.has_value());
    // P = D^{-1} S; pi_j = d_j / vol.
    const Eigen::MatrixXd sd = dense_pattern(m.pattern());
    const Eigen::VectorXd d = sd.rowwise().sum();
    const Eigen::MatrixXd p = d.cwiseInverse().asDiagonal() * sd;
    Eigen::MatrixXd pk = Eigen::MatrixXd::Identity(g.n(), g.n());
    for (std::int64_t k = 0; k < *e.mixing_hops; ++k) pk = (pk * p).eval();
    double worst = 0;
    for (Index i = 0; i < g.n(); ++i) {
      for (Index j = 0; j < g.n(); ++j) {
        worst = std::max(worst, std::abs(pk(i, j) - d[j] / d.sum()));
      }
    }
    INFO("K = " << *e.mixing_hops << " mu* = " << e.mu_star);
    CHECK(worst <= 1e-4);
  }
}
