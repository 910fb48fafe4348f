// Why: symmetrisation and the O(nnz) matrix-vector product of D^{-1/2} S D^{-1/2}; row-parallel
// with OpenMP, one thread per row, so results do not depend on the thread count.
#include "spectral/NormalizedAdjacency.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace diffuser::spectral {

NormalizedAdjacency::NormalizedAdjacency(const graph::CsrGraph& g) : input_nnz_(g.nnz()) {
  const graph::Index n = g.n();
  const graph::Transposed t = graph::transpose(g);
  const auto go = g.offsets(), gc = g.columns();
  const auto to = t.graph.offsets(), tc = t.graph.columns();

  // Pass 1: size of each merged row (union of row i of G and row i of G^T).
  std::vector<std::int64_t> count(static_cast<std::size_t>(n) + 1, 0);
#pragma omp parallel for schedule(static) if (n > 4096)
  for (graph::Index i = 0; i < n; ++i) {
    std::int64_t a = go[i], b = to[i], c = 0;
    const std::int64_t ae = go[i + 1], be = to[i + 1];
    while (a < ae || b < be) {
      if (b >= be || (a < ae && gc[a] < tc[b])) {
        ++a;
      } else if (a >= ae || tc[b] < gc[a]) {
        ++b;
      } else {
        ++a;
        ++b;
      }
      ++c;
    }
    count[i + 1] = c == 0 ? 1 : c;  // isolated node: implicit self-loop
  }
  for (graph::Index i = 0; i < n; ++i) count[i + 1] += count[i];
  DIFFUSER_CHECK(count[n] <= graph::kMaxIndex,
                 "normalized adjacency: the symmetrised pattern has {} edges, more than the int32 "
                 "limit {}",
                 count[n], graph::kMaxIndex);
  std::vector<graph::Index> offsets(count.begin(), count.end());
  std::vector<graph::Index> columns(static_cast<std::size_t>(count[n]));

  // Pass 2: write the merged rows.
  graph::Index isolated = 0;
  bool symmetric = true;
#pragma omp parallel for schedule(static) reduction(+ : isolated) reduction(&& : symmetric) if (n > 4096)
  for (graph::Index i = 0; i < n; ++i) {
    std::int64_t a = go[i], b = to[i], out = offsets[i];
    const std::int64_t ae = go[i + 1], be = to[i + 1];
    if (ae == a && be == b) {
      columns[out] = i;
      ++isolated;
      continue;
    }
    if (ae - a != be - b) symmetric = false;
    while (a < ae || b < be) {
      if (b >= be || (a < ae && gc[a] < tc[b])) {
        columns[out++] = gc[a++];
        symmetric = false;
      } else if (a >= ae || tc[b] < gc[a]) {
        columns[out++] = tc[b++];
        symmetric = false;
      } else {
        columns[out++] = gc[a];
        ++a;
        ++b;
      }
    }
  }
  s_ = graph::CsrGraph(n, std::move(offsets), std::move(columns));
  isolated_ = isolated;
  input_symmetric_ = symmetric;

  sqrt_degree_.resize(n);
  inv_sqrt_degree_.resize(n);
  for (graph::Index i = 0; i < n; ++i) {
    sqrt_degree_[i] = std::sqrt(static_cast<double>(s_.degree(i)));
    inv_sqrt_degree_[i] = 1.0 / sqrt_degree_[i];
  }
}

void NormalizedAdjacency::apply(const double* x, double* y) const {
  const graph::Index n = s_.n();
  std::vector<double> w(n);
  const auto off = s_.offsets();
  const auto col = s_.columns();
  const std::int64_t work = s_.nnz();
#pragma omp parallel if (work > 100000)
  {
#pragma omp for schedule(static)
    for (graph::Index j = 0; j < n; ++j) w[j] = inv_sqrt_degree_[j] * x[j];
#pragma omp for schedule(static)
    for (graph::Index i = 0; i < n; ++i) {
      double acc = 0.0;
      for (graph::Index e = off[i]; e < off[i + 1]; ++e) acc += w[col[e]];
      y[i] = inv_sqrt_degree_[i] * acc;
    }
  }
}

Eigen::VectorXd NormalizedAdjacency::top_eigenvector() const {
  Eigen::VectorXd v = Eigen::Map<const Eigen::VectorXd>(sqrt_degree_.data(), size());
  return v / std::sqrt(static_cast<double>(volume()));
}

Eigen::SparseMatrix<double> NormalizedAdjacency::to_sparse() const {
  const graph::Index n = s_.n();
  Eigen::SparseMatrix<double> m(n, n);
  std::vector<Eigen::Triplet<double>> triplets;
  triplets.reserve(static_cast<std::size_t>(s_.nnz()));
  for (graph::Index i = 0; i < n; ++i) {
    for (graph::Index j : s_.row(i)) {
      triplets.emplace_back(i, j, inv_sqrt_degree_[i] * inv_sqrt_degree_[j]);
    }
  }
  m.setFromTriplets(triplets.begin(), triplets.end());
  return m;
}

}  // namespace diffuser::spectral
