// Why: backward must be the exact derivative of forward. Every input (q, k, v and the diffusion
// coefficients theta) is checked by central differences in double, with padding, dropout, both
// memory modes and both kernel sets, and for the dense path too.
#include <cmath>

#include "attention/DenseAttention.hpp"
#include "attention/SparseAttention.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using diffuser::Diffusion;
using namespace diffuser::attention::test;
using diffuser::testing::rel_error;

namespace {

// Central differences of L(x) = sum(z(x) ⊙ dz) with step 1e-6. In double the truncation error
// is O(h^2 L''') ~ 1e-12 and the rounding error ~ 1e-16 |L| / h ~ 1e-9 on these O(1)-sized
// problems, so 1e-6 relative error leaves a margin of ~100x while any real bug (a missing term,
// a wrong transpose) gives O(1).
constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-6;

struct Problem {
  diffuser::graph::CsrGraph pattern;
  int heads, dim;
  std::vector<Index> lengths;
  std::vector<double> q, k, v, dz;
  AttentionOptions options;
  std::int64_t batch() const { return static_cast<std::int64_t>(lengths.size()); }
};

Problem make_problem(const PatternKind& kind, Index n, int heads, int dim,
                     std::vector<Index> lengths, Diffusion diffusion, double dropout,
                     MemoryMode memory, std::uint64_t seed) {
  Problem p{random_pattern(n, kind, seed), heads, dim, std::move(lengths), {}, {}, {}, {}, {}};
  const std::size_t size = static_cast<std::size_t>(p.batch()) * n * heads * dim;
  p.q = random_tensor<double>(size, seed + 1);
  p.k = random_tensor<double>(size, seed + 2);
  p.v = random_tensor<double>(size, seed + 3);
  p.dz = random_tensor<double>(size, seed + 4);
  p.options.heads = heads;
  p.options.diffusion = std::move(diffusion);
  p.options.dropout = dropout;
  p.options.seed = 99;
  p.options.stream = 3;
  p.options.memory = memory;
  return p;
}

// Loss through the sparse path (or the dense path when `dense`).
long double loss(const Problem& p, const AttentionPlan& plan, const AttentionOptions& o,
                 const std::vector<double>& q, const std::vector<double>& k,
                 const std::vector<double>& v, Kernels kernels, bool dense) {
  if (dense) {
    auto z = diffuser::testing::poisoned<double>(q.size());
    dense_attention_forward<double>(plan.n(), &p.pattern, o,
                                    AttentionInputs<double>{q, k, v, p.batch(), p.lengths}, z);
    return inner(z, p.dz);
  }
  return inner(run_forward<double>(plan, o, q, k, v, p.batch(), p.lengths, nullptr, kernels), p.dz);
}

std::vector<double> numeric_gradient(const Problem& p, const AttentionPlan& plan, int which,
                                     Kernels kernels, bool dense) {
  std::vector<double> q = p.q, k = p.k, v = p.v;
  std::vector<double>& x = which == 0 ? q : which == 1 ? k : v;
  std::vector<double> grad(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + kStep;
    const long double up = loss(p, plan, p.options, q, k, v, kernels, dense);
    x[i] = keep - kStep;
    const long double down = loss(p, plan, p.options, q, k, v, kernels, dense);
    x[i] = keep;
    grad[i] = static_cast<double>((up - down) / (2 * kStep));
  }
  return grad;
}

std::vector<double> numeric_theta_gradient(const Problem& p, const AttentionPlan& plan,
                                           Kernels kernels, bool dense) {
  const auto theta = p.options.diffusion.theta();
  std::vector<double> grad(theta.size());
  for (std::size_t i = 0; i < theta.size(); ++i) {
    AttentionOptions o = p.options;
    auto t = theta;
    t[i] += kStep;
    o.diffusion = Diffusion::from_coefficients(t);
    const long double up = loss(p, plan, o, p.q, p.k, p.v, kernels, dense);
    t[i] = theta[i] - kStep;
    o.diffusion = Diffusion::from_coefficients(t);
    const long double down = loss(p, plan, o, p.q, p.k, p.v, kernels, dense);
    grad[i] = static_cast<double>((up - down) / (2 * kStep));
  }
  return grad;
}

Grads<double> analytic_gradients(const Problem& p, const AttentionPlan& plan, Kernels kernels,
                                 bool dense) {
  if (!dense) {
    AttentionSaved<double> saved;
    run_forward<double>(plan, p.options, p.q, p.k, p.v, p.batch(), p.lengths, &saved, kernels);
    return run_backward<double>(plan, p.q, p.k, p.v, p.batch(), p.lengths, saved, p.dz, kernels);
  }
  DenseAttentionSaved<double> saved;
  auto z = diffuser::testing::poisoned<double>(p.q.size());
  const AttentionInputs<double> in{p.q, p.k, p.v, p.batch(), p.lengths};
  dense_attention_forward<double>(plan.n(), &p.pattern, p.options, in, z, &saved);
  Grads<double> g;
  g.dq = g.dk = g.dv = diffuser::testing::poisoned<double>(p.q.size());
  g.dtheta = diffuser::testing::poisoned<double>(p.options.diffusion.theta().size());
  dense_attention_backward<double>(plan.n(), &p.pattern, in, saved, p.dz,
                                   AttentionGradients<double>{g.dq, g.dk, g.dv, g.dtheta});
  return g;
}

void check_gradients(const Problem& p, Kernels kernels, bool dense) {
  const AttentionPlan plan(p.pattern);
  const Grads<double> g = analytic_gradients(p, plan, kernels, dense);
  const double eq = rel_error(g.dq, numeric_gradient(p, plan, 0, kernels, dense));
  const double ek = rel_error(g.dk, numeric_gradient(p, plan, 1, kernels, dense));
  const double ev = rel_error(g.dv, numeric_gradient(p, plan, 2, kernels, dense));
  const double et = rel_error(g.dtheta, numeric_theta_gradient(p, plan, kernels, dense));
  INFO("dq " << eq << " dk " << ek << " dv " << ev << " dtheta " << et);
  CHECK(eq <= kTolerance);
  CHECK(ek <= kTolerance);
  CHECK(ev <= kTolerance);
  CHECK(et <= kTolerance);
}

std::vector<std::pair<const char*, Problem>> problems() {
  std::vector<std::pair<const char*, Problem>> out;
  out.emplace_back("PPR K=5, stored hops",
                   make_problem({0.35, true, false, 1, 3}, 9, 2, 3, {9}, Diffusion::ppr(0.1, 5),
                                0.0, MemoryMode::kStoreHops, 10));
  out.emplace_back("heat K=3, recompute, padding + dropout",
                   make_problem({0.4}, 8, 2, 2, {8, 5}, Diffusion::heat(1.2, 3), 0.3,
                                MemoryMode::kRecompute, 20));
  out.emplace_back("causal, explicit theta, padded to 1",
                   make_problem({0.5, true, true}, 7, 1, 4, {7, 1},
                                Diffusion::from_coefficients({0.3, -0.4, 0.6, 0.5}), 0.0,
                                MemoryMode::kStoreHops, 30));
  out.emplace_back(
      "plain attention with dropout",
      make_problem({0.5}, 8, 3, 2, {6}, Diffusion::plain(), 0.25, MemoryMode::kStoreHops, 40));
  return out;
}

}  // namespace

TEST_CASE("Sparse gradients match central differences (optimised kernels)",
          "[attention][gradients]") {
  for (const auto& [name, p] : problems()) {
    SECTION(name) { check_gradients(p, Kernels::kOptimized, false); }
  }
}

TEST_CASE("Sparse gradients match central differences (reference kernels)",
          "[attention][gradients]") {
  for (const auto& [name, p] : problems()) {
    SECTION(name) { check_gradients(p, Kernels::kReference, false); }
  }
}

TEST_CASE("Dense gradients match central differences", "[attention][gradients][dense]") {
  for (const auto& [name, p] : problems()) {
    SECTION(name) { check_gradients(p, Kernels::kOptimized, true); }
  }
}
