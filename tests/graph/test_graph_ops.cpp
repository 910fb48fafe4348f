// Why: union, symmetrisation, restrictions and degree statistics are checked against dense
// brute-force definitions on small random graphs (with and without values).
#include <algorithm>
#include <map>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "graph/GraphOps.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::graph;

namespace {

/// Dense value matrix; NaN marks "no edge" so a zero-valued edge stays distinguishable.
using DenseValues = std::vector<std::vector<double>>;

CsrGraph random_graph(Index n, double density, bool weighted, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Index> rows, cols;
  std::vector<float> vals;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j) {
      if (rng.uniform() < density) {
        rows.push_back(i);
        cols.push_back(j);
        // Small integers: sums are exact in float.
        if (weighted) vals.push_back(static_cast<float>(rng.uniform_below(7)) - 3.0f);
      }
    }
  }
  return CsrGraph::from_edges(n, rows, cols, vals);
}

DenseValues dense(const CsrGraph& g) {
  DenseValues m(g.n(), std::vector<double>(g.n(), NAN));
  for (Index i = 0; i < g.n(); ++i) {
    for (Index e = g.offsets()[i]; e < g.offsets()[i + 1]; ++e) {
      m[i][g.columns()[e]] = g.has_values() ? g.values()[e] : 1.0;
    }
  }
  return m;
}

bool same(const DenseValues& a, const DenseValues& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a.size(); ++j) {
      if (std::isnan(a[i][j]) != std::isnan(b[i][j])) return false;
      if (!std::isnan(a[i][j]) && a[i][j] != b[i][j]) return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("graph_union equals the dense union / sum", "[graph][ops]") {
  for (const bool weighted : {false, true}) {
    const CsrGraph a = random_graph(23, 0.2, weighted, 1);
    const CsrGraph b = random_graph(23, 0.3, weighted, 2);
    const auto da = dense(a), db = dense(b);
    DenseValues expected(23, std::vector<double>(23, NAN));
    for (int i = 0; i < 23; ++i) {
      for (int j = 0; j < 23; ++j) {
        const bool ia = !std::isnan(da[i][j]), ib = !std::isnan(db[i][j]);
        if (!ia && !ib) continue;
        expected[i][j] = weighted ? (ia ? da[i][j] : 0.0) + (ib ? db[i][j] : 0.0) : 1.0;
      }
    }
    const CsrGraph u = graph_union(a, b);
    u.validate();
    CHECK(same(dense(u), expected));
  }
  CHECK_THROWS_WITH(graph_union(random_graph(3, 0.5, false, 1), random_graph(4, 0.5, false, 1)),
                    Catch::Contains("different sizes (n = 3 and n = 4)"));
  CHECK_THROWS_WITH(graph_union(random_graph(3, 0.5, false, 1), random_graph(3, 0.5, true, 1)),
                    Catch::Contains("only the second graph has edge values"));
}

TEST_CASE("symmetrize, restrict_causal, crop and restrict_keys equal brute force", "[graph][ops]") {
  for (const bool weighted : {false, true}) {
    const CsrGraph g = random_graph(19, 0.25, weighted, 5);
    const auto d = dense(g);
    // Symmetrize: A + A^T on the union pattern.
    DenseValues sym(19, std::vector<double>(19, NAN));
    for (int i = 0; i < 19; ++i) {
      for (int j = 0; j < 19; ++j) {
        const bool a = !std::isnan(d[i][j]), b = !std::isnan(d[j][i]);
        if (a || b) sym[i][j] = weighted ? (a ? d[i][j] : 0.0) + (b ? d[j][i] : 0.0) : 1.0;
      }
    }
    const CsrGraph s = symmetrize(g);
    CHECK(same(dense(s), sym));
    CHECK(is_symmetric(s));
    // Causal.
    DenseValues causal = d;
    for (int i = 0; i < 19; ++i) {
      for (int j = i + 1; j < 19; ++j) causal[i][j] = NAN;
    }
    CHECK(same(dense(restrict_causal(g)), causal));
    // Crop.
    for (const Index len : {0, 1, 7, 19}) {
      const CsrGraph c = crop(g, len);
      REQUIRE(c.n() == len);
      DenseValues expected(len, std::vector<double>(len));
      for (int i = 0; i < len; ++i) {
        for (int j = 0; j < len; ++j) expected[i][j] = d[i][j];
      }
      CHECK(same(dense(c), expected));
    }
    // Key mask (every third key masked), with and without kept self-loops.
    std::vector<std::uint8_t> mask(19);
    for (int j = 0; j < 19; ++j) mask[j] = j % 3 == 0 ? 0 : 1;
    for (const bool keep : {false, true}) {
      DenseValues expected = d;
      for (int i = 0; i < 19; ++i) {
        for (int j = 0; j < 19; ++j) {
          if (!mask[j] && !(keep && i == j)) expected[i][j] = NAN;
        }
      }
      CHECK(same(dense(restrict_keys(g, mask, keep)), expected));
    }
  }
  const CsrGraph g = random_graph(5, 0.5, false, 1);
  CHECK_THROWS_WITH(crop(g, 6), Catch::Contains("length 6 outside [0, 5]"));
  CHECK_THROWS_WITH(crop(g, -1), Catch::Contains("length -1"));
  CHECK_THROWS_WITH(restrict_keys(g, std::vector<std::uint8_t>(4, 1)),
                    Catch::Contains("4 entries for a graph with n = 5"));
}

TEST_CASE("degree statistics", "[graph][ops]") {
  // Rows: degrees 2, 0, 3, 1 -> min 0, max 3, mean 1.5, median 1.5, one empty row.
  const CsrGraph g(4, {0, 2, 2, 5, 6}, {0, 1, 0, 2, 3, 3});
  const DegreeStats s = degree_stats(g);
  CHECK(s.min == 0);
  CHECK(s.max == 3);
  CHECK(s.mean == 1.5);
  CHECK(s.median == 1.5);
  CHECK(s.zeros == 1);
  CHECK(s.stddev == Approx(std::sqrt((0.25 + 2.25 + 2.25 + 0.25) / 4)).epsilon(1e-12));
  // In-degrees: key 0 twice, 1 once, 2 once, 3 twice -> median 1.5, mean 1.5, no zeros.
  const DegreeStats in = in_degree_stats(g);
  CHECK(in.min == 1);
  CHECK(in.max == 2);
  CHECK(in.zeros == 0);
  CHECK(in.median == 1.5);
  CHECK(count_self_loops(g) == 3);  // (0,0), (2,2), (3,3)
  CHECK_FALSE(is_symmetric(g));
  const DegreeStats odd = degree_stats(CsrGraph(3, {0, 1, 4, 6}, {0, 0, 1, 2, 1, 2}));
  CHECK(odd.median == 2.0);
  const DegreeStats empty = degree_stats(CsrGraph());
  CHECK(empty.max == 0);
  CHECK(empty.mean == 0.0);
}

TEST_CASE("graph operations do not depend on the thread count", "[graph][ops]") {
  // 9000 rows: above the serial cut-off, so two threads split the rows.
  std::vector<Index> r, c;
  std::vector<float> v;
  Rng rng(3);
  for (int e = 0; e < 60000; ++e) {
    r.push_back(static_cast<Index>(rng.uniform_below(9000)));
    c.push_back(static_cast<Index>(rng.uniform_below(9000)));
    v.push_back(static_cast<float>(rng.uniform_below(5)));
  }
  const CsrGraph g = CsrGraph::from_edges(9000, r, c, v);
  std::vector<std::uint8_t> mask(9000);
  for (int j = 0; j < 9000; ++j) mask[j] = j % 7 != 0;
  auto run = [&] {
    return std::vector<CsrGraph>{symmetrize(g), restrict_causal(g), crop(g, 8000),
                                 restrict_keys(g, mask)};
  };
  std::vector<CsrGraph> one, two;
  {
    ThreadCountGuard guard(1);
    one = run();
  }
  {
    ThreadCountGuard guard(2);
    two = run();
  }
  CHECK(one == two);
}
