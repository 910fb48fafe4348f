// Why: the iterative solvers must agree with dense float64 eigen-decompositions, report
// non-convergence instead of returning a silent wrong number, and reject bad arguments.
#include <cmath>

#include "core/Error.hpp"
#include "core/Threads.hpp"
#include "spectral/GeneralEigensolver.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SymmetricEigensolver.hpp"
#include "spectral/WalkOperator.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;
using namespace diffuser::testing;

TEST_CASE("Lanczos agrees with dense on random patterns (<= 1e-8)", "[cpu][spectral][solvers]") {
  SolverOptions it;
  it.path = SolverPath::kIterative;
  for (std::uint64_t seed : {1, 2, 3}) {
    const CsrGraph g = random_pattern(700, 3 + static_cast<Index>(seed), seed % 2 == 0, seed);
    const NormalizedAdjacency m(g);
    const Eigen::VectorXd ev = symmetric_eigenvalues(dense_normalized_adjacency(g));
    const Index n = g.n();
    Deflation d{m.top_eigenvector(), -2.0};
    const auto top = symmetric_extremes(m, Which::kLargest, 3, d, it);
    const auto bottom = symmetric_extremes(m, Which::kSmallest, 2, {}, it);
    for (int k = 0; k < 3; ++k) {
      INFO("seed " << seed << " k " << k << " " << top[k].note);
      CHECK(top[k].method == Method::kLanczos);
      CHECK(top[k].converged);
      CHECK(std::abs(top[k].value - ev[n - 2 - k]) <= 1e-8);
      CHECK(top[k].residual <= 1e-8);
    }
    for (int k = 0; k < 2; ++k) {
      CHECK(bottom[k].converged);
      CHECK(std::abs(bottom[k].value - ev[k]) <= 1e-8);
    }
    // The dense path returns the same numbers and eigenvectors that satisfy the equation.
    SolverOptions dn;
    dn.path = SolverPath::kDense;
    const auto dtop = symmetric_extremes(m, Which::kLargest, 2, d, dn);
    CHECK(std::abs(dtop[0].value - ev[n - 2]) <= 1e-12);
    CHECK(dtop[0].residual <= 1e-10);
    CHECK(dtop[1].residual <= 1e-10);
  }
}

TEST_CASE("Arnoldi agrees with dense on directed random patterns", "[cpu][spectral][solvers]") {
  SolverOptions it;
  it.path = SolverPath::kIterative;
  for (std::uint64_t seed : {4, 5}) {
    const CsrGraph g = random_pattern(400, 4, true, seed);
    const WalkOperator p(g);
    const double ref = second_largest_modulus_dense(dense_walk(g));
    const EigenResult r = second_largest_modulus(p, it);
    INFO(r.note);
    CHECK(r.method == Method::kArnoldi);
    CHECK(r.converged);
    // Non-symmetric: eigenvalue error <= condition number x residual; the random walks here
    // are far from defective, 1e-8 holds with margin.
    CHECK(std::abs(r.modulus() - ref) <= 1e-8);
    CHECK(r.residual <= 1e-8);
    CHECK(r.op == "walk");  // residual measured on P itself after mapping the vector back
    SolverOptions dn;
    dn.path = SolverPath::kDense;
    const EigenResult rd = second_largest_modulus(p, dn);
    CHECK(std::abs(rd.modulus() - ref) <= 1e-10);
    CHECK(rd.residual <= 1e-8);
  }
}

TEST_CASE("non-convergence is reported, never hidden", "[cpu][spectral][solvers]") {
  // Window-only pattern: tiny gap; with 60 applications and no shift-invert Lanczos cannot
  // converge to 1e-10.
  const CsrGraph g = window_pattern(4000, 1, 0, 0, 0);
  SolverOptions o;
  o.max_matvecs = 60;
  o.shift_invert = false;
  const GraphSpectrum s = graph_spectrum(g, o);
  CHECK_FALSE(s.mu2.converged);
  CHECK_FALSE(s.converged());
  CHECK(s.mu2.note.find("did not converge") != std::string::npos);
  CHECK(s.mu2.residual > 1e-9);
  CHECK(s.mu2.matvecs <= 60);
  // The same graph with the default options converges via shift-invert.
  const GraphSpectrum t = graph_spectrum(g);
  CHECK(t.mu2.converged);
  CHECK(t.mu2.method == Method::kShiftInvert);
  // Arnoldi with a tiny budget.
  const CsrGraph d = random_pattern(2000, 3, true, 1);
  o.path = SolverPath::kIterative;
  o.max_matvecs = 30;
  o.tol = 1e-14;
  const EigenResult r = second_largest_modulus(WalkOperator(d), o);
  CHECK_FALSE(r.converged);
  CHECK(r.note.find("arnoldi did not converge") != std::string::npos);
}

TEST_CASE("shift-invert refuses too much fill and falls back to Lanczos",
          "[cpu][spectral][solvers]") {
  const CsrGraph g = window_pattern(3000, 1, 0, 0, 0);
  SolverOptions o;
  o.max_factor_nnz = 100;  // far too small
  o.max_matvecs = 200;
  o.matvecs_before_shift_invert = 100;
  const GraphSpectrum s = graph_spectrum(g, o);
  CHECK_FALSE(s.mu2.converged);
  CHECK(s.mu2.note.find("shift-invert skipped") != std::string::npos);
}

TEST_CASE("solver arguments are validated", "[cpu][spectral][solvers]") {
  const CsrGraph g = cycle(30);
  const NormalizedAdjacency m(g);
  const WalkOperator p(g);
  CHECK_THROWS_WITH(symmetric_extremes(p, Which::kLargest, 1, {}, {}),
                    Catch::Contains("not symmetric"));
  CHECK_THROWS_WITH(symmetric_extremes(m, Which::kLargest, 31, {}, {}),
                    Catch::Contains("asked for 31"));
  SolverOptions bad;
  bad.tol = 0;
  CHECK_THROWS_WITH(symmetric_extremes(m, Which::kLargest, 1, {}, bad),
                    Catch::Contains("tolerance"));
  const NormalizedAdjacency mp(path(30));  // irregular: M 1 != 1
  CHECK_THROWS_WITH(second_largest_modulus(mp, {}), Catch::Contains("not row-stochastic"));
  CHECK_THROWS_WITH(graph_spectrum(CsrGraph()), Catch::Contains("empty"));
  const GraphSpectrum one = graph_spectrum(cycle(1));
  CHECK(one.mu2.method == Method::kTrivial);
  CHECK(std::isnan(one.mu2.value));
}

TEST_CASE("graph_spectrum is deterministic across thread counts", "[cpu][spectral][solvers]") {
  const CsrGraph g = window_pattern(6000, 3, 2, 2, 8);
  SolverOptions o;
  GraphSpectrum a, b;
  {
    ThreadCountGuard guard(1);
    a = graph_spectrum(g, o);
  }
  {
    ThreadCountGuard guard(2);
    b = graph_spectrum(g, o);
  }
  CHECK(a.mu2.value == b.mu2.value);
  CHECK(a.mu_min.value == b.mu_min.value);
  CHECK(a.mu2_walk.value == b.mu2_walk.value);
  CHECK(a.mu2.vector == b.mu2.vector);
}
