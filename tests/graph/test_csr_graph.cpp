// Why: every CsrGraph invariant (I1-I6) must be enforced with an error that names it, and the
// edge-list constructor and transpose must be exact, since every other module relies on them.
#include "core/Error.hpp"
#include "graph/CsrGraph.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::graph;

TEST_CASE("every CSR invariant violation raises its error", "[graph][csr]") {
  // A valid 3-node graph for reference.
  CHECK_NOTHROW(CsrGraph(3, {0, 2, 3, 4}, {0, 1, 1, 2}));
  CHECK_THROWS_WITH(CsrGraph(-1, {0}, {}), Catch::Contains("(I1)") && Catch::Contains("negative"));
  CHECK_THROWS_WITH(CsrGraph(3, {0, 1, 2}, {0, 1}),
                    Catch::Contains("(I1)") && Catch::Contains("3 row offsets for n = 3"));
  CHECK_THROWS_WITH(CsrGraph(2, {1, 1, 2}, {0, 1}), Catch::Contains("(I2): offsets[0] = 1"));
  CHECK_THROWS_WITH(CsrGraph(2, {0, 1, 3}, {0, 1}),
                    Catch::Contains("(I2): offsets[n] = 3 but there are 2"));
  CHECK_THROWS_WITH(CsrGraph(3, {0, 2, 1, 3}, {0, 1, 2}),
                    Catch::Contains("(I3): offsets decrease at row 1"));
  CHECK_THROWS_WITH(CsrGraph(2, {0, 1, 2}, {0, 2}),
                    Catch::Contains("(I4): row 1 has column 2 outside [0, 2)"));
  CHECK_THROWS_WITH(CsrGraph(2, {0, 1, 2}, {-1, 1}), Catch::Contains("(I4)"));
  CHECK_THROWS_WITH(CsrGraph(3, {0, 2, 2, 2}, {1, 0}),
                    Catch::Contains("(I5): row 0 columns not strictly increasing (1 then 0)"));
  CHECK_THROWS_WITH(CsrGraph(3, {0, 2, 2, 2}, {1, 1}), Catch::Contains("(I5)"));
  CHECK_THROWS_WITH(CsrGraph(2, {0, 1, 2}, {0, 1}, {1.0f}),
                    Catch::Contains("(I6): 1 values for 2 edges"));
  CHECK_THROWS_WITH(CsrGraph(2, {0, 1, 2}, {0, 1}, {1.0f, NAN}),
                    Catch::Contains("(I6): value of edge 1"));
  CHECK_THROWS_WITH(CsrGraph(2, {0, 1, 2}, {0, 1}, {INFINITY, 1.0f}), Catch::Contains("(I6)"));
  CsrGraph g(2, {0, 1, 2}, {0, 1});
  CHECK_THROWS_WITH(g.set_values({1.0f, NAN}), Catch::Contains("(I6)"));
  CHECK_FALSE(g.has_values());
}

TEST_CASE("from_edges sorts, merges duplicates and checks input", "[graph][csr]") {
  const std::vector<Index> rows{2, 0, 2, 0, 1, 2};
  const std::vector<Index> cols{1, 2, 0, 2, 1, 1};
  const std::vector<float> vals{1, 2, 3, 4, 5, 6};
  const CsrGraph p = CsrGraph::from_edges(3, rows, cols);
  CHECK(p == CsrGraph(3, {0, 1, 2, 4}, {2, 1, 0, 1}));
  const CsrGraph w = CsrGraph::from_edges(3, rows, cols, vals);
  CHECK(w == CsrGraph(3, {0, 1, 2, 4}, {2, 1, 0, 1}, {6, 5, 3, 7}));
  CHECK_THROWS_WITH(CsrGraph::from_edges(3, rows, std::vector<Index>{1}),
                    Catch::Contains("6 row indices but 1 column indices"));
  CHECK_THROWS_WITH(CsrGraph::from_edges(2, rows, cols), Catch::Contains("outside [0, 2)"));
  CHECK_THROWS_WITH(CsrGraph::from_edges(3, rows, cols, std::vector<float>{1}),
                    Catch::Contains("1 values for 6 edges"));
}

TEST_CASE("transpose carries the edge permutation", "[graph][csr]") {
  const CsrGraph g(4, {0, 2, 3, 6, 7}, {1, 3, 0, 0, 2, 3, 1}, {1, 2, 3, 4, 5, 6, 7});
  const Transposed t = transpose(g);
  t.graph.validate();
  REQUIRE(t.graph.nnz() == g.nnz());
  for (Index j = 0; j < t.graph.n(); ++j) {
    for (Index e = t.graph.offsets()[j]; e < t.graph.offsets()[j + 1]; ++e) {
      const Index i = t.graph.columns()[e];
      // Edge e of the transpose is (j, i); it is edge perm[e] = (i, j) of g.
      CHECK(g.find_edge(i, j) == t.perm[e]);
      CHECK(t.graph.values()[e] == g.values()[t.perm[e]]);
    }
  }
  CHECK(transpose(t.graph).graph == g);
}

TEST_CASE("violations in large graphs are found and reported like small ones", "[graph][csr]") {
  // 10000 rows: validate() takes its parallel pass first; each planted violation must still
  // raise the sequential check's message.
  const Index n = 10000;
  std::vector<Index> off(n + 1), col(n);
  for (Index i = 0; i <= n; ++i) off[i] = i;
  for (Index i = 0; i < n; ++i) col[i] = (i * 7) % n;
  CHECK_NOTHROW(CsrGraph(n, off, col));
  auto bad_col = col;
  bad_col[8765] = n;
  CHECK_THROWS_WITH(CsrGraph(n, off, bad_col),
                    Catch::Contains("(I4): row 8765 has column 10000 outside [0, 10000)"));
  auto bad_off = off;
  std::swap(bad_off[5000], bad_off[5001]);
  CHECK_THROWS_WITH(CsrGraph(n, bad_off, col), Catch::Contains("(I3): offsets decrease at row"));
  std::vector<float> vals(n, 1.0f);
  vals[9999] = NAN;
  CHECK_THROWS_WITH(CsrGraph(n, off, col, vals), Catch::Contains("(I6): value of edge 9999"));
  // Two keys in one row out of order.
  std::vector<Index> off2{0};
  std::vector<Index> col2;
  for (Index i = 0; i < n; ++i) {
    col2.push_back(i);
    if (i == 7777) col2.push_back(3);
    off2.push_back(static_cast<Index>(col2.size()));
  }
  CHECK_THROWS_WITH(CsrGraph(n, off2, col2), Catch::Contains("(I5): row 7777"));
}
