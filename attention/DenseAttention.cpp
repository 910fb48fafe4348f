// Why: the dense path through Eigen: one GEMM for the scores, one per Horner step, and for
// backward one GEMM per A^T step, a single GEMM of inner size K·D for dA, and two for dQ, dK.
// GEMMs are split into fixed row blocks spread over OpenMP threads (each block a
// single-threaded blocked Eigen GEMM): Eigen's own threading derives its cache blocking from
// the thread count, which would make results depend on it. The row softmax loops are parallel
// and vectorised (attention/cpu/RowMath.hpp).
#include "attention/DenseAttention.hpp"

#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "attention/AttentionDropout.hpp"
#include "attention/cpu/RowMath.hpp"
#include "core/Error.hpp"

namespace diffuser::attention {

namespace {

using graph::Index;
template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstStrided = Eigen::Map<const Mat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using Strided = Eigen::Map<Mat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using Square = Eigen::Map<Mat<T>>;
template <typename T>
using ConstSquare = Eigen::Map<const Mat<T>>;

// Head h of sequence `off` of a [batch, n, W] tensor as an n x D strided matrix.
template <typename T>
ConstStrided<T> head(const T* x, const AttentionGeometry& g, std::int64_t off, int h) {
  return ConstStrided<T>(x + off + static_cast<std::int64_t>(h) * g.head_dim, g.n, g.head_dim,
                         Eigen::OuterStride<>(g.width));
}
template <typename T>
Strided<T> head(T* x, const AttentionGeometry& g, std::int64_t off, int h) {
  return Strided<T>(x + off + static_cast<std::int64_t>(h) * g.head_dim, g.n, g.head_dim,
                    Eigen::OuterStride<>(g.width));
}

void check_dense_pattern(Index n, const graph::CsrGraph* pattern) {
  if (!pattern) return;
  DIFFUSER_CHECK(pattern->n() == n, "dense attention: pattern has {} nodes but n = {}",
                 pattern->n(), n);
  for (Index i = 0; i < n; ++i) {
    DIFFUSER_CHECK(pattern->degree(i) > 0, "attention pattern: row {} has no keys", i);
  }
}

void check_memory(const AttentionGeometry& g, std::size_t scalar, bool dropout,
                  std::uint64_t limit) {
  if (limit == 0) limit = default_dense_memory_limit();
  const std::uint64_t need = dense_attention_bytes(g, scalar, dropout, true);
  DIFFUSER_CHECK(need <= limit,
                 "dense attention: n x n buffers need {:.1f} MiB (batch {} x heads {} x n^2 with "
                 "n = {}), above the memory limit of {:.1f} MiB; use sparse attention or raise "
                 "the limit",
                 need / 1048576.0, g.batch, g.heads, g.n, limit / 1048576.0);
}

void check_options(const AttentionOptions& o) {
  DIFFUSER_CHECK(std::isfinite(o.dropout) && o.dropout >= 0.0 && o.dropout < 1.0,
                 "attention: dropout = {} outside [0, 1)", o.dropout);
}

// Softmax (and dropout) of the score rows of one head, in place: A row i holds scores
// <q_i, k_j> on entry and the weights on exit.
template <typename T>
void dense_softmax(const graph::CsrGraph* pattern, const AttentionOptions& o,
                   const AttentionGeometry& g, std::int64_t b, int h, Index len, T* a, T* ad) {
  const Index n = g.n;
  const T scale = T(1) / std::sqrt(static_cast<T>(g.head_dim));
  const auto p = static_cast<float>(o.dropout);
  const std::uint64_t nnz =
      pattern ? static_cast<std::uint64_t>(pattern->nnz()) : static_cast<std::uint64_t>(n) * n;
#pragma omp parallel
  {
    std::vector<T> tmp(static_cast<std::size_t>(n));
#pragma omp for schedule(static)
    for (Index i = 0; i < n; ++i) {
      T* row = a + static_cast<std::int64_t>(i) * n;
      T* drow = ad ? ad + static_cast<std::int64_t>(i) * n : nullptr;
      if (i >= len) {
        std::fill(row, row + n, T(0));
        if (drow) std::fill(drow, drow + n, T(0));
        continue;
      }
      if (!pattern) {
        // Every key: the valid ones are the prefix [0, len).
        for (Index j = 0; j < len; ++j) row[j] *= scale;
        cpu::exp_shifted(row, cpu::max(row, len), len);
        const T inv = T(1) / cpu::sum(row, len);
        for (Index j = 0; j < len; ++j) row[j] *= inv;
        std::fill(row + len, row + n, T(0));
      } else {
        const auto keys = pattern->row(i);
        const auto count =
            static_cast<Index>(std::lower_bound(keys.begin(), keys.end(), len) - keys.begin());
        for (Index e = 0; e < count; ++e) tmp[e] = row[keys[e]] * scale;
        std::fill(row, row + n, T(0));
        if (count > 0) {
          cpu::exp_shifted(tmp.data(), cpu::max(tmp.data(), count), count);
          const T inv = T(1) / cpu::sum(tmp.data(), count);
          for (Index e = 0; e < count; ++e) row[keys[e]] = tmp[e] * inv;
        }
      }
      if (!drow) continue;
      // Dropout multiplier of edge e = the pattern's CSR index of (i, j), i·n + j when full.
      const std::uint64_t first =
          pattern ? static_cast<std::uint64_t>(pattern->offsets()[i]) : std::uint64_t(i) * n;
      const auto columns = pattern ? pattern->row(i) : std::span<const Index>();
      const Index edges = pattern ? static_cast<Index>(columns.size()) : n;
      std::fill(drow, drow + n, T(0));
      for (Index e = 0; e < edges; ++e) {
        const Index j = pattern ? columns[e] : e;
        drow[j] = row[j] * static_cast<T>(dropout_multiplier(
                               o.seed, o.stream, dropout_index(b, h, first + e, g.heads, nnz), p));
      }
    }
  }
}

template <typename T>
void zero_rows_from(Mat<T>& m, Index len) {
  if (len < m.rows()) m.bottomRows(m.rows() - len).setZero();
}

// dst = lhs * rhs in row blocks whose size depends only on the row count (about 16 blocks of
// 64..1024 rows), each computed by a single-threaded Eigen GEMM (Eigen runs sequentially
// inside an OpenMP parallel region), blocks scheduled dynamically over the threads. The result
// is bitwise the same for any thread count.
template <typename Dst, typename Lhs, typename Rhs>
void gemm(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  const Eigen::Index rows = dst.rows();
  const Eigen::Index block = std::clamp<Eigen::Index>((rows / 16 + 15) / 16 * 16, 64, 1024);
  const Eigen::Index blocks = (rows + block - 1) / block;
#pragma omp parallel for schedule(dynamic, 1)
  for (Eigen::Index b = 0; b < blocks; ++b) {
    const Eigen::Index first = b * block, count = std::min(block, rows - first);
    dst.middleRows(first, count).noalias() = lhs.middleRows(first, count) * rhs;
  }
}

}  // namespace

std::uint64_t default_dense_memory_limit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return std::uint64_t{8} << 30;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) / 2;
}

std::uint64_t dense_attention_bytes(const AttentionGeometry& g, std::size_t scalar_size,
                                    bool dropout, bool saving) {
  const std::uint64_t square = static_cast<std::uint64_t>(g.n) * g.n * scalar_size;
  const std::uint64_t copies = dropout ? 2 : 1;
  const std::uint64_t kept =
      saving ? static_cast<std::uint64_t>(g.batch) * g.heads * square * copies : square * copies;
  return kept + square;
}

template <typename T>
void dense_attention_forward(Index n, const graph::CsrGraph* pattern,
                             const AttentionOptions& options, const AttentionInputs<T>& in,
                             std::span<T> z, DenseAttentionSaved<T>* saved,
                             std::uint64_t memory_limit) {
  check_options(options);
  check_dense_pattern(n, pattern);
  const AttentionGeometry g = resolve_geometry(n, options.heads, in.batch, in.q.size(), in.k.size(),
                                               in.v.size(), in.lengths);
  check_tensor_size("z", z.size(), g);
  check_finite("q", in.q, g);
  check_finite("k", in.k, g);
  check_finite("v", in.v, g);
  const bool dropout = options.dropout > 0;
  check_memory(g, sizeof(T), dropout, memory_limit);
  const auto& theta = options.diffusion.theta();
  const int K = options.diffusion.degree();
  const int H = g.heads;
  const std::int64_t square = static_cast<std::int64_t>(n) * n;
  const std::int64_t seq = g.sequence_numel();
  const bool store_hops = saved && options.memory == MemoryMode::kStoreHops && K > 1;
  std::vector<T> a_scratch, ad_scratch;
  if (saved) {
    saved->geometry = g;
    saved->options = options;
    saved->attn.resize(static_cast<std::size_t>(g.batch * H * square));
    saved->attn_dropped.resize(dropout ? saved->attn.size() : 0);
    saved->hops.resize(store_hops ? static_cast<std::size_t>(g.batch * (K - 1) * seq) : 0);
  } else {
    a_scratch.resize(static_cast<std::size_t>(square));
    if (dropout) ad_scratch.resize(static_cast<std::size_t>(square));
  }
  Mat<T> y(n, g.head_dim), y_next(n, g.head_dim);
  for (std::int64_t b = 0; b < g.batch; ++b) {
    const std::int64_t off = b * seq;
    const Index len = g.lengths[b];
    for (int h = 0; h < H; ++h) {
      const std::int64_t slot = (b * H + h) * square;
      T* a = saved ? saved->attn.data() + slot : a_scratch.data();
      T* ad = dropout ? (saved ? saved->attn_dropped.data() + slot : ad_scratch.data()) : nullptr;
      Square<T> scores(a, n, n);
      gemm(scores, head(in.q.data(), g, off, h), head(in.k.data(), g, off, h).transpose());
      dense_softmax(pattern, options, g, b, h, len, a, ad);
      const ConstSquare<T> weights(ad ? ad : a, n, n);
      const auto vh = head(in.v.data(), g, off, h);
      y = vh * static_cast<T>(theta[K]);
      for (int kk = K - 1; kk >= 0; --kk) {
        gemm(y_next, weights, y);
        if (theta[kk] != 0.0) y_next += static_cast<T>(theta[kk]) * vh;
        zero_rows_from(y_next, len);
        y.swap(y_next);
        if (kk >= 1 && store_hops) {
          head(saved->hops.data(), g, (b * (K - 1) + (kk - 1)) * seq, h) = y;
        }
      }
      if (K == 0) zero_rows_from(y, len);
      head(z.data(), g, off, h) = y;
    }
  }
}

template <typename T>
void dense_attention_backward(Index n, const graph::CsrGraph* pattern, const AttentionInputs<T>& in,
                              const DenseAttentionSaved<T>& saved, std::span<const T> dz,
                              const AttentionGradients<T>& grads, std::uint64_t memory_limit) {
  const auto& options = saved.options;
  check_dense_pattern(n, pattern);
  const AttentionGeometry g = resolve_geometry(n, options.heads, in.batch, in.q.size(), in.k.size(),
                                               in.v.size(), in.lengths);
  DIFFUSER_CHECK(g == saved.geometry,
                 "dense attention backward: inputs (batch, n, width or lengths) differ from the "
                 "forward call");
  const bool dropout = options.dropout > 0;
  const int K = options.diffusion.degree();
  const int H = g.heads, D = g.head_dim;
  const std::int64_t square = static_cast<std::int64_t>(n) * n;
  const std::int64_t seq = g.sequence_numel();
  const bool store_hops = options.memory == MemoryMode::kStoreHops && K > 1;
  DIFFUSER_CHECK(
      saved.attn.size() == static_cast<std::size_t>(g.batch * H * square) &&
          saved.attn_dropped.size() == (dropout ? saved.attn.size() : 0) &&
          saved.hops.size() == (store_hops ? static_cast<std::size_t>(g.batch * (K - 1) * seq) : 0),
      "dense attention backward: saved state is incomplete (was forward given it?)");
  check_tensor_size("dz", dz.size(), g);
  check_tensor_size("dq", grads.dq.size(), g);
  check_tensor_size("dk", grads.dk.size(), g);
  check_tensor_size("dv", grads.dv.size(), g);
  DIFFUSER_CHECK(grads.dtheta.empty() || static_cast<int>(grads.dtheta.size()) == K + 1,
                 "attention backward: dtheta has {} elements, expected K + 1 = {}",
                 grads.dtheta.size(), K + 1);
  check_finite("dz", dz, g);
  check_memory(g, sizeof(T), dropout, memory_limit);
  const auto& theta = options.diffusion.theta();
  const T scale = T(1) / std::sqrt(static_cast<T>(D));
  const auto keep = static_cast<T>(dropout_keep_scale(static_cast<float>(options.dropout)));
  std::fill(grads.dtheta.begin(), grads.dtheta.end(), 0.0);
  std::vector<T> ds_buffer(static_cast<std::size_t>(square));
  Mat<T> hop_states(n, static_cast<Eigen::Index>(K) * D),
      adjoints(n, static_cast<Eigen::Index>(K) * D);
  Mat<T> gk(n, D), g_next(n, D), dvh(n, D), y(n, D), y_next(n, D);
  auto theta_dot = [](const Mat<T>& m, const ConstStrided<T>& v) {
    double s = 0.0;
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      for (Eigen::Index c = 0; c < m.cols(); ++c) {
        s += static_cast<double>(m(i, c)) * static_cast<double>(v(i, c));
      }
    }
    return s;
  };
  for (std::int64_t b = 0; b < g.batch; ++b) {
    const std::int64_t off = b * seq;
    const Index len = g.lengths[b];
    for (int h = 0; h < H; ++h) {
      const std::int64_t slot = (b * H + h) * square;
      const ConstSquare<T> a(saved.attn.data() + slot, n, n);
      const ConstSquare<T> ad(saved.diffusion_weights().data() + slot, n, n);
      const auto vh = head(in.v.data(), g, off, h);
      // Hop states Y_1..Y_K side by side (Y_K = theta_K V).
      if (K >= 1) {
        hop_states.middleCols(static_cast<Eigen::Index>(K - 1) * D, D) =
            vh * static_cast<T>(theta[K]);
        if (store_hops) {
          for (int kk = 1; kk < K; ++kk) {
            hop_states.middleCols(static_cast<Eigen::Index>(kk - 1) * D, D) =
                head(saved.hops.data(), g, (b * (K - 1) + (kk - 1)) * seq, h);
          }
        } else {
          y = vh * static_cast<T>(theta[K]);
          for (int kk = K - 1; kk >= 1; --kk) {
            gemm(y_next, ad, y);
            if (theta[kk] != 0.0) y_next += static_cast<T>(theta[kk]) * vh;
            zero_rows_from(y_next, len);
            y.swap(y_next);
            hop_states.middleCols(static_cast<Eigen::Index>(kk - 1) * D, D) = y;
          }
        }
      }
      gk = head(dz.data(), g, off, h);
      zero_rows_from(gk, len);
      dvh = static_cast<T>(theta[0]) * gk;
      if (!grads.dtheta.empty()) grads.dtheta[0] += theta_dot(gk, vh);
      for (int kk = 0; kk < K; ++kk) {
        adjoints.middleCols(static_cast<Eigen::Index>(kk) * D, D) = gk;
        gemm(g_next, ad.transpose(), gk);
        gk.swap(g_next);
        dvh += static_cast<T>(theta[kk + 1]) * gk;
        if (!grads.dtheta.empty()) grads.dtheta[kk + 1] += theta_dot(gk, vh);
      }
      head(grads.dv.data(), g, off, h) = dvh;
      auto dqh = head(grads.dq.data(), g, off, h);
      auto dkh = head(grads.dk.data(), g, off, h);
      if (K == 0) {
        dqh.setZero();
        dkh.setZero();
        continue;
      }
      Square<T> ds(ds_buffer.data(), n, n);
      gemm(ds, adjoints, hop_states.transpose());
      T* ds_data = ds_buffer.data();
      const T* a_data = a.data();
      const T* ad_data = ad.data();
#pragma omp parallel for schedule(static)
      for (Index i = 0; i < n; ++i) {
        T* row = ds_data + static_cast<std::int64_t>(i) * n;
        const T* arow = a_data + static_cast<std::int64_t>(i) * n;
        const T* adrow = ad_data + static_cast<std::int64_t>(i) * n;
        if (i >= len) {
          std::fill(row, row + n, T(0));
          continue;
        }
        if (dropout) {
          for (Index j = 0; j < n; ++j) row[j] = adrow[j] != T(0) ? row[j] * keep : T(0);
        }
        const T dot = cpu::dot(arow, row, n);
        for (Index j = 0; j < n; ++j) row[j] = arow[j] * (row[j] - dot) * scale;
      }
      gemm(dqh, ds, head(in.k.data(), g, off, h));
      gemm(dkh, ds.transpose(), head(in.q.data(), g, off, h));
    }
  }
}

#define DIFFUSER_INSTANTIATE(T)                                                                    \
  template void dense_attention_forward<T>(Index, const graph::CsrGraph*, const AttentionOptions&, \
                                           const AttentionInputs<T>&, std::span<T>,                \
                                           DenseAttentionSaved<T>*, std::uint64_t);                \
  template void dense_attention_backward<T>(                                                       \
      Index, const graph::CsrGraph*, const AttentionInputs<T>&, const DenseAttentionSaved<T>&,     \
      std::span<const T>, const AttentionGradients<T>&, std::uint64_t);

DIFFUSER_INSTANTIATE(float)
DIFFUSER_INSTANTIATE(double)
#undef DIFFUSER_INSTANTIATE

}  // namespace diffuser::attention
