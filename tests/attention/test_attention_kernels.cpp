// Why: the optimised CPU kernels must agree with the plain reference on every kind of row they
// special-case (self-loop only, global rows of degree n, causal rows, padding) and on sizes
// that are not multiples of the vector width; they must be bitwise deterministic for any thread
// count; dropout must follow its documented counter formula; and the two memory modes, and a
// batch versus single sequences, must give the same numbers. Tiny calls must not open OpenMP
// parallel regions (checked by counting the threads of a fresh process).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "attention/AttentionDropout.hpp"
#include "attention/SparseAttention.hpp"
#include "attention/cpu/OptimizedKernels.hpp"
#include "attention/cpu/RowMath.hpp"
#include "core/Threads.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using diffuser::Diffusion;
using namespace diffuser::attention::test;
using diffuser::testing::rel_error;

namespace {

struct KernelCase {
  const char* name;
  PatternKind kind;
  Index n;
  int heads, dim;
  std::vector<Index> lengths;
  Diffusion diffusion;
  double dropout;
  MemoryMode memory;
};

std::vector<KernelCase> kernel_cases() {
  return {
      {"self-loop-only rows and global rows",
       {0.1, true, false, 3, 4},
       67,
       3,
       13,
       {67},
       Diffusion::ppr(0.1, 5),
       0.0,
       MemoryMode::kStoreHops},
      {"causal with padding",
       {0.3, true, true},
       37,
       2,
       5,
       {37, 20, 1, 0},
       Diffusion::heat(2.0, 4),
       0.0,
       MemoryMode::kStoreHops},
      {"dense-ish rows, D = 1, dropout",
       {0.9},
       29,
       4,
       1,
       {29, 28},
       Diffusion::ppr(0.3, 2),
       0.2,
       MemoryMode::kRecompute},
      {"no self-loops, all-padded rows, D = 40",
       {0.1, false, false, 1},
       41,
       1,
       40,
       {41, 30},
       Diffusion::from_coefficients({0.2, 0.3, 0.1, 0.4}),
       0.1,
       MemoryMode::kStoreHops},
      {"plain attention, D = 33",
       {0.2, true, false, 2, 5},
       50,
       2,
       33,
       {50, 49},
       Diffusion::plain(),
       0.0,
       MemoryMode::kStoreHops},
      {"one token", {0.0}, 1, 2, 3, {1, 0}, Diffusion::ppr(0.1, 3), 0.5, MemoryMode::kRecompute},
  };
}

struct Outputs {
  std::vector<float> z;
  AttentionSaved<float> saved;
  Grads<float> grads;
};

Outputs run_all(const AttentionPlan& plan, const KernelCase& c, const std::vector<float>& q,
                const std::vector<float>& k, const std::vector<float>& v,
                const std::vector<float>& dz, Kernels kernels) {
  AttentionOptions o;
  o.heads = c.heads;
  o.diffusion = c.diffusion;
  o.dropout = c.dropout;
  o.seed = 1234;
  o.stream = 9;
  o.memory = c.memory;
  Outputs out;
  const auto batch = static_cast<std::int64_t>(c.lengths.size());
  out.z = run_forward<float>(plan, o, q, k, v, batch, c.lengths, &out.saved, kernels);
  out.grads = run_backward<float>(plan, q, k, v, batch, c.lengths, out.saved, dz, kernels);
  return out;
}

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("Optimised kernels match the reference kernels", "[attention][kernels]") {
  // Tolerance: both run in fp32 storage; the reference accumulates in double, the optimised
  // kernels in fp32 with a different summation order. Over K <= 5 hops of row sums of <= n
  // terms the fp32 error is ~1e-6 relative; the softmax backward subtracts a row mean
  // (cancellation), so gradients get 1e-4 at most.
  std::uint64_t seed = 500;
  for (const KernelCase& c : kernel_cases()) {
    SECTION(c.name) {
      const AttentionPlan plan(random_pattern(c.n, c.kind, seed++));
      const std::size_t size = c.lengths.size() * c.n * c.heads * c.dim;
      const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
                 v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
      const Outputs fast = run_all(plan, c, q, k, v, dz, Kernels::kOptimized);
      const Outputs ref = run_all(plan, c, q, k, v, dz, Kernels::kReference);
      CHECK(rel_error(fast.z, ref.z) <= 1e-5);
      CHECK(rel_error(fast.saved.attn, ref.saved.attn) <= 1e-5);
      CHECK(rel_error(fast.saved.attn_dropped, ref.saved.attn_dropped) <= 1e-5);
      CHECK(rel_error(fast.saved.hops, ref.saved.hops) <= 1e-5);
      CHECK(rel_error(fast.grads.dq, ref.grads.dq) <= 1e-4);
      CHECK(rel_error(fast.grads.dk, ref.grads.dk) <= 1e-4);
      CHECK(rel_error(fast.grads.dv, ref.grads.dv) <= 1e-5);
      CHECK(rel_error(fast.grads.dtheta, ref.grads.dtheta) <= 1e-5);
      // Cross-check: the reference backward consumes the optimised forward's saved state.
      const auto batch = static_cast<std::int64_t>(c.lengths.size());
      const auto mixed =
          run_backward<float>(plan, q, k, v, batch, c.lengths, fast.saved, dz, Kernels::kReference);
      CHECK(rel_error(fast.grads.dv, mixed.dv) <= 1e-5);
    }
  }
}

TEST_CASE("Optimised kernels match the reference in double", "[attention][kernels]") {
  const KernelCase c{"",  {0.25, true, false, 2, 6}, 45, 3, 7, {45, 30}, Diffusion::ppr(0.15, 4),
                     0.1, MemoryMode::kStoreHops};
  const AttentionPlan plan(random_pattern(c.n, c.kind, 77));
  const std::size_t size = 2 * c.n * c.heads * c.dim;
  const auto q = random_tensor<double>(size, 1), k = random_tensor<double>(size, 2),
             v = random_tensor<double>(size, 3), dz = random_tensor<double>(size, 4);
  AttentionOptions o;
  o.heads = c.heads;
  o.diffusion = c.diffusion;
  o.dropout = c.dropout;
  for (const MemoryMode memory : {MemoryMode::kStoreHops, MemoryMode::kRecompute}) {
    o.memory = memory;
    AttentionSaved<double> s1, s2;
    const auto z1 = run_forward<double>(plan, o, q, k, v, 2, c.lengths, &s1, Kernels::kOptimized);
    const auto z2 = run_forward<double>(plan, o, q, k, v, 2, c.lengths, &s2, Kernels::kReference);
    CHECK(rel_error(z1, z2) <= 1e-12);
    const auto g1 = run_backward<double>(plan, q, k, v, 2, c.lengths, s1, dz, Kernels::kOptimized);
    const auto g2 = run_backward<double>(plan, q, k, v, 2, c.lengths, s2, dz, Kernels::kReference);
    CHECK(rel_error(g1.dq, g2.dq) <= 1e-11);
    CHECK(rel_error(g1.dk, g2.dk) <= 1e-11);
    CHECK(rel_error(g1.dv, g2.dv) <= 1e-12);
    CHECK(rel_error(g1.dtheta, g2.dtheta) <= 1e-12);
  }
}

TEST_CASE("1 thread and 2 threads give bitwise identical results", "[attention][determinism]") {
  // Large enough for many row blocks, global rows of degree n next to short rows.
  const KernelCase c{"",  {0.05, true, false, 4, 7}, 300, 2, 16, {300, 170}, Diffusion::ppr(0.1, 5),
                     0.1, MemoryMode::kStoreHops};
  const AttentionPlan plan(random_pattern(c.n, c.kind, 3));
  const std::size_t size = 2 * c.n * c.heads * c.dim;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
  Outputs one, two;
  {
    diffuser::ThreadCountGuard guard(1);
    one = run_all(plan, c, q, k, v, dz, Kernels::kOptimized);
  }
  {
    diffuser::ThreadCountGuard guard(2);
    two = run_all(plan, c, q, k, v, dz, Kernels::kOptimized);
  }
  CHECK(bitwise_equal(one.z, two.z));
  CHECK(bitwise_equal(one.saved.attn, two.saved.attn));
  CHECK(bitwise_equal(one.saved.attn_dropped, two.saved.attn_dropped));
  CHECK(bitwise_equal(one.saved.hops, two.saved.hops));
  CHECK(bitwise_equal(one.grads.dq, two.grads.dq));
  CHECK(bitwise_equal(one.grads.dk, two.grads.dk));
  CHECK(bitwise_equal(one.grads.dv, two.grads.dv));
  CHECK(bitwise_equal(one.grads.dtheta, two.grads.dtheta));
}

TEST_CASE("Dropout mask follows the documented counter formula", "[attention][dropout]") {
  const Index n = 64;
  const int heads = 3;
  const AttentionPlan plan(random_pattern(n, {0.3}, 8));
  const std::int64_t nnz = plan.nnz();
  const std::size_t size = 2 * n * heads * 4;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3);
  AttentionOptions o;
  o.heads = heads;
  o.diffusion = Diffusion::ppr(0.1, 2);
  o.dropout = 0.3;
  o.seed = 42;
  o.stream = 7;
  AttentionSaved<float> saved;
  run_forward<float>(plan, o, q, k, v, 2, {}, &saved);
  const EdgeLayout layout = edge_layout(heads, nnz);
  std::int64_t kept = 0, total = 0;
  for (std::int64_t b = 0; b < 2; ++b) {
    for (int h = 0; h < heads; ++h) {
      for (std::int64_t e = 0; e < nnz; ++e) {
        const float u =
            diffuser::counter_uniform(42, 7, static_cast<std::uint64_t>((b * heads + h) * nnz + e));
        const float a = saved.attn[b * nnz * heads + layout.at(e, h)];
        const float expected = u >= 0.3f ? a * (1.0f / 0.7f) : 0.0f;
        REQUIRE(saved.attn_dropped[b * nnz * heads + layout.at(e, h)] == expected);
        kept += u >= 0.3f;
        ++total;
      }
    }
  }
  // Binomial(total, 0.7): 5 standard deviations.
  const double sd = std::sqrt(total * 0.7 * 0.3);
  CHECK(std::abs(kept - 0.7 * total) <= 5 * sd);

  SECTION("same seed and stream reproduce the mask; another stream changes it") {
    AttentionSaved<float> again, other;
    run_forward<float>(plan, o, q, k, v, 2, {}, &again);
    CHECK(bitwise_equal(saved.attn_dropped, again.attn_dropped));
    o.stream = 8;
    run_forward<float>(plan, o, q, k, v, 2, {}, &other);
    CHECK_FALSE(bitwise_equal(saved.attn_dropped, other.attn_dropped));
    CHECK(bitwise_equal(saved.attn, other.attn));
  }
  SECTION("the reference kernels draw the same mask") {
    AttentionSaved<float> ref;
    run_forward<float>(plan, o, q, k, v, 2, {}, &ref, Kernels::kReference);
    for (std::size_t x = 0; x < ref.attn_dropped.size(); ++x) {
      REQUIRE((ref.attn_dropped[x] == 0.0f) == (saved.attn_dropped[x] == 0.0f));
    }
  }
}

TEST_CASE("Stored and recomputed hop states give identical gradients", "[attention][memory]") {
  const AttentionPlan plan(random_pattern(80, {0.1, true, false, 2}, 4));
  const std::size_t size = 80 * 2 * 8;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
  AttentionOptions o;
  o.heads = 2;
  o.diffusion = Diffusion::ppr(0.1, 5);
  AttentionSaved<float> stored, recomputed;
  const auto z1 = run_forward<float>(plan, o, q, k, v, 1, {70}, &stored);
  o.memory = MemoryMode::kRecompute;
  const auto z2 = run_forward<float>(plan, o, q, k, v, 1, {70}, &recomputed);
  CHECK(bitwise_equal(z1, z2));
  CHECK(stored.hops.size() == 4 * size);
  CHECK(recomputed.hops.empty());
  CHECK(stored.bytes() - recomputed.bytes() == 4 * size * sizeof(float));
  const auto g1 = run_backward<float>(plan, q, k, v, 1, {70}, stored, dz);
  const auto g2 = run_backward<float>(plan, q, k, v, 1, {70}, recomputed, dz);
  CHECK(bitwise_equal(g1.dq, g2.dq));
  CHECK(bitwise_equal(g1.dk, g2.dk));
  CHECK(bitwise_equal(g1.dv, g2.dv));
  CHECK(bitwise_equal(g1.dtheta, g2.dtheta));
}

TEST_CASE("A batch equals its sequences run one by one", "[attention][batch]") {
  const Index n = 33;
  const AttentionPlan plan(random_pattern(n, {0.2, true, false, 1}, 6));
  const std::vector<Index> lengths{33, 17, 0};
  const std::size_t seq = n * 2 * 5;
  const auto q = random_tensor<float>(3 * seq, 1), k = random_tensor<float>(3 * seq, 2),
             v = random_tensor<float>(3 * seq, 3), dz = random_tensor<float>(3 * seq, 4);
  AttentionOptions o;
  o.heads = 2;
  o.diffusion = Diffusion::ppr(0.2, 3);
  AttentionSaved<float> saved;
  const auto z = run_forward<float>(plan, o, q, k, v, 3, lengths, &saved);
  const auto g = run_backward<float>(plan, q, k, v, 3, lengths, saved, dz);
  double dtheta_sum[4] = {0, 0, 0, 0};
  for (int b = 0; b < 3; ++b) {
    auto slice = [&](const std::vector<float>& x) {
      return std::vector<float>(x.begin() + b * seq, x.begin() + (b + 1) * seq);
    };
    AttentionSaved<float> one;
    const auto zb =
        run_forward<float>(plan, o, slice(q), slice(k), slice(v), 1, {lengths[b]}, &one);
    const auto gb =
        run_backward<float>(plan, slice(q), slice(k), slice(v), 1, {lengths[b]}, one, slice(dz));
    CHECK(bitwise_equal(zb, slice(z)));
    CHECK(bitwise_equal(gb.dq, slice(g.dq)));
    CHECK(bitwise_equal(gb.dk, slice(g.dk)));
    CHECK(bitwise_equal(gb.dv, slice(g.dv)));
    for (int t = 0; t < 4; ++t) dtheta_sum[t] += gb.dtheta[t];
  }
  for (int t = 0; t < 4; ++t) CHECK(g.dtheta[t] == Approx(dtheta_sum[t]).epsilon(1e-12));
}

TEST_CASE("Optimised vs reference on a larger window + global + random pattern",
          "[attention][kernels][slow]") {
  const KernelCase c{
      "",  {0.02, true, false, 8, 0}, 1500, 4, 32, {1500, 1111}, Diffusion::ppr(0.1, 5),
      0.1, MemoryMode::kStoreHops};
  const AttentionPlan plan(random_pattern(c.n, c.kind, 12));
  const std::size_t size = 2 * c.n * c.heads * c.dim;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
  const Outputs fast = run_all(plan, c, q, k, v, dz, Kernels::kOptimized);
  const Outputs ref = run_all(plan, c, q, k, v, dz, Kernels::kReference);
  CHECK(rel_error(fast.z, ref.z) <= 1e-5);
  CHECK(rel_error(fast.grads.dq, ref.grads.dq) <= 1e-4);
  CHECK(rel_error(fast.grads.dk, ref.grads.dk) <= 1e-4);
  CHECK(rel_error(fast.grads.dv, ref.grads.dv) <= 1e-5);
  CHECK(rel_error(fast.grads.dtheta, ref.grads.dtheta) <= 1e-5);
}

TEST_CASE("Vectorised exp matches std::exp", "[attention][kernels]") {
  // Taylor degree 6 after Cody-Waite reduction: truncation 1.2e-7 plus a few float roundings;
  // 3e-7 relative (about 2.5 ulp) over the softmax range [-87, 0] and a little above.
  double worst = 0;
  std::vector<float> x;
  for (float t = -87.0f; t <= 2.0f; t += 0.00731f) x.push_back(t);
  std::vector<float> e = x;
  diffuser::attention::cpu::exp_shifted(e.data(), 0.0f, static_cast<std::int64_t>(e.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ref = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(e[i] - ref) / ref);
  }
  CHECK(worst <= 3e-7);
  // Below the normal range the result is exactly 0; shifting works like exp(x - shift).
  std::vector<float> low{-200.0f, -88.0f, 1.0f};
  diffuser::attention::cpu::exp_shifted(low.data(), 1.0f, 3);
  CHECK(low[0] == 0.0f);
  CHECK(low[1] == 0.0f);
  CHECK(low[2] == Approx(1.0f).epsilon(1e-7));
}

TEST_CASE("Dense runs of full rows agree with the sparse path", "[attention][kernels]") {
  // Full rows 0..5 and full columns 0..5 (global tokens), plus an isolated full row further
  // down; with padding so that the runs are partly padded. Same fp32 tolerances as above.
  PatternKind kind{0.1, true, false, 6};
  auto base = random_pattern(70, kind, 31);
  std::vector<Index> rows, cols;
  for (Index i = 0; i < base.n(); ++i) {
    for (const Index j : base.row(i)) {
      rows.push_back(i);
      cols.push_back(j);
    }
  }
  for (Index j = 0; j < 70; ++j) {
    rows.push_back(40);
    cols.push_back(j);
  }
  const auto pattern = diffuser::graph::CsrGraph::from_edges(70, rows, cols);
  const AttentionPlan dense(pattern), sparse(pattern, PlanOptions{false});
  REQUIRE(dense.dense_runs().size() == 2);
  REQUIRE(dense.transposed_dense_runs().size() == 1);
  REQUIRE(sparse.dense_runs().empty());
  const std::size_t size = 2 * 70 * 2 * 24;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
  for (const auto& lengths : {std::vector<Index>{70, 70}, std::vector<Index>{50, 3}}) {
    const KernelCase c{
        "", kind, 70, 2, 24, lengths, Diffusion::ppr(0.1, 4), 0.1, MemoryMode::kStoreHops};
    const Outputs a = run_all(dense, c, q, k, v, dz, Kernels::kOptimized);
    const Outputs b = run_all(sparse, c, q, k, v, dz, Kernels::kOptimized);
    const Outputs ref = run_all(dense, c, q, k, v, dz, Kernels::kReference);
    CHECK(rel_error(a.z, b.z) <= 1e-5);
    CHECK(rel_error(a.z, ref.z) <= 1e-5);
    CHECK(rel_error(a.saved.attn, ref.saved.attn) <= 1e-5);
    CHECK(rel_error(a.grads.dq, ref.grads.dq) <= 1e-4);
    CHECK(rel_error(a.grads.dk, ref.grads.dk) <= 1e-4);
    CHECK(rel_error(a.grads.dv, ref.grads.dv) <= 1e-5);
    CHECK(rel_error(a.grads.dtheta, ref.grads.dtheta) <= 1e-5);
    CHECK(rel_error(b.grads.dk, ref.grads.dk) <= 1e-4);
  }
}

TEST_CASE("Kernels give the same results in both edge layouts", "[attention][kernels]") {
  // The [nnz, H] layout is only used to measure the layout choice; it must compute the same.
  PatternKind kind{0.15, true, false, 3};
  const AttentionPlan plan(random_pattern(45, kind, 9));
  const std::int64_t nnz = plan.nnz();
  const int heads = 3, dim = 16;
  const std::int64_t width = heads * dim;
  const std::size_t size = 45 * width;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), g = random_tensor<float>(size, 4);
  const cpu::SequenceShape s{heads, dim, width, 40};
  const EdgeLayout layouts[2] = {EdgeLayout::head_major(nnz), EdgeLayout::edge_major(heads)};
  std::vector<float> a[2], out[2], g_next[2], dv[2], da[2];
  for (int l = 0; l < 2; ++l) {
    a[l] = diffuser::testing::poisoned<float>(nnz * heads);
    out[l] = diffuser::testing::poisoned<float>(size);
    g_next[l] = diffuser::testing::poisoned<float>(size);
    dv[l] = std::vector<float>(size, 0.0f);
    da[l] = std::vector<float>(nnz * heads, 0.0f);
    cpu::scores_softmax_forward<float>(plan, s, q.data(), k.data(), layouts[l], a[l].data());
    cpu::spmm_hop_forward<float>(plan, s, a[l].data(), layouts[l], v.data(), 0.5f, v.data(), 0.25f,
                                 out[l].data());
    cpu::transposed_hop_backward<float>(plan, s, a[l].data(), layouts[l], g.data(), v.data(), 1.0f,
                                        v.data(), 0.5f, g_next[l].data(), dv[l].data(),
                                        da[l].data(), nullptr);
  }
  for (std::int64_t e = 0; e < nnz; ++e) {
    for (int h = 0; h < heads; ++h) {
      REQUIRE(a[0][layouts[0].at(e, h)] == a[1][layouts[1].at(e, h)]);
    }
  }
  CHECK(bitwise_equal(out[0], out[1]));
  CHECK(bitwise_equal(g_next[0], g_next[1]));
  CHECK(bitwise_equal(dv[0], dv[1]));
}

namespace {

// OS threads of this process (Linux: one entry per thread in /proc/self/task).
std::size_t os_threads() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++count;
  }
  return count;
}

// One forward + backward through the optimised kernels themselves (the entry points' input
// checks are not kernels and are left out), on a window pattern of radius 3.
void run_optimised_kernels(Index n, int heads, int dim, const Diffusion& diffusion, double dropout,
                           MemoryMode memory) {
  std::vector<Index> rows, cols;
  for (Index i = 0; i < n; ++i) {
    for (Index j = std::max<Index>(0, i - 3); j <= std::min<Index>(n - 1, i + 3); ++j) {
      rows.push_back(i);
      cols.push_back(j);
    }
  }
  const AttentionPlan plan(diffuser::graph::CsrGraph::from_edges(n, rows, cols));
  const std::size_t size = static_cast<std::size_t>(n) * heads * dim;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
  std::vector<float> z(size), dq(size), dk(size), dv(size);
  std::vector<double> dtheta(diffusion.theta().size());
  const AttentionGeometry g = resolve_geometry(n, heads, 1, size, size, size, {});
  AttentionSaved<float> saved;
  saved.options.heads = heads;
  saved.options.diffusion = diffusion;
  saved.options.dropout = dropout;
  saved.options.memory = memory;
  cpu::optimized_forward(plan, saved.options, g, q.data(), k.data(), v.data(), z.data(), &saved);
  cpu::optimized_backward(plan, g, q.data(), k.data(), v.data(), saved, dz.data(), dq.data(),
                          dk.data(), dv.data(), dtheta.data());
}

}  // namespace

TEST_CASE("Probe: tiny optimised calls start no OpenMP threads", "[.][omp-probe]") {
  // Run in a fresh process by the next test case. libgomp starts its worker threads at the first
  // parallel region that has more than one thread and keeps them, so the process's thread count
  // tells whether any kernel opened a parallel region.
  const std::size_t before = os_threads();
  diffuser::ThreadCountGuard guard(4);
  for (const Diffusion& d :
       {Diffusion::from_coefficients({0.5}), Diffusion::plain(), Diffusion::ppr(0.1, 5)}) {
    for (const double dropout : {0.0, 0.1}) {
      for (const MemoryMode memory : {MemoryMode::kStoreHops, MemoryMode::kRecompute}) {
        run_optimised_kernels(8, 2, 4, d, dropout, memory);  // n = 8, W = 8
      }
    }
  }
  CHECK(os_threads() == before);
  // Control: a call well above the threshold does start the team, so the probe can tell.
  run_optimised_kernels(512, 2, 32, Diffusion::ppr(0.1, 2), 0.0, MemoryMode::kStoreHops);
  CHECK(os_threads() > before);
}

TEST_CASE("Tiny calls run on the calling thread, larger ones in parallel",
          "[attention][kernels][threads]") {
  // The probe above needs a process whose OpenMP team was never started: run it in a new copy
  // of this test program.
  diffuser::testing::TempDir dir;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string log = dir.file("probe.txt");
  const int status = std::system(("'" + self + "' '[omp-probe]' > '" + log + "' 2>&1").c_str());
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("All tests passed") != std::string::npos);
  CHECK(output.find("in 1 test case") != std::string::npos);
}
