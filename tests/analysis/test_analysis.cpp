// Why: the analysis module against small closed forms and brute force: the dense pattern with
// K = 0 is full attention (distance 0), the approximation errors of a window pattern equal a
// dense float64 computation written here from the definitions, and epsilon vs K equals the
// largest non-trivial |p_K(mu)| over a dense eigen-decomposition of M.
#include <Eigen/Dense>

#include <cmath>
#include <span>
#include <vector>

#include "analysis/HopEpsilon.hpp"
#include "analysis/SpectralApprox.hpp"
#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "core/Rng.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using Catch::Matchers::Contains;
using graph::Index;

namespace {

Eigen::MatrixXd random_matrix(std::uint64_t seed, Index rows, Index cols) {
  Rng rng(seed);
  Eigen::MatrixXd m(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  }
  return m;
}

void write_matrix(const std::string& path, const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  for (Index i = 0; i < m.rows(); ++i) {
    for (Index j = 0; j < m.cols(); ++j) v[static_cast<std::size_t>(i * m.cols() + j)] = m(i, j);
  }
  write_npy(path, NpyArray::from<double>(std::span<const double>(v), {m.rows(), m.cols()}));
}

// Row softmax of Q K^T / sqrt(D), restricted to the pattern's edges (all keys when null).
Eigen::MatrixXd softmax(const Eigen::MatrixXd& q, const Eigen::MatrixXd& k,
                        const graph::CsrGraph* pattern) {
  const Index n = static_cast<Index>(q.rows());
  Eigen::MatrixXd s = q * k.transpose() / std::sqrt(static_cast<double>(q.cols()));
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(n, n);
  for (Index i = 0; i < n; ++i) {
    std::vector<Index> keys;
    if (pattern) {
      for (Index j : pattern->row(i)) keys.push_back(j);
    } else {
      for (Index j = 0; j < n; ++j) keys.push_back(j);
    }
    double m = -1e300, sum = 0;
    for (Index j : keys) m = std::max(m, s(i, j));
    for (Index j : keys) sum += a(i, j) = std::exp(s(i, j) - m);
    for (Index j : keys) a(i, j) /= sum;
  }
  return a;
}

}  // namespace

TEST_CASE("spectral approx: settings order and the one hop convention", "[cpu][analysis]") {
  analysis::SpectralApprox c;
  c.hops = {0, 2};
  c.alphas = {0.1, 0.5};
  const auto s = analysis::spectral_approx_settings(c);
  REQUIRE(s.size() == 3);
  CHECK(s[0] == Diffusion::plain());
  CHECK(s[1] == Diffusion::ppr(0.1, 2));
  CHECK(s[2] == Diffusion::ppr(0.5, 2));
}

TEST_CASE("spectral approx equals a dense float64 computation", "[cpu][analysis]") {
  testing::TempDir dir;
  const Index n = 14;
  const int heads = 2, dim = 3;
  const Eigen::MatrixXd q = random_matrix(1, n, heads * dim), k = random_matrix(2, n, heads * dim),
                        v = random_matrix(3, n, heads * dim);
  write_matrix(dir.file("q.npy"), q);
  write_matrix(dir.file("k.npy"), k);
  write_matrix(dir.file("v.npy"), v);
  analysis::SpectralApprox c;
  const graph::PatternSpec window = graph::parse_pattern_spec("window=2,random=1,seed=5");
  c.patterns = {{"window", window}, {"full", graph::parse_pattern_spec("preset=full")}};
  c.lengths = {};
  c.hops = {0, 1, 3};
  c.alphas = {0.3};
  c.heads = heads;
  c.q_file = dir.file("q.npy");
  c.k_file = dir.file("k.npy");
  c.v_file = dir.file("v.npy");
  c.operator_rows = n;  // every row
  std::vector<analysis::SpectralApproxBlock> blocks;
  analysis::approximate_full_attention(
      c, [&](const analysis::SpectralApproxBlock& b) { blocks.push_back(b); });
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0].index == 1);
  CHECK(blocks[1].total == 2);
  const graph::CsrGraph g = graph::build_pattern(n, window);
  for (const auto& block : blocks) {
    REQUIRE(block.rows.size() == 3);
    const bool full = block.rows.front().pattern == "full";
    for (const analysis::SpectralApproxRow& r : block.rows) {
      INFO(r.pattern << " " << r.diffusion.describe());
      CHECK(r.n == n);
      CHECK(r.op_rows == static_cast<std::size_t>(n));
      REQUIRE(r.op_l1_mean.has_value());
      // Per head: Z_pattern = f(A_h) V_h, Z_full = F_h V_h; operator rows d_i = |f(A)_i - F_i|_1.
      double num = 0, den = 0, l1_sum = 0, l1_max = 0;
      for (int h = 0; h < heads; ++h) {
        const Eigen::MatrixXd qh = q.middleCols(h * dim, dim), kh = k.middleCols(h * dim, dim),
                              vh = v.middleCols(h * dim, dim);
        const Eigen::MatrixXd a = softmax(qh, kh, full ? nullptr : &g),
                              f = softmax(qh, kh, nullptr);
        Eigen::MatrixXd poly = Eigen::MatrixXd::Zero(n, n), power = Eigen::MatrixXd::Identity(n, n);
        for (double th : r.diffusion.theta()) {
          poly += th * power;
          power = (power * a).eval();
        }
        num += (poly * vh - f * vh).squaredNorm();
        den += (f * vh).squaredNorm();
        for (Index i = 0; i < n; ++i) {
          const double d = (poly.row(i) - f.row(i)).lpNorm<1>();
          l1_sum += d;
          l1_max = std::max(l1_max, d);
        }
      }
      const double z_rel = std::sqrt(num / den);
      CHECK(r.z_rel_error == Approx(z_rel).epsilon(1e-9).margin(1e-13));
      CHECK(*r.op_l1_mean == Approx(l1_sum / (heads * n)).epsilon(1e-9).margin(1e-13));
      CHECK(*r.op_l1_max == Approx(l1_max).epsilon(1e-9).margin(1e-13));
      // The dense pattern with K = 0 is full attention: distance 0.
      if (full && r.diffusion.hops() == 0) {
        CHECK(r.z_rel_error < 1e-13);
        CHECK(*r.op_l1_max < 1e-13);
      }
    }
  }
}

TEST_CASE("spectral approx refuses bad settings naming them", "[cpu][analysis]") {
  analysis::SpectralApprox c;
  c.patterns = {{"w", graph::parse_pattern_spec("window=1")}};
  c.lengths = {8};
  c.hops = {2000};
  const auto ignore = [](const analysis::SpectralApproxBlock&) {};
  CHECK_THROWS_WITH(analysis::approximate_full_attention(c, ignore),
                    Contains("--hops value 2000 outside [0, 1024]"));
  c.hops = {1};
  c.alphas = {1.5};
  CHECK_THROWS_WITH(analysis::approximate_full_attention(c, ignore),
                    Contains("--alpha value 1.5 outside [0, 1]"));
}

TEST_CASE("epsilon vs K equals the dense eigen-decomposition", "[cpu][analysis]") {
  const Index n = 40;
  const graph::CsrGraph g =
      graph::build_pattern(n, graph::parse_pattern_spec("window=2,random=2,seed=9"));
  // M = D^-1/2 S D^-1/2 of the symmetrised 0/1 pattern, dense.
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(n, n);
  for (Index i = 0; i < n; ++i) {
    for (Index j : g.row(i)) s(i, j) = s(j, i) = 1.0;
  }
  const Eigen::VectorXd d = s.rowwise().sum().cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd m = d.asDiagonal() * s * d.asDiagonal();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m);
  std::vector<double> mu(es.eigenvalues().data(), es.eigenvalues().data() + n);
  std::sort(mu.rbegin(), mu.rend());
  REQUIRE(mu[0] == Approx(1.0).epsilon(1e-12));
  const spectral::GraphSpectrum spectrum = spectral::graph_spectrum(g);
  REQUIRE(spectrum.components == 1);
  const std::vector<int> hops{0, 1, 2, 5, 10};
  const double alpha = 0.2;
  const auto exact = analysis::epsilon_vs_hops(spectrum, mu, alpha, hops);
  const auto bound = analysis::epsilon_vs_hops(spectrum, {}, alpha, hops);
  REQUIRE(exact.size() == hops.size());
  for (std::size_t h = 0; h < hops.size(); ++h) {
    INFO("K = " << hops[h]);
    // p_K(mu) = (1-alpha)^K mu^K + alpha sum_{k<K} (1-alpha)^k mu^k; K = 0: p(mu) = mu.
    double eps = 0;
    for (std::size_t i = 1; i < mu.size(); ++i) {
      double p = hops[h] == 0 ? mu[i] : std::pow((1 - alpha) * mu[i], hops[h]);
      for (int k = 0; k < hops[h]; ++k) p += alpha * std::pow((1 - alpha) * mu[i], k);
      eps = std::max(eps, std::abs(p));
    }
    CHECK(exact[h].exact);
    CHECK(exact[h].epsilon == Approx(eps).epsilon(1e-12).margin(1e-14));
    CHECK(exact[h].diffusion == Diffusion::ppr(alpha, hops[h]));
    // Without all eigenvalues: the bound over [mu_min, mu2], never below the exact value.
    const spectral::DiffusedSpectrum ds =
        spectral::diffused_spectrum(spectrum, Diffusion::ppr(alpha, hops[h]));
    CHECK_FALSE(bound[h].exact);
    CHECK(bound[h].epsilon == ds.mu_star);
    CHECK(bound[h].epsilon >= eps - 1e-9);
    CHECK(bound[h].second_largest == ds.second_largest);
    CHECK(bound[h].gap == ds.gap);
  }
  CHECK_THROWS_WITH(analysis::epsilon_vs_hops(spectrum, mu, 1.5, hops), Contains("alpha = 1.5"));
}
