// Why: the Boost.Graph analyses are checked on graphs whose answers are known in closed form
// (path, cycle, star, two components) and against a plain BFS written here.
#include <deque>

#include "core/Error.hpp"
#include "core/Threads.hpp"
#include "graph/BoostInterop.hpp"
#include "graph/GraphOps.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::graph;

namespace {

CsrGraph from_pairs(Index n, const std::vector<std::pair<Index, Index>>& edges, bool both_ways) {
  std::vector<Index> r, c;
  for (const auto& [i, j] : edges) {
    r.push_back(i);
    c.push_back(j);
    if (both_ways) {
      r.push_back(j);
      c.push_back(i);
    }
  }
  return CsrGraph::from_edges(n, r, c);
}

CsrGraph path(Index n) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i + 1 < n; ++i) e.emplace_back(i, i + 1);
  return from_pairs(n, e, true);
}

CsrGraph cycle(Index n) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i < n; ++i) e.emplace_back(i, (i + 1) % n);
  return from_pairs(n, e, true);
}

CsrGraph star(Index n) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 1; i < n; ++i) e.emplace_back(0, i);
  return from_pairs(n, e, true);
}

/// Plain queue BFS, the oracle for bfs_hops.
std::vector<Index> plain_bfs(const CsrGraph& g, Index s) {
  std::vector<Index> d(g.n(), -1);
  std::deque<Index> q{s};
  d[s] = 0;
  while (!q.empty()) {
    const Index u = q.front();
    q.pop_front();
    for (const Index v : g.row(u)) {
      if (d[v] < 0) {
        d[v] = d[u] + 1;
        q.push_back(v);
      }
    }
  }
  return d;
}

}  // namespace

TEST_CASE("BFS hops on path, cycle and star", "[graph][boost]") {
  const auto dp = bfs_hops(path(6), 0);
  CHECK(dp == std::vector<Index>{0, 1, 2, 3, 4, 5});
  const auto dc = bfs_hops(cycle(7), 2);
  CHECK(dc == std::vector<Index>{2, 1, 0, 1, 2, 3, 3});
  const auto ds = bfs_hops(star(5), 3);
  CHECK(ds == std::vector<Index>{1, 2, 2, 0, 2});
  // Directed: a one-way chain 0 -> 1 -> 2 does not reach back.
  CHECK(bfs_hops(from_pairs(3, {{0, 1}, {1, 2}}, false), 1) == std::vector<Index>{-1, 0, 1});
  const CsrGraph g = build_pattern(300, parse_pattern_spec("window=2,random=2,seed=3,causal"));
  for (const Index s : {0, 17, 299}) CHECK(bfs_hops(g, s) == plain_bfs(g, s));
  CHECK_THROWS_WITH(bfs_hops(path(3), 3), Catch::Contains("source 3 outside [0, 3)"));
}

TEST_CASE("connected components", "[graph][boost]") {
  // Two components: a path 0-1-2 and a cycle 3-4-5-6; plus isolated node 7.
  const CsrGraph g = from_pairs(8, {{0, 1}, {1, 2}, {3, 4}, {4, 5}, {5, 6}, {6, 3}}, true);
  const Components c = connected_components(g);
  CHECK(c.count == 3);
  CHECK(c.label == std::vector<Index>{0, 0, 0, 1, 1, 1, 1, 2});
  CHECK(c.sizes == std::vector<Index>{3, 4, 1});
  CHECK(c.largest == 4);
  // Weak components ignore direction: 0 -> 1 <- 2 is one component.
  CHECK(connected_components(from_pairs(3, {{0, 1}, {2, 1}}, false)).count == 1);
  CHECK(strong_component_count(from_pairs(3, {{0, 1}, {2, 1}}, false)) == 3);
  CHECK(strong_component_count(cycle(9)) == 1);
  CHECK(connected_components(CsrGraph()).count == 0);
}

TEST_CASE("exact diameter and receptive field on known graphs", "[graph][boost]") {
  // Path of n nodes: diameter n - 1. Cycle: floor(n / 2). Star: 2.
  CHECK(diameter(path(10)).value == 9);
  CHECK(diameter(cycle(10)).value == 5);
  CHECK(diameter(cycle(11)).value == 5);
  CHECK(diameter(star(12)).value == 2);
  const DiameterResult d = diameter(path(10));
  CHECK(d.exact);
  CHECK(d.strongly_connected);
  CHECK(d.method.find("exact") == 0);
  // Two components: largest finite distance, not strongly connected.
  const CsrGraph two = from_pairs(7, {{0, 1}, {1, 2}, {3, 4}, {4, 5}, {5, 6}}, true);
  const DiameterResult dt = diameter(two);
  CHECK(dt.value == 3);
  CHECK_FALSE(dt.strongly_connected);
  // Star with n nodes and self-loops: hub reaches everyone in 1 hop, leaves reach the hub in 1
  // and the others in 2. fraction_1 = (n + 2 (n - 1)) / n^2, fraction_k>=2 = 1.
  const Index n = 9;
  CsrGraph s = graph_union(star(n), build_pattern(n, PatternSpec{}));
  const ReceptiveField rf = receptive_field(s);
  REQUIRE(rf.fraction.size() == 5);
  CHECK(rf.exact);
  CHECK(rf.sources == n);
  CHECK(rf.fraction[0] == Approx(double(n + 2 * (n - 1)) / (n * n)).epsilon(1e-12));
  for (int k = 1; k < 5; ++k) CHECK(rf.fraction[k] == 1.0);
  CHECK(rf.mean_keys[0] == Approx(double(n + 2 * (n - 1)) / n).epsilon(1e-12));
  // Path with self-loops: a node sees min(i, k) + min(n-1-i, k) + 1 keys within k hops.
  const CsrGraph p = graph_union(path(20), build_pattern(20, PatternSpec{}));
  const ReceptiveField rp = receptive_field(p, HopOptions{.max_hops = 3});
  for (Index k = 1; k <= 3; ++k) {
    double total = 0;
    for (Index i = 0; i < 20; ++i) total += std::min(i, k) + std::min(19 - i, k) + 1;
    CHECK(rp.fraction[k - 1] == Approx(total / 400.0).epsilon(1e-12));
  }
}

TEST_CASE("diameter bounds beyond the exact limit", "[graph][boost]") {
  // Symmetric path of 200 nodes with exact limit 50: the double sweep finds the true diameter
  // (199) and the hub bound is 2 ecc(hub) >= 199, so lower = 199 <= upper.
  HopOptions o;
  o.exact_max_nodes = 50;
  o.sample_sources = 16;
  const DiameterResult d = diameter(path(200), o);
  CHECK(d.lower == 199);
  CHECK(d.upper >= 199);
  CHECK(d.upper <= 2 * 199);
  CHECK(d.method.find("bounds") != std::string::npos);
  // A window pattern with global tokens: bounds meet at 2 (any query -> global -> any key).
  const CsrGraph g = build_pattern(400, parse_pattern_spec("window=3,global=2"));
  const DiameterResult dg = diameter(g, o);
  CHECK(dg.exact);
  CHECK(dg.value == 2);
  CHECK(dg.upper == 2);
  CHECK(diameter(g).value == 2);  // the exact all-source answer agrees
  // Causal patterns are not strongly connected: no upper bound.
  const DiameterResult dc = diameter(build_pattern(400, parse_pattern_spec("window=3,causal")), o);
  CHECK_FALSE(dc.strongly_connected);
  CHECK(dc.upper == -1);
  CHECK(dc.lower == 133);  // from node 399 to 0 in steps of 3: ceil(399 / 3)
  // Sampled receptive field: exactly S sources; estimates near the exact values.
  const ReceptiveField exact = receptive_field(g);
  const ReceptiveField sampled = receptive_field(g, o);
  CHECK_FALSE(sampled.exact);
  CHECK(sampled.sources == 16);
  CHECK(sampled.fraction[1] == 1.0);  // within 2 hops everyone sees everything
  CHECK(exact.fraction[1] == 1.0);
}

TEST_CASE("work limits switch to sampling", "[graph][boost]") {
  // n = 400 is under the node limit, but n (n + nnz) = 400 * 3188 = 1.28e6 BFS steps exceeds a
  // work limit of 1e6, so sources are sampled; a sample work cap of 1e4 allows 3 BFS runs, which
  // the floor of 8 sources overrides.
  const CsrGraph g = build_pattern(400, parse_pattern_spec("window=3"));
  REQUIRE(g.nnz() + 400 == 3188);
  HopOptions o;
  o.exact_max_work = 1e6;
  CHECK_FALSE(hop_analysis(g, o).receptive_field.exact);
  CHECK(hop_analysis(g, o).receptive_field.sources == 256);
  o.sample_max_work = 1e4;
  CHECK(hop_analysis(g, o).receptive_field.sources == 8);
  o.exact_max_work = 2e6;
  CHECK(hop_analysis(g, o).receptive_field.exact);
}

TEST_CASE("hop analysis is independent of the thread count", "[graph][boost]") {
  const CsrGraph g = build_pattern(1500, parse_pattern_spec("window=4,random=2,expander=1,seed=8"));
  HopAnalysis one, two;
  {
    ThreadCountGuard guard(1);
    one = hop_analysis(g);
  }
  {
    ThreadCountGuard guard(2);
    two = hop_analysis(g);
  }
  CHECK(one.diameter.value == two.diameter.value);
  CHECK(one.receptive_field.fraction == two.receptive_field.fraction);
}
