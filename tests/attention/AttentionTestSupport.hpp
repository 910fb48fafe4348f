// Why: shared pieces of the attention tests — random patterns with the awkward rows the kernels
// must handle (self-loop only, global rows of degree n, causal rows, rows whose keys are all
// padded), random tensors, and an independent dense oracle in double that applies
// docs/design.md §1 literally (dense masked softmax, explicit matrix powers Σ θ_k A^k V).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "attention/AttentionDropout.hpp"
#include "core/Rng.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::attention::test {

using graph::CsrGraph;
using graph::Index;

/// Knobs of a random pattern.
struct PatternKind {
  double density = 0.2;       ///< probability of each extra (i, j) key
  bool self_loops = true;     ///< self-loop in every row
  bool causal = false;        ///< keep only j <= i
  Index global_rows = 0;      ///< tokens 0..G-1 are global: full rows and full columns
  Index self_only_every = 0;  ///< every m-th row (m > 0) holds only its self-loop
};

/// A random pattern; rows never end up empty (a row left empty gets its self-loop).
inline CsrGraph random_pattern(Index n, const PatternKind& kind, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<Index> rows, cols;
  for (Index i = 0; i < n; ++i) {
    const bool global = i < kind.global_rows;
    const bool self_only = kind.self_only_every > 0 && i % kind.self_only_every == 1;
    bool any = false;
    for (Index j = 0; j < n; ++j) {
      if (kind.causal && j > i) continue;
      bool take = (kind.self_loops || self_only) && i == j;
      if (!self_only) take = take || global || j < kind.global_rows || rng.uniform() < kind.density;
      if (take) {
        rows.push_back(i);
        cols.push_back(j);
        any = true;
      }
    }
    if (!any) {
      rows.push_back(i);
      cols.push_back(i);
    }
  }
  return CsrGraph::from_edges(n, rows, cols);
}

/// The full pattern (every row holds every key).
inline CsrGraph full_pattern(Index n) {
  std::vector<Index> rows, cols;
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < n; ++j) {
      rows.push_back(i);
      cols.push_back(j);
    }
  }
  return CsrGraph::from_edges(n, rows, cols);
}

/// n i.i.d. normal values times `scale`.
template <typename T>
std::vector<T> random_tensor(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<T> x(n);
  for (auto& v : x) v = static_cast<T>(scale * rng.normal());
  return x;
}

template <typename To, typename From>
std::vector<To> convert(const std::vector<From>& x) {
  return std::vector<To>(x.begin(), x.end());
}

/// The dense attention matrix A (n x n, row-major, double) of sequence b, head h, straight from
/// the definition: masked softmax of <q_i, k_j>/sqrt(D) over the pattern's valid keys, times
/// the documented dropout multiplier counter_uniform(seed, stream, (b·H + h)·nnz + e) >= p.
inline std::vector<double> oracle_attention_matrix(const CsrGraph& pattern, int heads, int dim,
                                                   std::int64_t b, Index len,
                                                   const std::vector<double>& q,
                                                   const std::vector<double>& k, int h,
                                                   double dropout = 0.0, std::uint64_t seed = 0,
                                                   std::uint64_t stream = 0) {
  const Index n = pattern.n();
  const std::int64_t width = static_cast<std::int64_t>(heads) * dim;
  const std::int64_t off = b * n * width;
  std::vector<double> a(static_cast<std::size_t>(n) * n, 0.0);
  for (Index i = 0; i < len; ++i) {
    std::vector<std::pair<Index, double>> scores;
    double top = -std::numeric_limits<double>::infinity();
    for (std::int64_t e = pattern.offsets()[i]; e < pattern.offsets()[i + 1]; ++e) {
      const Index j = pattern.columns()[e];
      if (j >= len) continue;
      double s = 0.0;
      for (int d = 0; d < dim; ++d) {
        s += q[off + i * width + h * dim + d] * k[off + j * width + h * dim + d];
      }
      s /= std::sqrt(static_cast<double>(dim));
      scores.emplace_back(j, s);
      top = std::max(top, s);
    }
    double sum = 0.0;
    for (auto& [j, s] : scores) sum += std::exp(s - top);
    for (auto& [j, s] : scores) {
      const std::int64_t e = pattern.find_edge(i, j);
      double keep = 1.0;
      if (dropout > 0) {
        const float u = counter_uniform(seed, stream,
                                        (static_cast<std::uint64_t>(b) * heads + h) *
                                                static_cast<std::uint64_t>(pattern.nnz()) +
                                            static_cast<std::uint64_t>(e));
        keep = u >= static_cast<float>(dropout)
                   ? static_cast<double>(1.0f / (1.0f - static_cast<float>(dropout)))
                   : 0.0;
      }
      a[static_cast<std::size_t>(i) * n + j] = std::exp(s - top) / sum * keep;
    }
  }
  return a;
}

/// Z = sum_k theta_k A^k V by explicit powers (P_0 = V, P_{k+1} = A P_k), rows >= len zeroed:
/// the dense closed form, [batch, n, H·D] in double.
inline std::vector<double> oracle_forward(const CsrGraph& pattern, int heads, int dim,
                                          std::int64_t batch, const std::vector<Index>& lengths,
                                          const std::vector<double>& q,
                                          const std::vector<double>& k,
                                          const std::vector<double>& v,
                                          const std::vector<double>& theta, double dropout = 0.0,
                                          std::uint64_t seed = 0, std::uint64_t stream = 0) {
  const Index n = pattern.n();
  const std::int64_t width = static_cast<std::int64_t>(heads) * dim;
  std::vector<double> z(static_cast<std::size_t>(batch * n * width), 0.0);
  for (std::int64_t b = 0; b < batch; ++b) {
    const Index len = lengths.empty() ? n : lengths[b];
    const std::int64_t off = b * n * width;
    for (int h = 0; h < heads; ++h) {
      const auto a =
          oracle_attention_matrix(pattern, heads, dim, b, len, q, k, h, dropout, seed, stream);
      std::vector<double> p(static_cast<std::size_t>(n) * dim), acc(p.size(), 0.0);
      for (Index i = 0; i < n; ++i) {
        for (int d = 0; d < dim; ++d) p[i * dim + d] = v[off + i * width + h * dim + d];
      }
      for (std::size_t kk = 0; kk < theta.size(); ++kk) {
        for (std::size_t x = 0; x < p.size(); ++x) acc[x] += theta[kk] * p[x];
        std::vector<double> next(p.size(), 0.0);
        for (Index i = 0; i < n; ++i) {
          for (Index j = 0; j < n; ++j) {
            const double w = a[static_cast<std::size_t>(i) * n + j];
            if (w == 0.0) continue;
            for (int d = 0; d < dim; ++d) next[i * dim + d] += w * p[j * dim + d];
          }
        }
        p = std::move(next);
      }
      for (Index i = 0; i < len; ++i) {
        for (int d = 0; d < dim; ++d) z[off + i * width + h * dim + d] = acc[i * dim + d];
      }
    }
  }
  return z;
}

}  // namespace diffuser::attention::test

#include "attention/SparseAttention.hpp"
#include "tests/Testing.hpp"

namespace diffuser::attention::test {

/// One sparse forward on poisoned output; returns z.
template <typename T>
std::vector<T> run_forward(const AttentionPlan& plan, const AttentionOptions& options,
                           const std::vector<T>& q, const std::vector<T>& k,
                           const std::vector<T>& v, std::int64_t batch,
                           const std::vector<Index>& lengths, AttentionSaved<T>* saved,
                           Kernels kernels = Kernels::kOptimized) {
  auto z = diffuser::testing::poisoned<T>(q.size());
  sparse_attention_forward<T>(plan, options, AttentionInputs<T>{q, k, v, batch, lengths}, z, saved,
                              kernels);
  return z;
}

/// Gradients of one backward call.
template <typename T>
struct Grads {
  std::vector<T> dq, dk, dv;
  std::vector<double> dtheta;
};

/// One sparse backward on poisoned outputs.
template <typename T>
Grads<T> run_backward(const AttentionPlan& plan, const std::vector<T>& q, const std::vector<T>& k,
                      const std::vector<T>& v, std::int64_t batch,
                      const std::vector<Index>& lengths, const AttentionSaved<T>& saved,
                      const std::vector<T>& dz, Kernels kernels = Kernels::kOptimized) {
  Grads<T> g{diffuser::testing::poisoned<T>(q.size()), diffuser::testing::poisoned<T>(q.size()),
             diffuser::testing::poisoned<T>(q.size()),
             diffuser::testing::poisoned<double>(saved.options.diffusion.theta().size())};
  sparse_attention_backward<T>(plan, AttentionInputs<T>{q, k, v, batch, lengths}, saved, dz,
                               AttentionGradients<T>{g.dq, g.dk, g.dv, g.dtheta}, kernels);
  return g;
}

/// sum(z ⊙ dz) in long double: the scalar loss of the gradient checks.
template <typename T>
long double inner(const std::vector<T>& z, const std::vector<T>& dz) {
  long double s = 0;
  for (std::size_t x = 0; x < z.size(); ++x) s += static_cast<long double>(z[x]) * dz[x];
  return s;
}

}  // namespace diffuser::attention::test
