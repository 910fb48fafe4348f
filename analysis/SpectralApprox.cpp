// Why: the approximation-of-full-attention study (`diffuser spectral approx`). Z on the pattern
// and Z of full attention come from the attention module; the distance between the diffused
// operator sum_k theta_k A^k and the full softmax operator F is measured row by row, applying
// the operator to blocks of basis vectors (rows e_i^T f(A) by Horner-free power accumulation),
// so nothing of size n x n is formed besides the dense module's own workspace.
#include "analysis/SpectralApprox.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"
#include "attention/DenseAttention.hpp"
#include "attention/SparseAttention.hpp"
#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "core/Rng.hpp"
#include "graph/Patterns.hpp"

namespace diffuser::analysis {

namespace {

using graph::Index;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Inputs of one length n: row-major [n, W] each, W = H·D.
struct Inputs {
  Index n = 0;
  std::int64_t width = 0;
  std::vector<double> q, k, v;
};

// The t-th output of SplitMix64 started at `seed`: independent stream seeds per tensor.
std::uint64_t derived_seed(std::uint64_t seed, int t) {
  std::uint64_t state = seed, out = 0;
  for (int r = 0; r <= t; ++r) out = splitmix64(state);
  return out;
}

std::vector<double> random_tensor(std::uint64_t seed, int tensor, std::size_t count, double sd) {
  Rng rng(derived_seed(seed, tensor));
  std::vector<double> x(count);
  for (double& e : x) e = sd * rng.normal();
  return x;
}

// Reads one of the --q/--k/--v files as a [n, W] float64 array.
std::vector<double> read_input(const std::string& option, const std::string& path, Index& n,
                               std::int64_t& width) {
  const NpyArray a = read_npy(path);
  DIFFUSER_CHECK(a.shape.size() == 2,
                 "spectral approx: {} {}: expected a 2-D array [n, H*D], got {} dimensions", option,
                 path, a.shape.size());
  DIFFUSER_CHECK(a.shape[0] >= 2 && a.shape[0] <= std::numeric_limits<Index>::max(),
                 "spectral approx: {} {}: n = {} tokens (need 2 <= n < 2^31)", option, path,
                 a.shape[0]);
  DIFFUSER_CHECK(a.shape[1] >= 1, "spectral approx: {} {}: width 0", option, path);
  n = static_cast<Index>(a.shape[0]);
  width = a.shape[1];
  return a.to_vector<double>();
}

// A row sample: all rows when count >= n, else `count` distinct rows by a partial Fisher-Yates
// shuffle (seeded by the input seed and n), sorted.
std::vector<Index> operator_rows(Index n, Index count, std::uint64_t seed) {
  std::vector<Index> rows(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) rows[i] = i;
  if (count >= n) return rows;
  Rng rng(derived_seed(seed ^ (static_cast<std::uint64_t>(n) << 32), 3));
  for (Index i = 0; i < count; ++i) {
    const auto j = i + static_cast<Index>(rng.uniform_below(static_cast<std::uint64_t>(n - i)));
    std::swap(rows[i], rows[j]);
  }
  rows.resize(static_cast<std::size_t>(count));
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Per-setting operator distance accumulators.
struct Distance {
  double sum = 0.0;
  double max = 0.0;
  std::int64_t rows = 0;
};

// Operator distance for one head: rows e_i^T sum_k theta_k A^k for the sampled rows i, in
// blocks of B rows held as n x B matrices (row j, column b = entry j of row rows[b]). Powers
// X_k = E^T A^k come from X_{k+1}[j, :] = sum_{edges (i, j)} a_ij X_k[i, :], a gather over the
// transposed pattern (each j summed by one thread in a fixed order: deterministic). Every
// setting accumulates theta_k X_k as the powers go by; the full softmax rows F[i, :] are
// computed in float64 from q_i and K. The first block is cross-checked against the Z of both
// attention calls (f(A) rows times V = Z_pattern rows, F rows times V = Z_full rows).
void operator_distance_head(const attention::AttentionPlan& plan,
                            const attention::AttentionSaved<double>& saved, const Inputs& in,
                            int heads, int h, const std::vector<Diffusion>& set,
                            const std::vector<Index>& rows, Index block,
                            const std::vector<std::vector<double>>& z_check,
                            const std::vector<double>& z_full, std::vector<Distance>& dist) {
  const Index n = in.n;
  const std::int64_t W = in.width;
  const int D = static_cast<int>(W / heads);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const graph::CsrGraph& t = plan.transposed();
  const auto perm = plan.transpose_perm();
  const std::int64_t nnz = plan.nnz();
  // Edge weights of head h in the transposed graph's edge order.
  std::vector<double> wt(static_cast<std::size_t>(nnz));
  for (std::int64_t e = 0; e < nnz; ++e) wt[e] = saved.weight(0, h, perm[e]);
  int kmax = 0;
  for (const Diffusion& s : set) kmax = std::max(kmax, s.degree());
  const auto B = static_cast<std::size_t>(block);
  const auto nn = static_cast<std::size_t>(n);
  std::vector<double> x(nn * B), y(nn * B), f(B * nn);
  std::vector<std::vector<double>> acc(set.size(), std::vector<double>(nn * B));
  std::vector<double> d(B * set.size());
  // Threads only where a block's work dwarfs the cost of a parallel region (~10 us, far more
  // on a loaded machine).
  const bool parallel = nnz * static_cast<std::int64_t>(B) >= (1 << 20);
  const auto* off = t.offsets().data();
  const auto* col = t.columns().data();

  for (std::size_t r0 = 0; r0 < rows.size(); r0 += B) {
    const std::size_t nb = std::min(B, rows.size() - r0);
    std::fill(x.begin(), x.end(), 0.0);
    for (std::size_t b = 0; b < nb; ++b) x[static_cast<std::size_t>(rows[r0 + b]) * B + b] = 1.0;
    for (auto& a : acc) std::fill(a.begin(), a.end(), 0.0);
#pragma omp parallel for schedule(static) if (parallel)
    for (std::size_t b = 0; b < nb; ++b) {
      // Full softmax row F[rows[r0 + b], :] (max-subtracted, float64).
      const double* qi = in.q.data() + static_cast<std::int64_t>(rows[r0 + b]) * W + h * D;
      double* fr = f.data() + b * nn;
      double m = -std::numeric_limits<double>::infinity();
      for (Index j = 0; j < n; ++j) {
        const double* kj = in.k.data() + static_cast<std::int64_t>(j) * W + h * D;
        double s = 0.0;
        for (int c = 0; c < D; ++c) s += qi[c] * kj[c];
        fr[j] = s * scale;
        m = std::max(m, fr[j]);
      }
      double sum = 0.0;
      for (Index j = 0; j < n; ++j) {
        fr[j] = std::exp(fr[j] - m);
        sum += fr[j];
      }
      for (Index j = 0; j < n; ++j) fr[j] /= sum;
    }
    for (int k = 0; k <= kmax; ++k) {
      // acc_c += theta_k X_k for every setting of degree >= k (one pass over X), then the
      // settings of degree k are complete: row-l1 distances of their rows to F.
      std::vector<std::pair<double*, double>> terms;
      std::vector<std::size_t> complete;
      for (std::size_t c = 0; c < set.size(); ++c) {
        const auto& theta = set[c].theta();
        if (k >= static_cast<int>(theta.size())) continue;
        if (theta[k] != 0.0) terms.emplace_back(acc[c].data(), theta[k]);
        if (k + 1 == static_cast<int>(theta.size())) complete.push_back(c);
      }
#pragma omp parallel for schedule(static) if (parallel)
      for (std::size_t e = 0; e < nn * B; ++e) {
        for (const auto& [a, th] : terms) a[e] += th * x[e];
      }
      const std::size_t pairs = complete.size() * nb;
#pragma omp parallel for schedule(static) if (parallel)
      for (std::size_t p = 0; p < pairs; ++p) {
        const double* a = acc[complete[p / nb]].data();
        const std::size_t b = p % nb;
        const double* fr = f.data() + b * nn;
        double sum = 0.0;
        for (std::size_t j = 0; j < nn; ++j) sum += std::abs(a[j * B + b] - fr[j]);
        d[p] = sum;
      }
      for (std::size_t p = 0; p < pairs; ++p) {
        Distance& dc = dist[complete[p / nb]];
        dc.sum += d[p];
        dc.max = std::max(dc.max, d[p]);
        ++dc.rows;
      }
      for (std::size_t c : complete) {
        if (r0 != 0) break;
        // Cross-check of the first block: sum_j acc[j, b] V[j, h] = Z_pattern[rows[b], h].
        const double* a = acc[c].data();
        double worst = 0.0, vmax = 1e-300;
        for (std::size_t b = 0; b < nb; ++b) {
          for (int cc = 0; cc < D; ++cc) {
            double sum = 0.0;
            for (std::size_t j = 0; j < nn; ++j) {
              const double vj = in.v[j * W + h * D + cc];
              sum += a[j * B + b] * vj;
              vmax = std::max(vmax, std::abs(vj));
            }
            worst = std::max(worst, std::abs(sum - z_check[c][b * W + h * D + cc]));
          }
        }
        DIFFUSER_CHECK(worst <= 1e-9 * vmax,
                       "spectral approx: internal check failed: rows of the diffused operator "
                       "({}) times V differ from sparse attention's Z by {} (head {})",
                       set[c].describe(), worst, h);
      }
      if (k == kmax) break;
#pragma omp parallel for schedule(dynamic, 256) if (parallel)
      for (Index j = 0; j < n; ++j) {
        double* out = y.data() + static_cast<std::size_t>(j) * B;
        std::fill(out, out + B, 0.0);
        for (Index e = off[j]; e < off[j + 1]; ++e) {
          const double w = wt[e];
          const double* src = x.data() + static_cast<std::size_t>(col[e]) * B;
          for (std::size_t b = 0; b < B; ++b) out[b] += w * src[b];
        }
      }
      x.swap(y);
    }
    if (r0 != 0) continue;
    // Cross-check of the full softmax rows: F rows times V = Z_full rows.
    double worst = 0.0, vmax = 1e-300;
    for (std::size_t b = 0; b < nb; ++b) {
      for (int cc = 0; cc < D; ++cc) {
        double s = 0.0;
        for (std::size_t j = 0; j < nn; ++j) {
          const double vj = in.v[j * W + h * D + cc];
          s += f[b * nn + j] * vj;
          vmax = std::max(vmax, std::abs(vj));
        }
        worst = std::max(worst,
                         std::abs(s - z_full[static_cast<std::size_t>(rows[b]) * W + h * D + cc]));
      }
    }
    DIFFUSER_CHECK(worst <= 1e-9 * vmax,
                   "spectral approx: internal check failed: full softmax rows times V differ "
                   "from dense attention's Z by {} (head {})",
                   worst, h);
  }
}

double frobenius_relative(const std::vector<double>& z, const std::vector<double>& ref) {
  long double num = 0, den = 0;
  for (std::size_t e = 0; e < z.size(); ++e) {
    const long double dd = static_cast<long double>(z[e]) - ref[e];
    num += dd * dd;
    den += static_cast<long double>(ref[e]) * ref[e];
  }
  return static_cast<double>(std::sqrt(num) / std::max(std::sqrt(den), 1e-300L));
}

void validate(const SpectralApprox& c, bool files) {
  DIFFUSER_CHECK(!c.patterns.empty(), "spectral approx: needs at least one --pattern");
  DIFFUSER_CHECK(!c.hops.empty(), "spectral approx: needs at least one --hops value");
  DIFFUSER_CHECK(files || !c.lengths.empty(),
                 "spectral approx: needs at least one --lengths value");
  std::set<Index> seen_n;
  for (Index n : c.lengths) {
    DIFFUSER_CHECK(n >= 2, "spectral approx: --lengths value {} is too small (n >= 2)", n);
    DIFFUSER_CHECK(seen_n.insert(n).second, "spectral approx: --lengths lists {} twice", n);
  }
  std::set<int> seen_k;
  for (int k : c.hops) {
    DIFFUSER_CHECK(k >= 0 && k <= Diffusion::kMaxHops,
                   "spectral approx: --hops value {} outside [0, {}]", k, Diffusion::kMaxHops);
    DIFFUSER_CHECK(seen_k.insert(k).second, "spectral approx: --hops lists {} twice", k);
  }
  const bool any_ppr = std::any_of(c.hops.begin(), c.hops.end(), [](int k) { return k > 0; });
  DIFFUSER_CHECK(!any_ppr || !c.alphas.empty(),
                 "spectral approx: --hops > 0 needs at least one --alpha value");
  std::set<double> seen_a;
  for (double a : c.alphas) {
    DIFFUSER_CHECK(std::isfinite(a) && a >= 0.0 && a <= 1.0,
                   "spectral approx: --alpha value {} outside [0, 1]", a);
    DIFFUSER_CHECK(seen_a.insert(a).second, "spectral approx: --alpha lists {} twice", a);
  }
  DIFFUSER_CHECK(c.heads >= 1, "spectral approx: --heads must be >= 1 (got {})", c.heads);
  DIFFUSER_CHECK(c.head_dim >= 1, "spectral approx: --head-dim must be >= 1 (got {})", c.head_dim);
  DIFFUSER_CHECK(std::isfinite(c.qk_std) && c.qk_std > 0.0,
                 "spectral approx: --qk-std must be finite and > 0 (got {})", c.qk_std);
  DIFFUSER_CHECK(c.operator_rows >= 0, "spectral approx: --operator-rows must be >= 0 (got {})",
                 c.operator_rows);
  const int given = !c.q_file.empty() + !c.k_file.empty() + !c.v_file.empty();
  DIFFUSER_CHECK(given == 0 || given == 3,
                 "spectral approx: give all three of --q, --k, --v or none (random inputs); got "
                 "{} of them",
                 given);
}

}  // namespace

std::vector<Diffusion> spectral_approx_settings(const SpectralApprox& c) {
  std::vector<Diffusion> out;
  for (int k : c.hops) {
    if (k == 0) {
      out.push_back(Diffusion::plain());
      continue;
    }
    for (double a : c.alphas) out.push_back(Diffusion::ppr(a, k));
  }
  return out;
}

void approximate_full_attention(const SpectralApprox& c,
                                const std::function<void(const SpectralApproxBlock&)>& sink) {
  const bool files = !c.q_file.empty() || !c.k_file.empty() || !c.v_file.empty();
  validate(c, files);
  std::vector<Index> lengths = c.lengths;
  Inputs file_inputs;
  std::string inputs_name;
  if (files) {
    Index nq = 0, nk = 0, nv = 0;
    std::int64_t wq = 0, wk = 0, wv = 0;
    file_inputs.q = read_input("--q", c.q_file, nq, wq);
    file_inputs.k = read_input("--k", c.k_file, nk, wk);
    file_inputs.v = read_input("--v", c.v_file, nv, wv);
    DIFFUSER_CHECK(nq == nk && nq == nv && wq == wk && wq == wv,
                   "spectral approx: --q {} is [{}, {}], --k {} is [{}, {}], --v {} is [{}, {}]; "
                   "they must have the same shape",
                   c.q_file, nq, wq, c.k_file, nk, wk, c.v_file, nv, wv);
    DIFFUSER_CHECK(wq % c.heads == 0,
                   "spectral approx: the width {} of --q {} is not a multiple of --heads {}", wq,
                   c.q_file, c.heads);
    for (Index n : lengths) {
      DIFFUSER_CHECK(n == nq,
                     "spectral approx: --lengths {} differs from n = {} of the input files (with "
                     "--q/--k/--v, give no --lengths or exactly that n)",
                     n, nq);
    }
    lengths = {nq};
    file_inputs.n = nq;
    file_inputs.width = wq;
    inputs_name = fmt::format("files(q={},k={},v={})", c.q_file, c.k_file, c.v_file);
  } else {
    inputs_name = fmt::format("normal(seed={},qk_std={})", c.input_seed, c.qk_std);
  }
  const std::int64_t width =
      files ? file_inputs.width : static_cast<std::int64_t>(c.heads) * c.head_dim;
  const int head_dim = static_cast<int>(width / c.heads);
  // Refuse up front any length whose full attention would not fit, before hours of work.
  for (Index n : lengths) {
    attention::AttentionGeometry g;
    g.batch = 1;
    g.n = n;
    g.heads = c.heads;
    g.head_dim = head_dim;
    g.width = width;
    const std::uint64_t need = attention::dense_attention_bytes(g, sizeof(double), false, true);
    const std::uint64_t limit = attention::default_dense_memory_limit();
    DIFFUSER_CHECK(need <= limit,
                   "spectral approx: full attention at n = {} with {} heads needs {:.1f} GiB of "
                   "float64 n x n buffers, above the limit of {:.1f} GiB (half the memory); use "
                   "smaller --lengths",
                   n, c.heads, need / 1073741824.0, limit / 1073741824.0);
  }
  const std::vector<Diffusion> set = spectral_approx_settings(c);

  const std::size_t total = c.patterns.size() * lengths.size();
  std::size_t done = 0;
  for (Index n : lengths) {
    Inputs in;
    if (files) {
      in = file_inputs;
    } else {
      const auto count = static_cast<std::size_t>(n) * static_cast<std::size_t>(width);
      in.n = n;
      in.width = width;
      in.q = random_tensor(c.input_seed, 0, count, c.qk_std);
      in.k = random_tensor(c.input_seed, 1, count, c.qk_std);
      in.v = random_tensor(c.input_seed, 2, count, 1.0);
    }
    const attention::AttentionInputs<double> inputs{in.q, in.k, in.v, 1, {}};
    attention::AttentionOptions plain;
    plain.heads = c.heads;
    const auto tf = Clock::now();
    std::vector<double> z_full(in.q.size());
    attention::dense_attention_forward<double>(n, nullptr, plain, inputs, z_full);
    const double full_s = seconds_since(tf);
    const std::vector<Index> rows = c.operator_rows > 0
                                        ? operator_rows(n, c.operator_rows, c.input_seed)
                                        : std::vector<Index>{};
    // Rows per block: at most 32, and the n x B buffers (settings + 3 of them) within 256 MiB.
    const double per_row = static_cast<double>(set.size() + 3) * n * sizeof(double);
    const Index block = std::clamp<Index>(static_cast<Index>(268435456.0 / per_row), 1, 32);
    const std::size_t check_rows = std::min<std::size_t>(rows.size(), block);

    for (const auto& [name, spec] : c.patterns) {
      const auto t0 = Clock::now();
      const graph::CsrGraph g = graph::build_pattern(n, spec);
      const attention::AttentionPlan plan(g);
      attention::AttentionSaved<double> saved;
      std::vector<double> z(in.q.size());
      attention::sparse_attention_forward<double>(plan, plain, inputs, z, &saved);
      std::vector<double> errors;
      std::vector<std::vector<double>> z_check(set.size());
      for (std::size_t s = 0; s < set.size(); ++s) {
        attention::AttentionOptions o = plain;
        o.diffusion = set[s];
        attention::sparse_attention_forward<double>(plan, o, inputs, z);
        errors.push_back(frobenius_relative(z, z_full));
        for (std::size_t b = 0; b < check_rows; ++b) {
          const auto* row = z.data() + static_cast<std::size_t>(rows[b]) * width;
          z_check[s].insert(z_check[s].end(), row, row + width);
        }
      }
      std::vector<Distance> dist(set.size());
      for (int h = 0; h < c.heads && !rows.empty(); ++h) {
        operator_distance_head(plan, saved, in, c.heads, h, set, rows, block, z_check, z_full,
                               dist);
      }
      const double pattern_s = seconds_since(t0);
      SpectralApproxBlock out{++done, total, {}};
      for (std::size_t s = 0; s < set.size(); ++s) {
        const Distance& d = dist[s];
        SpectralApproxRow r{name,   spec,      n,           g.nnz(), c.heads, head_dim, inputs_name,
                            set[s], errors[s], rows.size(), {},      {},      full_s,   pattern_s};
        if (d.rows > 0) {
          r.op_l1_mean = d.sum / static_cast<double>(d.rows);
          r.op_l1_max = d.max;
        }
        out.rows.push_back(std::move(r));
      }
      sink(out);
    }
  }
}

}  // namespace diffuser::analysis
