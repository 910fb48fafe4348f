// Why: bad input must produce one clear diffuser::Error naming the input and the problem, never
// a crash or a silent wrong answer.
#include <limits>

#include "attention/DenseAttention.hpp"
#include "attention/SparseAttention.hpp"
#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

using namespace diffuser::attention;
using diffuser::Diffusion;
using namespace diffuser::attention::test;
using Catch::Matchers::Contains;

TEST_CASE("Plans refuse empty patterns and empty rows", "[attention][errors]") {
  CHECK_THROWS_WITH(AttentionPlan(diffuser::graph::CsrGraph()), Contains("n = 0"));
  std::vector<Index> rows{0, 2}, cols{0, 2};
  CHECK_THROWS_WITH(AttentionPlan(diffuser::graph::CsrGraph::from_edges(3, rows, cols)),
                    Contains("row 1 has no keys"));
}

namespace {

struct Fixture {
  AttentionPlan plan{random_pattern(6, {0.4}, 1)};
  std::vector<float> q = random_tensor<float>(6 * 4, 1), k = random_tensor<float>(6 * 4, 2),
                     v = random_tensor<float>(6 * 4, 3), z = std::vector<float>(6 * 4);
  AttentionOptions options;
  Fixture() {
    options.heads = 2;
    options.diffusion = Diffusion::ppr(0.1, 3);
  }
  void forward(AttentionSaved<float>* saved = nullptr, std::vector<Index> lengths = {},
               std::int64_t batch = 1) {
    sparse_attention_forward<float>(plan, options, AttentionInputs<float>{q, k, v, batch, lengths},
                                    z, saved);
  }
};

}  // namespace

TEST_CASE("Forward input errors name the tensor and the problem", "[attention][errors]") {
  Fixture f;
  SECTION("k of another size") {
    f.k.pop_back();
    CHECK_THROWS_WITH(f.forward(), Contains("k has 23 elements but q has 24"));
  }
  SECTION("q not a multiple of batch * n") {
    f.q.pop_back();
    f.k.pop_back();
    f.v.pop_back();
    f.z.pop_back();
    CHECK_THROWS_WITH(f.forward(), Contains("q has 23 elements, not a multiple of batch * n"));
  }
  SECTION("heads not dividing the width") {
    f.options.heads = 3;
    CHECK_THROWS_WITH(f.forward(), Contains("width H*D = 4 is not a multiple of heads = 3"));
  }
  SECTION("heads < 1") {
    f.options.heads = 0;
    CHECK_THROWS_WITH(f.forward(), Contains("heads = 0"));
  }
  SECTION("z of the wrong size") {
    f.z.resize(10);
    CHECK_THROWS_WITH(f.forward(), Contains("z has 10 elements, expected"));
  }
  SECTION("NaN in v") {
    f.v[13] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(f.forward(), Contains("input v: element [0, 3, 1] is nan"));
  }
  SECTION("Inf in q") {
    f.q[0] = -std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(f.forward(), Contains("input q: element [0, 0, 0] is -inf"));
  }
  SECTION("lengths") {
    CHECK_THROWS_WITH(f.forward(nullptr, {7}), Contains("length of sequence 0 is 7"));
    CHECK_THROWS_WITH(f.forward(nullptr, {-1}), Contains("length of sequence 0 is -1"));
    CHECK_THROWS_WITH(f.forward(nullptr, {3, 3}),
                      Contains("2 sequence lengths given for a batch of 1"));
  }
  SECTION("batch") {
    CHECK_THROWS_WITH(f.forward(nullptr, {}, 0), Contains("batch = 0"));
    CHECK_THROWS_WITH(f.forward(nullptr, {}, 5), Contains("not a multiple of batch * n"));
  }
  SECTION("dropout") {
    f.options.dropout = 1.0;
    CHECK_THROWS_WITH(f.forward(), Contains("dropout = 1 outside [0, 1)"));
    f.options.dropout = -0.1;
    CHECK_THROWS_WITH(f.forward(), Contains("dropout = -0.1"));
  }
}

TEST_CASE("Backward refuses mismatched state and bad gradients", "[attention][errors]") {
  Fixture f;
  AttentionSaved<float> saved;
  f.forward(&saved);
  std::vector<float> dz(24, 1.0f), dq(24), dk(24), dv(24);
  std::vector<double> dtheta(4);
  auto backward = [&](const AttentionPlan& plan, const AttentionSaved<float>& s) {
    sparse_attention_backward<float>(plan, AttentionInputs<float>{f.q, f.k, f.v, 1, {}}, s, dz,
                                     AttentionGradients<float>{dq, dk, dv, dtheta});
  };
  REQUIRE_NOTHROW(backward(f.plan, saved));
  SECTION("another plan") {
    const AttentionPlan other(random_pattern(6, {0.4}, 1));
    CHECK_THROWS_WITH(backward(other, saved), Contains("different plan"));
  }
  SECTION("a state forward never filled") {
    CHECK_THROWS_WITH(backward(f.plan, AttentionSaved<float>{}), Contains("different plan"));
    AttentionSaved<float> broken = saved;
    broken.hops.clear();
    CHECK_THROWS_WITH(backward(f.plan, broken), Contains("incomplete"));
  }
  SECTION("NaN in dz") {
    dz[5] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(backward(f.plan, saved), Contains("input dz: element [0, 1, 1] is nan"));
  }
  SECTION("wrong gradient sizes") {
    dq.resize(5);
    CHECK_THROWS_WITH(backward(f.plan, saved), Contains("dq has 5 elements"));
  }
  SECTION("wrong dtheta size") {
    dtheta.resize(2);
    CHECK_THROWS_WITH(backward(f.plan, saved),
                      Contains("dtheta has 2 elements, expected K + 1 = 4"));
  }
  SECTION("other lengths than forward") {
    CHECK_THROWS_WITH(sparse_attention_backward<float>(
                          f.plan, AttentionInputs<float>{f.q, f.k, f.v, 1, std::vector<Index>{3}},
                          saved, dz, AttentionGradients<float>{dq, dk, dv, {}}),
                      Contains("differ from the forward call"));
  }
}

TEST_CASE("Dense attention refuses beyond its memory limit", "[attention][errors][dense]") {
  Fixture f;
  const AttentionInputs<float> in{f.q, f.k, f.v, 1, {}};
  CHECK_THROWS_WITH(dense_attention_forward<float>(6, nullptr, f.options, in, f.z, nullptr, 100),
                    Contains("above the memory limit"));
  CHECK_NOTHROW(dense_attention_forward<float>(6, nullptr, f.options, in, f.z, nullptr, 1 << 20));
  // A 2^20-token sequence would need 4 TiB per head: refused up front, nothing allocated.
  const std::int64_t huge = std::int64_t{1} << 20;
  diffuser::attention::AttentionGeometry g;
  g.batch = 1;
  g.n = static_cast<Index>(huge);
  g.heads = 1;
  CHECK(dense_attention_bytes(g, 4, false, true) == 2 * huge * huge * 4);
  CHECK(default_dense_memory_limit() > 0);
  const auto wrong = random_pattern(5, {0.4}, 2);
  CHECK_THROWS_WITH(dense_attention_forward<float>(6, &wrong, f.options, in, f.z),
                    Contains("pattern has 5 nodes but n = 6"));
}
