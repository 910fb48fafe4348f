// Why: symmetrisation and the matrix-vector product of D^{-1/2} S D^{-1/2} (compressed row sums,
// row-parallel with OpenMP; results do not depend on the thread count).
#include "spectral/NormalizedAdjacency.hpp"

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"
#include "core/Threads.hpp"

namespace diffuser::spectral {

namespace {

// Pattern of G^T (offsets, rows per column ascending) without the edge permutation and values
// that graph::transpose also builds. Rows are split into contiguous blocks counted and filled in
// parallel; block b's entries of column j go after blocks < b, so the result is the same sorted
// CSR for any number of blocks or threads.
void transpose_pattern(const graph::CsrGraph& g, std::vector<std::int64_t>& offsets,
                       std::vector<graph::Index>& rows) {
  const graph::Index n = g.n();
  const auto go = g.offsets();
  const auto gc = g.columns();
  const int blocks = static_cast<int>(std::clamp<std::int64_t>(num_threads(), 1, 8));
  std::vector<std::vector<std::int64_t>> pos(
      blocks, std::vector<std::int64_t>(static_cast<std::size_t>(n)));
  auto block_begin = [&](int b) { return static_cast<graph::Index>(std::int64_t{n} * b / blocks); };
#pragma omp parallel for schedule(static, 1) if (g.nnz() > 100000)
  for (int b = 0; b < blocks; ++b) {
    std::vector<std::int64_t>& cnt = pos[b];
    for (graph::Index i = block_begin(b); i < block_begin(b + 1); ++i) {
      for (graph::Index e = go[i]; e < go[i + 1]; ++e) ++cnt[gc[e]];
    }
  }
  offsets.assign(static_cast<std::size_t>(n) + 1, 0);
  std::int64_t at = 0;
  for (graph::Index j = 0; j < n; ++j) {
    offsets[j] = at;
    for (int b = 0; b < blocks; ++b) {
      const std::int64_t c = pos[b][j];
      pos[b][j] = at;
      at += c;
    }
  }
  offsets[n] = at;
  rows.resize(static_cast<std::size_t>(at));
#pragma omp parallel for schedule(static, 1) if (g.nnz() > 100000)
  for (int b = 0; b < blocks; ++b) {
    std::vector<std::int64_t>& next = pos[b];
    for (graph::Index i = block_begin(b); i < block_begin(b + 1); ++i) {
      for (graph::Index e = go[i]; e < go[i + 1]; ++e) rows[next[gc[e]]++] = i;
    }
  }
}

}  // namespace

NormalizedAdjacency::NormalizedAdjacency(const graph::CsrGraph& g) : input_nnz_(g.nnz()) {
  const graph::Index n = g.n();
  std::vector<std::int64_t> t_offsets;
  std::vector<graph::Index> t_rows;
  transpose_pattern(g, t_offsets, t_rows);
  const auto go = g.offsets(), gc = g.columns();
  const std::vector<std::int64_t>& to = t_offsets;
  const std::vector<graph::Index>& tc = t_rows;

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
  plan_ = RowSumPlan(s_);
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
  // M x = D^{-1/2} (S (D^{-1/2} x)); S x as compressed row sums (RowSumPlan).
  const graph::Index n = s_.n();
  // Reused across calls, reached through a pointer inside the parallel loop (see
  // RowSumPlan::row_sums).
  thread_local std::vector<double> w_buf;
  w_buf.resize(n);
  double* w = w_buf.data();
  const bool parallel = n > 65536;
#pragma omp parallel for schedule(static) if (parallel)
  for (graph::Index j = 0; j < n; ++j) w[j] = inv_sqrt_degree_[j] * x[j];
  plan_.row_sums(w, y);
#pragma omp parallel for schedule(static) if (parallel)
  for (graph::Index i = 0; i < n; ++i) y[i] *= inv_sqrt_degree_[i];
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
