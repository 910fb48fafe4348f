// Why: the forward pass against closed forms — the dense definition Σ θ_k A^k V, the PPR
// resolvent α (I − (1−α) A)^{-1} V from a dense solve, and the documented behaviour of padding,
// empty key sets and the degenerate polynomials (the coefficient families themselves:
// tests/core/test_diffusion.cpp).
#include <Eigen/Dense>
#include <cmath>

#include "attention/SparseAttention.hpp"
#include "core/Diffusion.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using diffuser::Diffusion;
using namespace diffuser::attention::test;
using diffuser::testing::rel_error;

namespace {

struct Case {
  const char* name;
  PatternKind kind;
  Index n;
  int heads, dim;
  std::vector<Index> lengths;  // batch = lengths.size()
  Diffusion diffusion;
};

std::vector<Case> closed_form_cases() {
  return {
      {"random, PPR 5 hops", {0.3}, 23, 2, 5, {23}, Diffusion::ppr(0.1, 5)},
      {"global rows + self-only rows, heat",
       {0.15, true, false, 2, 4},
       31,
       3,
       4,
       {31, 31},
       Diffusion::heat(1.5, 4)},
      {"causal, padded batch",
       {0.4, true, true},
       19,
       1,
       7,
       {19, 11, 1, 0},
       Diffusion::ppr(0.25, 3)},
      {"plain attention, odd sizes", {0.5}, 13, 3, 3, {13, 9}, Diffusion::plain()},
      {"explicit coefficients",
       {0.2, true, false, 1, 3},
       17,
       2,
       9,
       {17, 16},
       Diffusion::from_coefficients({0.1, -0.2, 0.5, 0.6})},
  };
}

}  // namespace

TEST_CASE("Forward equals the dense closed form sum_k theta_k A^k V", "[attention][forward]") {
  // Tolerance: fp32 kernels vs a double oracle on O(1) inputs. Each output is a short chain of
  // sums of at most n products per hop; fp32 rounding (6e-8 per operation) stays well below the
  // issue's 1e-5 bound. Double paths must agree to 1e-12.
  std::uint64_t seed = 100;
  for (const Case& c : closed_form_cases()) {
    SECTION(c.name) {
      const auto pattern = random_pattern(c.n, c.kind, seed++);
      const AttentionPlan plan(pattern);
      const auto batch = static_cast<std::int64_t>(c.lengths.size());
      const std::size_t size = static_cast<std::size_t>(batch) * c.n * c.heads * c.dim;
      const auto q = random_tensor<double>(size, 1), k = random_tensor<double>(size, 2),
                 v = random_tensor<double>(size, 3);
      const auto expected =
          oracle_forward(pattern, c.heads, c.dim, batch, c.lengths, q, k, v, c.diffusion.theta());
      AttentionOptions o;
      o.heads = c.heads;
      o.diffusion = c.diffusion;
      for (const Kernels kernels : {Kernels::kOptimized, Kernels::kReference}) {
        const auto z32 = run_forward<float>(plan, o, convert<float>(q), convert<float>(k),
                                            convert<float>(v), batch, c.lengths, nullptr, kernels);
        CHECK(rel_error(z32, expected) <= 1e-5);
        const auto z64 = run_forward<double>(plan, o, q, k, v, batch, c.lengths, nullptr, kernels);
        CHECK(rel_error(z64, expected) <= 1e-12);
      }
    }
  }
}

TEST_CASE("PPR with many hops equals alpha (I - (1 - alpha) A)^{-1} V", "[attention][forward]") {
  // The truncated series differs from the resolvent by at most 2 (1-alpha)^K ||V|| (the tail
  // mass moved onto the last term); with alpha = 0.2, K = 150 that is ~ 5e-15.
  const Index n = 40;
  const int heads = 2, dim = 6;
  const double alpha = 0.2;
  const auto pattern = random_pattern(n, {0.15, true, false, 1}, 7);
  const AttentionPlan plan(pattern);
  const std::size_t size = static_cast<std::size_t>(n) * heads * dim;
  const auto q = random_tensor<double>(size, 11), k = random_tensor<double>(size, 12),
             v = random_tensor<double>(size, 13);
  AttentionOptions o;
  o.heads = heads;
  o.diffusion = Diffusion::ppr(alpha, 150);
  const auto z = run_forward<double>(plan, o, q, k, v, 1, {}, nullptr);
  const auto z32 = run_forward<float>(plan, o, convert<float>(q), convert<float>(k),
                                      convert<float>(v), 1, {}, nullptr);
  std::vector<double> expected(size);
  for (int h = 0; h < heads; ++h) {
    const auto a = oracle_attention_matrix(pattern, heads, dim, 0, n, q, k, h);
    Eigen::MatrixXd m = Eigen::MatrixXd::Identity(n, n);
    Eigen::MatrixXd vh(n, dim);
    for (Index i = 0; i < n; ++i) {
      for (Index j = 0; j < n; ++j) m(i, j) -= (1 - alpha) * a[static_cast<std::size_t>(i) * n + j];
      for (int d = 0; d < dim; ++d) vh(i, d) = v[i * heads * dim + h * dim + d];
    }
    const Eigen::MatrixXd zh = alpha * m.partialPivLu().solve(vh);
    for (Index i = 0; i < n; ++i) {
      for (int d = 0; d < dim; ++d) expected[i * heads * dim + h * dim + d] = zh(i, d);
    }
  }
  CHECK(rel_error(z, expected) <= 1e-10);
  CHECK(rel_error(z32, expected) <= 1e-5);
}

TEST_CASE("PPR polynomial equals the recurrence Z_{k+1} = (1-alpha) A Z_k + alpha V",
          "[attention][forward]") {
  const Index n = 16;
  const auto pattern = random_pattern(n, {0.3}, 21);
  const AttentionPlan plan(pattern);
  const auto q = random_tensor<double>(n * 4, 1), k = random_tensor<double>(n * 4, 2),
             v = random_tensor<double>(n * 4, 3);
  AttentionOptions o;
  o.heads = 2;
  o.diffusion = Diffusion::ppr(0.3, 4);
  const auto z = run_forward<double>(plan, o, q, k, v, 1, {}, nullptr);
  std::vector<double> expected(z.size());
  for (int h = 0; h < 2; ++h) {
    const auto a = oracle_attention_matrix(pattern, 2, 2, 0, n, q, k, h);
    std::vector<double> zk(n * 2), vh(n * 2);
    for (Index i = 0; i < n; ++i) {
      for (int d = 0; d < 2; ++d) zk[i * 2 + d] = vh[i * 2 + d] = v[i * 4 + h * 2 + d];
    }
    for (int step = 0; step < 4; ++step) {
      std::vector<double> next(zk.size());
      for (Index i = 0; i < n; ++i) {
        for (int d = 0; d < 2; ++d) {
          double s = 0;
          for (Index j = 0; j < n; ++j) s += a[i * n + j] * zk[j * 2 + d];
          next[i * 2 + d] = 0.7 * s + 0.3 * vh[i * 2 + d];
        }
      }
      zk = next;
    }
    for (Index i = 0; i < n; ++i) {
      for (int d = 0; d < 2; ++d) expected[i * 4 + h * 2 + d] = zk[i * 2 + d];
    }
  }
  CHECK(rel_error(z, expected) <= 1e-13);
}

TEST_CASE("Padding: padded rows are zero, padded keys contribute nothing", "[attention][forward]") {
  const Index n = 12;
  const auto pattern = random_pattern(n, {0.6}, 5);
  const AttentionPlan plan(pattern);
  const std::size_t seq = n * 6;
  auto q = random_tensor<double>(2 * seq, 1), k = random_tensor<double>(2 * seq, 2),
       v = random_tensor<double>(2 * seq, 3);
  AttentionOptions o;
  o.heads = 2;
  o.diffusion = Diffusion::ppr(0.1, 3);
  const std::vector<Index> lengths{7, 0};
  const auto z = run_forward<double>(plan, o, q, k, v, 2, lengths, nullptr);
  // Changing padded tokens' q, k, v must not change anything.
  for (std::size_t x = 7 * 6; x < seq; ++x) q[x] = k[x] = v[x] = 1e3;
  for (std::size_t x = seq; x < 2 * seq; ++x) q[x] = k[x] = v[x] = -5;
  const auto z2 = run_forward<double>(plan, o, q, k, v, 2, lengths, nullptr);
  CHECK(z == z2);
  for (std::size_t x = 7 * 6; x < 2 * seq; ++x) REQUIRE(z[x] == 0.0);
}

TEST_CASE("A valid row whose keys are all padded receives nothing from A", "[attention][forward]") {
  // Row 0 attends only to key 4; with length 4 that key is padded, so row 0 of A is zero and
  // z_0 = theta_0 v_0 (0 for plain attention). Other rows have self-loops.
  const Index n = 5;
  std::vector<Index> rows{0, 1, 2, 3, 4, 1}, cols{4, 1, 2, 3, 4, 0};
  const AttentionPlan plan(diffuser::graph::CsrGraph::from_edges(n, rows, cols));
  const auto q = random_tensor<double>(n * 3, 1), k = random_tensor<double>(n * 3, 2),
             v = random_tensor<double>(n * 3, 3);
  for (const Kernels kernels : {Kernels::kOptimized, Kernels::kReference}) {
    AttentionOptions o;
    o.heads = 1;
    o.diffusion = Diffusion::ppr(0.2, 2);
    AttentionSaved<double> saved;
    const auto z = run_forward<double>(plan, o, q, k, v, 1, {4}, &saved, kernels);
    for (int d = 0; d < 3; ++d) CHECK(z[d] == Approx(0.2 * v[d]).epsilon(1e-14));
    CHECK(saved.weight(0, 0, 0) == 0.0);
    o.diffusion = Diffusion::plain();
    const auto z_plain = run_forward<double>(plan, o, q, k, v, 1, {4}, nullptr, kernels);
    for (int d = 0; d < 3; ++d) CHECK(z_plain[d] == 0.0);
  }
}

TEST_CASE("Degree-0 polynomial and a single-token sequence", "[attention][forward]") {
  const AttentionPlan one(random_pattern(1, {}, 1));
  AttentionOptions o;
  o.heads = 1;
  o.diffusion = Diffusion::ppr(0.1, 5);
  const std::vector<double> q{0.3, -1}, k{2, 1}, v{4, -2};
  // A = [1]: every power is the identity, so Z = (sum theta) V = V up to rounding of the sum.
  CHECK(rel_error(run_forward<double>(one, o, q, k, v, 1, {}, nullptr), v) <= 1e-15);
  o.diffusion = Diffusion::from_coefficients({0.5});
  const AttentionPlan plan(random_pattern(6, {0.5}, 2));
  const auto vv = random_tensor<double>(12, 3);
  const auto z = run_forward<double>(plan, o, vv, vv, vv, 1, {4}, nullptr);
  for (std::size_t x = 0; x < 12; ++x) CHECK(z[x] == (x < 8 ? 0.5 * vv[x] : 0.0));
}

TEST_CASE("Padded query rows give zero output and zero gradients for every K, both kernels",
          "[attention][forward][padding]") {
  // docs/design.md: "padded query rows produce zeros". K = 0 (theta = (theta_0), Z = theta_0 V) is
  // the case no hop zeroes, so each kernel must zero those rows itself. Valid rows are compared
  // with the dense oracle in double (1e-13: a few roundings per product on n = 10).
  const Index n = 10;
  const int heads = 2, dim = 3;
  const auto pattern = random_pattern(n, {0.4}, 11);
  const AttentionPlan plan(pattern);
  const std::vector<Index> lengths{6, 10, 0};
  const std::size_t seq = n * heads * dim, size = 3 * seq;
  const auto q = random_tensor<double>(size, 1), k = random_tensor<double>(size, 2),
             v = random_tensor<double>(size, 3), dz = random_tensor<double>(size, 4);
  const std::vector<Diffusion> polys{Diffusion::from_coefficients({0.7}), Diffusion::plain(),
                                     Diffusion::from_coefficients({0.5, -0.25, 0.75}),
                                     Diffusion::ppr(0.2, 3)};
  for (const Diffusion& d : polys) {
    for (const Kernels kernels : {Kernels::kOptimized, Kernels::kReference}) {
      INFO(d.describe() << (kernels == Kernels::kReference ? ", reference" : ", optimised"));
      AttentionOptions o;
      o.heads = heads;
      o.diffusion = d;
      AttentionSaved<double> saved;
      const auto z = run_forward<double>(plan, o, q, k, v, 3, lengths, &saved, kernels);
      const auto g = run_backward<double>(plan, q, k, v, 3, lengths, saved, dz, kernels);
      for (std::size_t b = 0; b < lengths.size(); ++b) {
        for (std::size_t x = lengths[b] * heads * dim; x < seq; ++x) {
          const std::size_t at = b * seq + x;
          REQUIRE(z[at] == 0.0);
          REQUIRE(g.dq[at] == 0.0);
          REQUIRE(g.dk[at] == 0.0);
          REQUIRE(g.dv[at] == 0.0);
        }
      }
      CHECK(rel_error(z, oracle_forward(pattern, heads, dim, 3, lengths, q, k, v, d.theta())) <=
            1e-13);
    }
  }
}
