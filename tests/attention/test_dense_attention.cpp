// Why: the dense path is both an oracle and a baseline, so it must equal the sparse path on the
// same pattern (and full softmax attention on the full pattern), including padding and dropout.
#include <cstring>

#include "attention/DenseAttention.hpp"
#include "attention/SparseAttention.hpp"
#include "core/Threads.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using diffuser::Diffusion;
using namespace diffuser::attention::test;
using diffuser::testing::poisoned;
using diffuser::testing::rel_error;

namespace {

template <typename T>
struct DenseRun {
  std::vector<T> z;
  Grads<T> grads;
};

template <typename T>
DenseRun<T> dense_run(Index n, const diffuser::graph::CsrGraph* pattern, const AttentionOptions& o,
                      const std::vector<T>& q, const std::vector<T>& k, const std::vector<T>& v,
                      const std::vector<T>& dz, std::int64_t batch,
                      const std::vector<Index>& lengths) {
  DenseRun<T> r{poisoned<T>(q.size()),
                {poisoned<T>(q.size()), poisoned<T>(q.size()), poisoned<T>(q.size()),
                 poisoned<double>(o.diffusion.theta().size())}};
  DenseAttentionSaved<T> saved;
  const AttentionInputs<T> in{q, k, v, batch, lengths};
  dense_attention_forward<T>(n, pattern, o, in, r.z, &saved);
  dense_attention_backward<T>(
      n, pattern, in, saved, dz,
      AttentionGradients<T>{r.grads.dq, r.grads.dk, r.grads.dv, r.grads.dtheta});
  return r;
}

}  // namespace

TEST_CASE("Dense attention equals sparse attention on the same pattern", "[attention][dense]") {
  // fp32 tolerances as in the kernel comparison (different summation orders; the softmax
  // backward's row-mean subtraction costs a little more on dq and dk).
  const Index n = 57;
  const std::vector<Index> lengths{57, 40};
  for (const bool full : {false, true}) {
    SECTION(full ? "full pattern (full softmax attention)" : "random pattern with global rows") {
      const auto pattern = full ? full_pattern(n) : random_pattern(n, {0.2, true, true, 2, 5}, 3);
      const AttentionPlan plan(pattern);
      const std::size_t size = 2 * n * 3 * 8;
      const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
                 v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
      AttentionOptions o;
      o.heads = 3;
      o.diffusion = Diffusion::ppr(0.1, 4);
      o.dropout = 0.15;
      o.seed = 5;
      for (const MemoryMode memory : {MemoryMode::kStoreHops, MemoryMode::kRecompute}) {
        o.memory = memory;
        const auto dense =
            dense_run<float>(n, full ? nullptr : &pattern, o, q, k, v, dz, 2, lengths);
        AttentionSaved<float> saved;
        const auto z = run_forward<float>(plan, o, q, k, v, 2, lengths, &saved);
        const auto g = run_backward<float>(plan, q, k, v, 2, lengths, saved, dz);
        CHECK(rel_error(dense.z, z) <= 1e-5);
        CHECK(rel_error(dense.grads.dq, g.dq) <= 1e-4);
        CHECK(rel_error(dense.grads.dk, g.dk) <= 1e-4);
        CHECK(rel_error(dense.grads.dv, g.dv) <= 1e-5);
        CHECK(rel_error(dense.grads.dtheta, g.dtheta) <= 1e-5);
      }
    }
  }
}

TEST_CASE("Dense plain attention equals the closed form softmax(QK^T/sqrt(D)) V",
          "[attention][dense]") {
  const Index n = 70;
  const int heads = 2, dim = 16;
  const std::size_t size = n * heads * dim;
  const auto q = random_tensor<double>(size, 1), k = random_tensor<double>(size, 2),
             v = random_tensor<double>(size, 3);
  AttentionOptions o;
  o.heads = heads;
  auto z = poisoned<double>(size);
  dense_attention_forward<double>(n, nullptr, o, AttentionInputs<double>{q, k, v, 1, {}}, z);
  const auto expected = oracle_forward(full_pattern(n), heads, dim, 1, {}, q, k, v, {0.0, 1.0});
  CHECK(rel_error(z, expected) <= 1e-12);
}

TEST_CASE("Dense attention: 1 and 2 threads agree", "[attention][dense][determinism]") {
  // Eigen's parallel GEMM splits the output between threads but keeps the per-element
  // reduction order, so the results are expected to be bitwise equal; checked here.
  const Index n = 300;
  const std::size_t size = n * 2 * 32;
  const auto q = random_tensor<float>(size, 1), k = random_tensor<float>(size, 2),
             v = random_tensor<float>(size, 3), dz = random_tensor<float>(size, 4);
  AttentionOptions o;
  o.heads = 2;
  o.diffusion = Diffusion::ppr(0.1, 3);
  DenseRun<float> one, two;
  {
    diffuser::ThreadCountGuard guard(1);
    one = dense_run<float>(n, nullptr, o, q, k, v, dz, 1, {250});
  }
  {
    diffuser::ThreadCountGuard guard(2);
    two = dense_run<float>(n, nullptr, o, q, k, v, dz, 1, {250});
  }
  CHECK(std::memcmp(one.z.data(), two.z.data(), size * sizeof(float)) == 0);
  CHECK(std::memcmp(one.grads.dq.data(), two.grads.dq.data(), size * sizeof(float)) == 0);
  CHECK(std::memcmp(one.grads.dk.data(), two.grads.dk.data(), size * sizeof(float)) == 0);
  CHECK(std::memcmp(one.grads.dv.data(), two.grads.dv.data(), size * sizeof(float)) == 0);
}
