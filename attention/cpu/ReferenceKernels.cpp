// Why: plain loops, double accumulation; each step mirrors one line of docs/design.md §1.
#include "attention/cpu/ReferenceKernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "attention/AttentionDropout.hpp"

namespace diffuser::attention::cpu {

namespace {

using graph::Index;

// Softmax weights of one head of one sequence, in CSR edge order (double).
std::vector<double> head_softmax(const AttentionPlan& plan, const AttentionGeometry& g,
                                 const auto* q, const auto* k, int h, Index len) {
  const auto& pattern = plan.pattern();
  const auto offsets = pattern.offsets();
  const auto columns = pattern.columns();
  const int D = g.head_dim;
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  std::vector<double> a(static_cast<std::size_t>(plan.nnz()), 0.0);
  for (Index i = 0; i < len; ++i) {
    double top = -std::numeric_limits<double>::infinity();
    for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
      const Index j = columns[e];
      if (j >= len) continue;  // padded key: excluded
      double s = 0.0;
      for (int d = 0; d < D; ++d) {
        s += static_cast<double>(q[i * g.width + h * D + d]) *
             static_cast<double>(k[j * g.width + h * D + d]);
      }
      a[e] = s * scale;
      top = std::max(top, a[e]);
    }
    if (top == -std::numeric_limits<double>::infinity()) continue;  // no valid key: zero row
    double sum = 0.0;
    for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
      if (columns[e] >= len) continue;
      a[e] = std::exp(a[e] - top);
      sum += a[e];
    }
    for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
      a[e] = columns[e] < len ? a[e] / sum : 0.0;
    }
  }
  return a;
}

double multiplier(const AttentionOptions& o, const AttentionGeometry& g, std::int64_t nnz,
                  std::int64_t b, int h, std::int64_t e) {
  return dropout_multiplier(o.seed, o.stream, dropout_index(b, h, e, g.heads, nnz),
                            static_cast<float>(o.dropout));
}

// Y_out = A Y_in + c V for one head (rows >= len: 0). Y, V: n x D doubles.
std::vector<double> hop(const AttentionPlan& plan, const std::vector<double>& ad,
                        const std::vector<double>& y_in, const std::vector<double>& vh, double c,
                        int D, Index len) {
  const auto offsets = plan.pattern().offsets();
  const auto columns = plan.pattern().columns();
  std::vector<double> y(y_in.size(), 0.0);
  for (Index i = 0; i < len; ++i) {
    for (int d = 0; d < D; ++d) {
      double acc = 0.0;
      for (Index e = offsets[i]; e < offsets[i + 1]; ++e) acc += ad[e] * y_in[columns[e] * D + d];
      y[i * D + d] = acc + c * vh[i * D + d];
    }
  }
  return y;
}

template <typename T>
std::vector<double> head_slice(const T* x, const AttentionGeometry& g, int h) {
  std::vector<double> out(static_cast<std::size_t>(g.n) * g.head_dim);
  for (Index i = 0; i < g.n; ++i) {
    for (int d = 0; d < g.head_dim; ++d)
      out[i * g.head_dim + d] = x[i * g.width + h * g.head_dim + d];
  }
  return out;
}

template <typename T>
void store_head(const std::vector<double>& x, const AttentionGeometry& g, int h, T* out) {
  for (Index i = 0; i < g.n; ++i) {
    for (int d = 0; d < g.head_dim; ++d) {
      out[i * g.width + h * g.head_dim + d] = static_cast<T>(x[i * g.head_dim + d]);
    }
  }
}

// Y_1..Y_K of one head by Horner in double (index k holds Y_k; Y_0 = Z at index 0). Rows
// >= len of Z are 0: each hop zeroes them, and for K = 0 (Z = theta_0 V, no hop) they are zeroed
// here (padded query rows produce zeros for every K).
std::vector<std::vector<double>> horner(const AttentionPlan& plan, const std::vector<double>& ad,
                                        const std::vector<double>& vh,
                                        const std::vector<double>& theta, int D, Index len) {
  const int K = static_cast<int>(theta.size()) - 1;
  std::vector<std::vector<double>> y(static_cast<std::size_t>(K) + 1);
  y[K] = vh;
  for (double& x : y[K]) x *= theta[K];
  for (int kk = K - 1; kk >= 0; --kk) y[kk] = hop(plan, ad, y[kk + 1], vh, theta[kk], D, len);
  std::fill(y[0].begin() + static_cast<std::ptrdiff_t>(len) * D, y[0].end(), 0.0);
  return y;
}

}  // namespace

template <typename T>
void reference_forward(const AttentionPlan& plan, const AttentionOptions& options,
                       const AttentionGeometry& g, const T* q, const T* k, const T* v, T* z,
                       AttentionSaved<T>* saved) {
  const std::int64_t nnz = plan.nnz();
  const int H = g.heads, D = g.head_dim;
  const auto& theta = options.diffusion.theta();
  const int K = options.diffusion.degree();
  const EdgeLayout layout = edge_layout(H, nnz);
  const bool store_hops = saved && options.memory == MemoryMode::kStoreHops && K > 1;
  if (saved) {
    saved->attn.assign(static_cast<std::size_t>(g.batch * nnz * H), T(0));
    saved->attn_dropped.assign(options.dropout > 0 ? saved->attn.size() : 0, T(0));
    saved->hops.assign(
        store_hops ? static_cast<std::size_t>(g.batch * (K - 1) * g.sequence_numel()) : 0, T(0));
  }
  for (std::int64_t b = 0; b < g.batch; ++b) {
    const std::int64_t off = b * g.sequence_numel();
    const Index len = g.lengths[b];
    for (int h = 0; h < H; ++h) {
      std::vector<double> a = head_softmax(plan, g, q + off, k + off, h, len);
      std::vector<double> ad = a;
      for (std::int64_t e = 0; e < nnz; ++e) ad[e] *= multiplier(options, g, nnz, b, h, e);
      if (saved) {
        for (std::int64_t e = 0; e < nnz; ++e) {
          saved->attn[b * nnz * H + layout.at(e, h)] = static_cast<T>(a[e]);
          if (options.dropout > 0) {
            saved->attn_dropped[b * nnz * H + layout.at(e, h)] = static_cast<T>(ad[e]);
          }
        }
      }
      const std::vector<double> vh = head_slice(v + off, g, h);
      const auto y = horner(plan, ad, vh, theta, D, len);
      store_head(y[0], g, h, z + off);
      if (store_hops) {
        for (int kk = 1; kk < K; ++kk) {
          store_head(y[kk], g, h,
                     saved->hops.data() + (b * (K - 1) + (kk - 1)) * g.sequence_numel());
        }
      }
    }
  }
}

template <typename T>
void reference_backward(const AttentionPlan& plan, const AttentionGeometry& g, const T* q,
                        const T* k, const T* v, const AttentionSaved<T>& saved, const T* dz, T* dq,
                        T* dk, T* dv, double* dtheta) {
  const auto& options = saved.options;
  const std::int64_t nnz = plan.nnz();
  const int H = g.heads, D = g.head_dim;
  const auto& theta = options.diffusion.theta();
  const int K = options.diffusion.degree();
  const EdgeLayout layout = edge_layout(H, nnz);
  const auto offsets = plan.pattern().offsets();
  const auto columns = plan.pattern().columns();
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const auto& weights = saved.diffusion_weights();
  if (dtheta) std::fill(dtheta, dtheta + K + 1, 0.0);
  for (std::int64_t b = 0; b < g.batch; ++b) {
    const std::int64_t off = b * g.sequence_numel();
    const Index len = g.lengths[b];
    for (int h = 0; h < H; ++h) {
      std::vector<double> a(nnz), ad(nnz);
      for (std::int64_t e = 0; e < nnz; ++e) {
        a[e] = saved.attn[b * nnz * H + layout.at(e, h)];
        ad[e] = weights[b * nnz * H + layout.at(e, h)];
      }
      const std::vector<double> vh = head_slice(v + off, g, h);
      // Hop states Y_1..Y_K: stored (Y_K = theta_K V is never stored) or recomputed.
      std::vector<std::vector<double>> y;
      if (options.memory == MemoryMode::kStoreHops) {
        y.resize(static_cast<std::size_t>(K) + 1);
        for (int kk = 1; kk < K; ++kk) {
          y[kk] =
              head_slice(saved.hops.data() + (b * (K - 1) + (kk - 1)) * g.sequence_numel(), g, h);
        }
        y[K] = vh;
        for (double& x : y[K]) x *= theta[K];
      } else {
        y = horner(plan, ad, vh, theta, D, len);
      }
      // dY_0 = dZ on valid rows.
      std::vector<double> gk = head_slice(dz + off, g, h);
      for (Index i = len; i < g.n; ++i) {
        for (int d = 0; d < D; ++d) gk[i * D + d] = 0.0;
      }
      std::vector<double> dvh(gk.size());
      for (std::size_t x = 0; x < gk.size(); ++x) dvh[x] = theta[0] * gk[x];
      auto add_dtheta = [&](int kk, const std::vector<double>& gg) {
        if (!dtheta) return;
        double s = 0.0;
        for (std::size_t x = 0; x < gg.size(); ++x) s += gg[x] * vh[x];
        dtheta[kk] += s;
      };
      add_dtheta(0, gk);
      std::vector<double> da(nnz, 0.0);
      for (int kk = 0; kk < K; ++kk) {
        std::vector<double> next(gk.size(), 0.0);
        for (Index i = 0; i < g.n; ++i) {
          for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
            const Index j = columns[e];
            double s = 0.0;
            for (int d = 0; d < D; ++d) {
              s += gk[i * D + d] * y[kk + 1][j * D + d];
              next[j * D + d] += ad[e] * gk[i * D + d];  // (A^T dY_k)_j as a scatter
            }
            da[e] += s;
          }
        }
        gk = std::move(next);
        for (std::size_t x = 0; x < gk.size(); ++x) dvh[x] += theta[kk + 1] * gk[x];
        add_dtheta(kk + 1, gk);
      }
      // Dropout and edge-softmax backward, then dq and dk.
      std::vector<double> dqh(gk.size(), 0.0), dkh(gk.size(), 0.0);
      for (Index i = 0; i < len; ++i) {
        double dot = 0.0;
        for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
          da[e] *= multiplier(options, g, nnz, b, h, e);
          dot += a[e] * da[e];
        }
        for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
          const Index j = columns[e];
          const double ds = a[e] * (da[e] - dot) * scale;
          for (int d = 0; d < D; ++d) {
            dqh[i * D + d] += ds * static_cast<double>(k[off + j * g.width + h * D + d]);
            dkh[j * D + d] += ds * static_cast<double>(q[off + i * g.width + h * D + d]);
          }
        }
      }
      store_head(dqh, g, h, dq + off);
      store_head(dkh, g, h, dk + off);
      store_head(dvh, g, h, dv + off);
    }
  }
}

template void reference_forward<float>(const AttentionPlan&, const AttentionOptions&,
                                       const AttentionGeometry&, const float*, const float*,
                                       const float*, float*, AttentionSaved<float>*);
template void reference_forward<double>(const AttentionPlan&, const AttentionOptions&,
                                        const AttentionGeometry&, const double*, const double*,
                                        const double*, double*, AttentionSaved<double>*);
template void reference_backward<float>(const AttentionPlan&, const AttentionGeometry&,
                                        const float*, const float*, const float*,
                                        const AttentionSaved<float>&, const float*, float*, float*,
                                        float*, double*);
template void reference_backward<double>(const AttentionPlan&, const AttentionGeometry&,
                                         const double*, const double*, const double*,
                                         const AttentionSaved<double>&, const double*, double*,
                                         double*, double*, double*);

}  // namespace diffuser::attention::cpu
