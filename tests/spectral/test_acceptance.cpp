// Why: acceptance criterion 1 of the spectral issue: lambda2, lambda_max and mu2_walk from the
// sparse path agree with dense float64 solves (relative 1e-5) on graphs of 1-2k nodes of every
// kind: random, window-only with tiny gaps, window+global, window+random,
// window+global+random (small sizes and the sweep's 64/64/64), the `diffuser` preset,
// disconnected graphs (symmetric and directed), graphs with isolated nodes, and bipartite
// graphs (symmetric and a directed one whose walk has period 2).
#include <algorithm>
#include <cmath>
#include <string>

#include "core/Rng.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/ExpanderMetrics.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "tests/Testing.hpp"
#include "tests/spectral/KnownGraphs.hpp"

using namespace diffuser;
using namespace diffuser::spectral;
using namespace diffuser::testing;

namespace {

struct Case {
  std::string name;
  CsrGraph g;
};

CsrGraph pattern(Index n, const std::string& spec) {
  return graph::build_pattern(n, graph::parse_pattern_spec(spec));
}

// |a - b| <= 1e-5 |b|; absolute 1e-12 when |b| < 1e-12 (lambda2 = 0 of a disconnected graph,
// which the dense solver returns as ~1e-15).
bool agrees(double a, double b) {
  return std::abs(a - b) <= (std::abs(b) < 1e-12 ? 1e-12 : 1e-5 * std::abs(b));
}

// Compares the sparse path (forced: SolverPath::kIterative) with dense float64 references.
// The walk reference uses the non-symmetric dense solver only when `dense_walk_ok` (it is
// O(n^3) with a large constant: ~15 s at n = 1500); symmetric patterns do not need it (P is
// similar to M, so |mu2(P)| = max(|mu2(M)|, |mu_min(M)|)).
void check_against_dense(const Case& c, bool dense_walk_ok) {
  SolverOptions o;
  o.path = SolverPath::kIterative;
  const NormalizedAdjacency m(c.g);
  const GraphSpectrum s = graph_spectrum(c.g, m, o);
  // Cheeger for every computed case: lambda2/2 <= phi(G) <= sweep <= sqrt(2 lambda2); the
  // sweep's bound holds for the exact Fiedler vector, 1e-6 covers the solver's residual.
  const ExpanderMetrics e = expander_metrics(s, m);
  REQUIRE(e.sweep.has_value());
  CHECK(e.cheeger_lower <= e.sweep->conductance);
  CHECK(e.sweep->conductance <= e.cheeger_upper * (1 + 1e-6) + 1e-12);
  const Index n = c.g.n();
  const Eigen::VectorXd ev = symmetric_eigenvalues(dense_normalized_adjacency(c.g));
  const double l2 = 1.0 - ev[n - 2], lmax = 1.0 - ev[0];
  INFO(c.name << ": n = " << n << ", lambda2 " << s.lambda2() << " vs " << l2 << " ("
              << to_string(s.mu2.method) << " " << s.mu2.note << "), lambda_max " << s.lambda_max()
              << " vs " << lmax << " (" << to_string(s.mu_min.method) << ")");
  CHECK(s.converged());
  CHECK(agrees(s.lambda2(), l2));
  CHECK(agrees(s.lambda_max(), lmax));
  if (s.pattern_symmetric || s.components > 1) {
    const double walk = s.components > 1 ? 1.0 : std::max(std::abs(ev[n - 2]), std::abs(ev[0]));
    INFO("mu2_walk " << s.mu2_walk.modulus() << " vs " << walk);
    CHECK(agrees(s.mu2_walk.modulus(), walk));
  } else if (dense_walk_ok) {
    const double walk = second_largest_modulus_dense(dense_walk(c.g));
    INFO("mu2_walk " << s.mu2_walk.modulus() << " vs " << walk << " ("
                     << to_string(s.mu2_walk.method) << " " << s.mu2_walk.note << ")");
    CHECK(agrees(s.mu2_walk.modulus(), walk));
  }
}

std::vector<Case> symmetric_cases() {
  return {
      {"window-only w=1 (tiny gap)", pattern(1500, "window=1")},
      {"window-only w=8", pattern(2000, "window=8")},
      {"window+global", pattern(1500, "window=4,global=4")},
      {"disconnected windows", disjoint_union(pattern(700, "window=2"), pattern(800, "window=3"))},
      {"window-only w=64 (the sweep's window)", pattern(2048, "window=64")},
      {"window+global w=64, 64 global (the sweep's sizes)", pattern(2048, "window=64,global=64")},
      {"window + isolated nodes (no self-loops)",
       disjoint_union(pattern(1190, "window=3"), undirected(10, {}))},
      {"bipartite hypercube Q10", hypercube(10)},
      {"bipartite path", path(1200)},
      {"bipartite random K_{a,b} subgraph",
       [] {
         // Random bipartite: 600 left, 600 right, 5 random right neighbours per left node.
         std::vector<std::pair<Index, Index>> e;
         Rng rng(12);
         for (Index i = 0; i < 600; ++i) {
           for (int k = 0; k < 5; ++k)
             e.emplace_back(i, 600 + static_cast<Index>(rng.uniform_below(600)));
         }
         for (Index i = 0; i < 600; ++i) e.emplace_back(i, 600 + i);  // connected
         for (Index i = 0; i + 1 < 600; ++i) e.emplace_back(i + 1, 600 + i);
         return undirected(1200, e);
       }()},
  };
}

// Directed bipartite pattern on 2m nodes: left i -> right i and 3 random right nodes, right j
// -> left (j + 1) mod m. Strongly connected with period 2, so the walk has eigenvalue -1.
CsrGraph directed_bipartite(Index m, std::uint64_t seed) {
  std::vector<std::vector<Index>> rows(static_cast<std::size_t>(2 * m));
  Rng rng(seed);
  for (Index i = 0; i < m; ++i) {
    rows[i].push_back(m + i);
    for (int k = 0; k < 3; ++k) rows[i].push_back(m + static_cast<Index>(rng.uniform_below(m)));
    rows[m + i].push_back((i + 1) % m);
  }
  std::vector<Index> offsets{0}, columns;
  for (auto& r : rows) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    columns.insert(columns.end(), r.begin(), r.end());
    offsets.push_back(static_cast<Index>(columns.size()));
  }
  return CsrGraph(2 * m, std::move(offsets), std::move(columns));
}

std::vector<Case> directed_cases(Index n) {
  return {
      {"random", random_pattern(n, 4, true, 31)},
      {"window+random", pattern(n, "window=4,random=4,seed=1")},
      {"window+global+random", pattern(n, "window=4,global=4,random=4,seed=2")},
      {"window+global+random, the sweep's sizes 64/64/64",
       pattern(n, "window=64,global=64,random=64,seed=4")},
      {"diffuser preset", pattern(n, "preset=diffuser,seed=3")},
      {"disconnected directed (two window+random blocks)",
       disjoint_union(pattern(n / 2, "window=4,random=4,seed=5"),
                      pattern(n - n / 2, "window=2,random=3,seed=6"))},
      {"directed bipartite (periodic walk)", directed_bipartite(n / 2, 7)},
  };
}

}  // namespace

TEST_CASE("acceptance: symmetric, disconnected and bipartite patterns vs dense",
          "[cpu][spectral][acceptance]") {
  for (const Case& c : symmetric_cases()) check_against_dense(c, false);
}

TEST_CASE("acceptance: directed patterns vs dense (n = 500 walk reference)",
          "[cpu][spectral][acceptance]") {
  for (const Case& c : directed_cases(500)) check_against_dense(c, true);
  for (const Case& c : directed_cases(1500)) check_against_dense(c, false);
}

TEST_CASE("acceptance: directed patterns vs dense walk at 1-2k nodes",
          "[cpu][spectral][acceptance][slow]") {
  for (const Case& c : directed_cases(1200)) check_against_dense(c, true);
  for (const Case& c : directed_cases(2000)) check_against_dense(c, true);
}
