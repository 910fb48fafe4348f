// Why: graphs with closed-form spectra pin down every path of graph_spectrum (dense, Lanczos,
// shift-invert, exact component/bipartite shortcuts, similarity, Arnoldi) against formulas.
#include <cmath>
#include <numbers>

#include "spectral/GraphSpectrum.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;
using namespace diffuser::testing;

namespace {

constexpr double kPi = std::numbers::pi;

SolverOptions path_options(SolverPath p) {
  SolverOptions o;
  o.path = p;
  return o;
}

// Checks a spectrum against closed-form mu2, mu_min and |mu2_walk|. Tolerance 1e-8: the
// solvers stop at residual <= 1e-9 (10 * tol), and for symmetric operators the eigenvalue
// error is at most the residual.
void check(const GraphSpectrum& s, double mu2, double mu_min, double walk) {
  INFO("mu2 " << s.mu2.value << " (" << to_string(s.mu2.method) << ", " << s.mu2.note << ")");
  INFO("mu_min " << s.mu_min.value << " (" << to_string(s.mu_min.method) << ", " << s.mu_min.note
                 << ")");
  INFO("walk " << s.mu2_walk.modulus() << " (" << to_string(s.mu2_walk.method) << ", "
               << s.mu2_walk.note << ")");
  CHECK(s.converged());
  CHECK(std::abs(s.mu2.value - mu2) <= 1e-8);
  CHECK(std::abs(s.mu_min.value - mu_min) <= 1e-8);
  CHECK(std::abs(s.mu2_walk.modulus() - walk) <= 1e-8);
  CHECK(s.mu2.residual <= 1e-8);
  CHECK(s.mu_min.residual <= 1e-8);
  CHECK(std::abs(s.lambda2() - (1.0 - mu2)) <= 1e-8);
}

}  // namespace

TEST_CASE("cycles: mu_k = cos(2 pi k / n)", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    for (Index n : {11, 12, 64}) {
      INFO("n = " << n << " path " << static_cast<int>(p));
      const GraphSpectrum s = graph_spectrum(cycle(n), path_options(p));
      const double mu_min = n % 2 == 0 ? -1.0 : -std::cos(kPi / n);
      check(s, std::cos(2 * kPi / n), mu_min, std::abs(mu_min));
      CHECK(s.bipartite == (n % 2 == 0));
      CHECK(s.components == 1);
      CHECK(s.mu2_walk.method == Method::kSimilarity);
    }
  }
}

TEST_CASE("long odd cycle: tiny gap needs shift-invert", "[cpu][spectral][known]") {
  // n = 3001: lambda2 = 1 - cos(2 pi / n) = 2.2e-6, lambda3 = lambda2 (multiplicity 2).
  const Index n = 3001;
  const GraphSpectrum s = graph_spectrum(cycle(n));
  check(s, std::cos(2 * kPi / n), -std::cos(kPi / n), std::cos(kPi / n));
  CHECK(s.mu2.method == Method::kShiftInvert);
  CHECK(s.mu_min.method == Method::kShiftInvert);
  // Relative accuracy of the tiny gap itself (acceptance criterion 1: 1e-5).
  const double l2 = 1 - std::cos(2 * kPi / n);
  CHECK(std::abs(s.lambda2() - l2) / l2 <= 1e-5);
}

TEST_CASE("paths: mu_k = cos(pi k / (n - 1))", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    const Index n = 40;
    const GraphSpectrum s = graph_spectrum(path(n), path_options(p));
    check(s, std::cos(kPi / (n - 1)), -1.0, 1.0);
    CHECK(s.mu_min.method == Method::kBipartite);
  }
}

TEST_CASE("complete graphs, with and without self-loops", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    const Index n = 60;
    // K_n: M = (J - I) / (n - 1): eigenvalues 1 and -1/(n-1) (n - 1 times).
    check(graph_spectrum(complete(n), path_options(p)), -1.0 / (n - 1), -1.0 / (n - 1),
          1.0 / (n - 1));
    // K_n with loops: M = J / n: eigenvalues 1 and 0 (n - 1 times): the ideal expander.
    check(graph_spectrum(with_self_loops(complete(n)), path_options(p)), 0.0, 0.0, 0.0);
  }
}

TEST_CASE("complete bipartite K_{a,b}: eigenvalues 1, 0, -1", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    const GraphSpectrum s = graph_spectrum(complete_bipartite(7, 30), path_options(p));
    check(s, 0.0, -1.0, 1.0);
    CHECK(s.bipartite);
  }
}

TEST_CASE("hypercubes: mu = 1 - 2k/d", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    for (int d : {3, 6, 9}) {
      INFO("d = " << d);
      check(graph_spectrum(hypercube(d), path_options(p)), 1.0 - 2.0 / d, -1.0, 1.0);
    }
  }
}

TEST_CASE("Petersen graph: adjacency eigenvalues 3, 1, -2", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    const GraphSpectrum s = graph_spectrum(petersen(), path_options(p));
    check(s, 1.0 / 3.0, -2.0 / 3.0, 2.0 / 3.0);
    CHECK_FALSE(s.bipartite);
  }
}

TEST_CASE("disconnected graphs: lambda2 = 0 exactly", "[cpu][spectral][known]") {
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    const GraphSpectrum s = graph_spectrum(disjoint_union(cycle(7), cycle(9)), path_options(p));
    check(s, 1.0, -std::cos(kPi / 9), 1.0);
    CHECK(s.components == 2);
    CHECK(s.mu2.method == Method::kComponents);
    CHECK(s.mu2_walk.method == Method::kComponents);
    CHECK(s.lambda2() == 0.0);
  }
  // An isolated node (no edge, no self-loop) is its own component.
  std::vector<std::pair<Index, Index>> e{{0, 1}, {1, 2}, {2, 0}};
  const GraphSpectrum s = graph_spectrum(undirected(4, e));
  CHECK(s.isolated_nodes == 1);
  CHECK(s.components == 2);
  CHECK(s.mu2.value == 1.0);
  CHECK(s.mu2.residual <= 1e-15);
}

TEST_CASE("directed cycle with self-loops: |mu2| = cos(pi / n) by Arnoldi and dense",
          "[cpu][spectral][known]") {
  // P = (I + C) / 2, eigenvalues (1 + w^k) / 2 with |.| = |cos(pi k / n)|.
  for (SolverPath p : {SolverPath::kDense, SolverPath::kIterative}) {
    const Index n = 40;
    std::vector<Index> r, c;
    for (Index i = 0; i < n; ++i) {
      r.insert(r.end(), {i, i});
      c.insert(c.end(), {i, (i + 1) % n});
    }
    const GraphSpectrum s = graph_spectrum(CsrGraph::from_edges(n, r, c), path_options(p));
    INFO(s.mu2_walk.note);
    CHECK_FALSE(s.pattern_symmetric);
    CHECK(s.mu2_walk.converged);
    CHECK(s.mu2_walk.method == (p == SolverPath::kDense ? Method::kDense : Method::kArnoldi));
    CHECK(std::abs(s.mu2_walk.modulus() - std::cos(kPi / n)) <= 1e-8);
    CHECK(std::abs(s.mu2_walk.imag) > 0.01);  // a complex pair
    CHECK(s.mu2_walk.residual <= 1e-8);
    // The symmetrised pattern is a cycle with loops: M = (I + A_cycle / 2 * 2) / 3.
    CHECK(std::abs(s.mu2.value - (1 + 2 * std::cos(2 * kPi / n)) / 3) <= 1e-8);
  }
}
