// Why: closed-form test graphs and dense references for the spectral tests.
#include "tests/spectral/KnownGraphs.hpp"

#include <algorithm>
#include <cmath>
#include <complex>

#include "core/Rng.hpp"

namespace diffuser::testing {

CsrGraph undirected(Index n, const std::vector<std::pair<Index, Index>>& edges) {
  std::vector<Index> r, c;
  for (auto [a, b] : edges) {
    r.push_back(a);
    c.push_back(b);
    r.push_back(b);
    c.push_back(a);
  }
  return CsrGraph::from_edges(n, r, c);
}

CsrGraph with_self_loops(const CsrGraph& g) {
  std::vector<Index> r, c;
  for (Index i = 0; i < g.n(); ++i) {
    r.push_back(i);
    c.push_back(i);
    for (Index j : g.row(i)) {
      r.push_back(i);
      c.push_back(j);
    }
  }
  return CsrGraph::from_edges(g.n(), r, c);
}

CsrGraph cycle(Index n) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i < n; ++i) e.emplace_back(i, (i + 1) % n);
  return undirected(n, e);
}

CsrGraph path(Index n) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i + 1 < n; ++i) e.emplace_back(i, i + 1);
  return undirected(n, e);
}

CsrGraph complete(Index n) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i < n; ++i) {
    for (Index j = i + 1; j < n; ++j) e.emplace_back(i, j);
  }
  return undirected(n, e);
}

CsrGraph complete_bipartite(Index a, Index b) {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i < a; ++i) {
    for (Index j = 0; j < b; ++j) e.emplace_back(i, a + j);
  }
  return undirected(a + b, e);
}

CsrGraph hypercube(int d) {
  const Index n = Index{1} << d;
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i < n; ++i) {
    for (int b = 0; b < d; ++b) {
      const Index j = i ^ (Index{1} << b);
      if (i < j) e.emplace_back(i, j);
    }
  }
  return undirected(n, e);
}

CsrGraph petersen() {
  std::vector<std::pair<Index, Index>> e;
  for (Index i = 0; i < 5; ++i) {
    e.emplace_back(i, (i + 1) % 5);          // outer 5-cycle
    e.emplace_back(5 + i, 5 + (i + 2) % 5);  // inner pentagram
    e.emplace_back(i, 5 + i);                // spokes
  }
  return undirected(10, e);
}

CsrGraph disjoint_union(const CsrGraph& a, const CsrGraph& b) {
  std::vector<Index> r, c;
  for (Index i = 0; i < a.n(); ++i) {
    for (Index j : a.row(i)) {
      r.push_back(i);
      c.push_back(j);
    }
  }
  for (Index i = 0; i < b.n(); ++i) {
    for (Index j : b.row(i)) {
      r.push_back(a.n() + i);
      c.push_back(a.n() + j);
    }
  }
  return CsrGraph::from_edges(a.n() + b.n(), r, c);
}

CsrGraph window_pattern(Index n, Index w, Index global, Index random, std::uint64_t seed) {
  std::vector<Index> r, c;
  Rng rng(seed);
  for (Index i = 0; i < n; ++i) {
    for (Index j = std::max<Index>(0, i - w); j <= std::min<Index>(n - 1, i + w); ++j) {
      r.push_back(i);
      c.push_back(j);
    }
    for (Index k = 0; k < random; ++k) {
      r.push_back(i);
      c.push_back(static_cast<Index>(rng.uniform_below(static_cast<std::uint64_t>(n))));
    }
  }
  for (Index gidx = 0; gidx < std::min(global, n); ++gidx) {
    for (Index j = 0; j < n; ++j) {
      r.push_back(gidx);
      c.push_back(j);
      r.push_back(j);
      c.push_back(gidx);
    }
  }
  return CsrGraph::from_edges(n, r, c);
}

CsrGraph random_pattern(Index n, Index per_row, bool loops, std::uint64_t seed) {
  std::vector<Index> r, c;
  Rng rng(seed);
  for (Index i = 0; i < n; ++i) {
    if (loops) {
      r.push_back(i);
      c.push_back(i);
    }
    for (Index k = 0; k < per_row; ++k) {
      r.push_back(i);
      c.push_back(static_cast<Index>(rng.uniform_below(static_cast<std::uint64_t>(n))));
    }
  }
  return CsrGraph::from_edges(n, r, c);
}

Eigen::MatrixXd dense_pattern(const CsrGraph& g) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(g.n(), g.n());
  for (Index i = 0; i < g.n(); ++i) {
    for (Index j : g.row(i)) a(i, j) = 1.0;
  }
  return a;
}

Eigen::MatrixXd dense_normalized_adjacency(const CsrGraph& g) {
  const Eigen::MatrixXd a = dense_pattern(g);
  Eigen::MatrixXd s = a.cwiseMax(a.transpose());
  for (Index i = 0; i < g.n(); ++i) {
    if (s.row(i).sum() == 0.0) s(i, i) = 1.0;
  }
  const Eigen::VectorXd d = s.rowwise().sum();
  const Eigen::VectorXd is = d.cwiseSqrt().cwiseInverse();
  return is.asDiagonal() * s * is.asDiagonal();
}

Eigen::MatrixXd dense_walk(const CsrGraph& g) {
  Eigen::MatrixXd p = dense_pattern(g);
  for (Index i = 0; i < g.n(); ++i) {
    const double d = p.row(i).sum();
    if (d == 0.0) {
      p(i, i) = 1.0;
    } else {
      p.row(i) /= d;
    }
  }
  return p;
}

Eigen::VectorXd symmetric_eigenvalues(const Eigen::MatrixXd& a) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(a, Eigen::EigenvaluesOnly);
  return es.eigenvalues();
}

double second_largest_modulus_dense(const Eigen::MatrixXd& p) {
  Eigen::EigenSolver<Eigen::MatrixXd> es(p, false);
  std::vector<double> mods;
  for (Eigen::Index i = 0; i < es.eigenvalues().size(); ++i) {
    mods.push_back(std::abs(es.eigenvalues()[i]));
  }
  std::sort(mods.begin(), mods.end(), std::greater<>());
  return mods.at(1);
}

}  // namespace diffuser::testing
