// Why: the whole model must compose its layers correctly. Checked here: the gradient of the loss
// with respect to every parameter tensor against central differences in double, for every model
// kind, attention variant and LayerNorm placement; float and double models agree; 1 and 2
// threads give bitwise equal losses and gradients with dropout on; the causal LM's logits never
// depend on later tokens; padding never leaks into the outputs; malformed batches and configs
// are refused with messages naming the field.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "nn/AttentionPlanCache.hpp"
#include "nn/Model.hpp"
#include "tests/Testing.hpp"
#include "tests/nn/ModelTesting.hpp"

using namespace diffuser;
using namespace diffuser::nn;
using diffuser::testing::rel_error;
using diffuser::testing::tiny_batch;
using diffuser::testing::tiny_config;

namespace {

struct GradCase {
  std::string name;
  ModelConfig config;
  double label_smoothing = 0.0;
};

std::vector<GradCase> grad_cases() {
  using K = ModelKind;
  using V = AttentionVariant;
  using N = NormPlacement;
  std::vector<GradCase> cases;
  auto add = [&](const std::string& name, K kind, V variant, N norm, auto&& tweak) {
    GradCase gc{name, tiny_config(kind, variant, norm)};
    tweak(gc);
    cases.push_back(gc);
  };
  add("classifier/diffuser/pre/theta/mean/tanh-head", K::kClassifier, V::kDiffuser, N::kPre,
      [](GradCase& g) {
        g.config.learn_theta = true;
        g.config.pool = Pooling::kMean;
        g.config.head_hidden = 5;
      });
  add("classifier/diffuser/post/cls/recompute/smoothing", K::kClassifier, V::kDiffuser, N::kPost,
      [](GradCase& g) {
        g.config.memory = attention::MemoryMode::kRecompute;
        g.label_smoothing = 0.1;
      });
  add("classifier/diffuser/post/heat/theta", K::kClassifier, V::kDiffuser, N::kPost,
      [](GradCase& g) {
        g.config.diffusion = diffuser::Diffusion::heat(1.5, 4);
        g.config.learn_theta = true;
        g.config.pool = Pooling::kMean;
      });
  add("classifier/sparse/pre/cls", K::kClassifier, V::kSparse, N::kPre, [](GradCase&) {});
  add("classifier/sparse/post/mean", K::kClassifier, V::kSparse, N::kPost,
      [](GradCase& g) { g.config.pool = Pooling::kMean; });
  add("classifier/full/pre/mean", K::kClassifier, V::kFull, N::kPre,
      [](GradCase& g) { g.config.pool = Pooling::kMean; });
  add("classifier/full/post/cls/tanh-head", K::kClassifier, V::kFull, N::kPost,
      [](GradCase& g) { g.config.head_hidden = 4; });
  add("dual/diffuser/pre/theta/mean", K::kDualEncoder, V::kDiffuser, N::kPre, [](GradCase& g) {
    g.config.learn_theta = true;
    g.config.pool = Pooling::kMean;
  });
  add("dual/sparse/post/cls", K::kDualEncoder, V::kSparse, N::kPost, [](GradCase&) {});
  add("dual/full/pre/cls", K::kDualEncoder, V::kFull, N::kPre, [](GradCase&) {});
  add("lm/diffuser/pre/theta", K::kCausalLm, V::kDiffuser, N::kPre,
      [](GradCase& g) { g.config.learn_theta = true; });
  add("lm/diffuser/post", K::kCausalLm, V::kDiffuser, N::kPost, [](GradCase&) {});
  add("lm/sparse/pre/smoothing", K::kCausalLm, V::kSparse, N::kPre,
      [](GradCase& g) { g.label_smoothing = 0.2; });
  add("lm/full/post", K::kCausalLm, V::kFull, N::kPost, [](GradCase&) {});
  return cases;
}

template <typename T>
std::vector<T> to_vector(std::span<const T> s) {
  return std::vector<T>(s.begin(), s.end());
}

}  // namespace

// Tolerance: the loss is O(1) and smooth (GELU, tanh, LayerNorm, softmax, cross-entropy; no
// kinks), step h = 1e-5 in double: truncation ~h^2 |f'''| ~ 1e-9 and round-off ~1e-16 / h ~ 1e-11
// per entry. Each tensor's sample includes its largest-gradient entry (|g| >= ~1e-3 here), so
// the relative error of a correct backward is <~ 1e-6; a missing term or wrong index gives
// errors of order 1e-2 or more.
TEST_CASE("model: gradient of every parameter tensor matches central differences", "[nn][model]") {
  constexpr double kH = 1e-5, kTol = 1e-6;
  constexpr int kSamples = 4;
  // One thread: the point here is the math; tiny shapes gain nothing from a thread team, and
  // thread-count independence is checked below.
  ThreadCountGuard threads(1);
  for (const GradCase& gc : grad_cases()) {
    INFO("case " << gc.name);
    Model<double> model(gc.config);
    model.init(11);
    diffuser::testing::randomize_parameters(model, 12);
    const Batch batch = tiny_batch(model.config(), 3, 6, 13);

    auto& store = model.params();
    store.zero_grads();
    const StepResult r = model.forward(batch, false, 1, 0, gc.label_smoothing);
    REQUIRE(std::isfinite(r.loss));
    REQUIRE(r.count > 0);
    model.backward();
    const std::vector<double> analytic = to_vector<double>(store.grads());

    auto loss = [&] { return model.forward(batch, false, 1, 0, gc.label_smoothing).loss; };
    const auto values = store.values();
    Rng pick(99);
    std::size_t tensors_checked = 0;
    for (const TensorInfo& info : store.tensors()) {
      INFO("tensor " << info.name);
      if (info.name.ends_with(".attn.k.bias")) {
        // The key bias b shifts every score of row i by the same <q_i, b> / sqrt(D), which the
        // softmax ignores: its true gradient is exactly 0. Both sides must be rounding noise
        // (analytic ~1e-17, numeric ~eps |f| / h ~ 1e-11).
        const double up = values[info.offset];
        values[info.offset] = up + kH;
        const double plus = loss();
        values[info.offset] = up - kH;
        const double minus = loss();
        values[info.offset] = up;
        CHECK(std::abs(plus - minus) / (2 * kH) < 1e-9);
        for (std::size_t i = info.offset; i < info.offset + info.size; ++i) {
          CHECK(std::abs(analytic[i]) < 1e-12);
        }
        ++tensors_checked;
        continue;
      }
      // The entry with the largest gradient, plus random ones.
      std::vector<std::size_t> idx;
      std::size_t best = info.offset;
      for (std::size_t i = info.offset; i < info.offset + info.size; ++i) {
        if (std::abs(analytic[i]) > std::abs(analytic[best])) best = i;
      }
      idx.push_back(best);
      for (int s = 1; s < kSamples && s < static_cast<int>(info.size); ++s) {
        idx.push_back(info.offset + pick.uniform_below(info.size));
      }
      std::vector<double> a, num;
      for (const std::size_t i : idx) {
        const double saved = values[i];
        values[i] = saved + kH;
        const double up = loss();
        values[i] = saved - kH;
        const double down = loss();
        values[i] = saved;
        a.push_back(analytic[i]);
        num.push_back((up - down) / (2 * kH));
      }
      const double err = rel_error(a, num);
      INFO("relative error " << err << ", largest |gradient| " << std::abs(analytic[best]));
      CHECK(err <= kTol);
      CHECK(std::abs(num[0]) > 1e-8);  // every tensor influences the loss
      ++tensors_checked;
    }
    CHECK(tensors_checked == store.tensors().size());
  }
}

TEST_CASE("model: parameter names, kinds and layout", "[nn][model]") {
  ModelConfig c =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPre);
  c.learn_theta = true;
  Model<float> model(c);
  const auto& store = model.params();
  const auto theta = store.find("layers.1.attn.theta");
  REQUIRE(theta.has_value());
  CHECK(store.tensor(*theta).kind == ParamKind::kNorm);
  CHECK(store.tensor(*theta).shape == std::vector<std::int64_t>{4});
  CHECK(store.find("final_ln.weight").has_value());
  CHECK_FALSE(store.find("embed.ln.weight").has_value());
  CHECK(store.find("layers.0.attn.q.weight").has_value());
  CHECK(store.find("layers.0.mlp.fc2.bias").has_value());
  CHECK(store.find("head.out.weight").has_value());
  model.init(3);
  // init: unit LN gains, zero biases, theta = PPR coefficients, weights with std ~0.02.
  for (const float g : store.value(store.ref("layers.0.ln1.weight"))) CHECK(g == 1.0f);
  for (const float b : store.value(store.ref("layers.0.attn.q.bias"))) CHECK(b == 0.0f);
  const auto t = store.value(*theta);
  const auto& ppr = c.diffusion.theta();
  for (std::size_t k = 0; k < t.size(); ++k) CHECK(t[k] == static_cast<float>(ppr[k]));
  double sq = 0;
  const auto w = store.value(store.ref("layers.0.attn.k.weight"));
  for (const float x : w) sq += double(x) * x;
  CHECK(std::sqrt(sq / w.size()) == Approx(0.02).epsilon(0.3));

  ModelConfig post =
      tiny_config(ModelKind::kDualEncoder, AttentionVariant::kFull, NormPlacement::kPost);
  Model<float> dual(post);
  CHECK(dual.params().find("embed.ln.weight").has_value());
  CHECK_FALSE(dual.params().find("final_ln.weight").has_value());
  CHECK(dual.params().tensor(dual.params().ref("head.out.weight")).shape ==
        std::vector<std::int64_t>{3, 4 * post.dim});
}

TEST_CASE("model: float and double agree on the same weights", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  for (const auto variant :
       {AttentionVariant::kDiffuser, AttentionVariant::kSparse, AttentionVariant::kFull}) {
    const ModelConfig c = tiny_config(ModelKind::kCausalLm, variant, NormPlacement::kPre);
    Model<double> md(c);
    md.init(5);
    diffuser::testing::randomize_parameters(md, 6);
    Model<float> mf(c);
    mf.params().copy_values_from(md.params());
    const Batch batch = tiny_batch(c, 2, 7, 8);
    const StepResult rd = md.forward(batch, false, 0, 0);
    const StepResult rf = mf.forward(batch, false, 0, 0);
    md.backward();
    mf.backward();
    // float carries ~1e-7 relative rounding per operation through ~100 sequential operations
    // with O(1) condition numbers: 1e-4 is a generous bound, far below any real mismatch.
    CHECK(rf.loss == Approx(rd.loss).epsilon(1e-5));
    CHECK(rel_error(mf.logits(), md.logits()) < 1e-4);
    CHECK(rel_error(to_vector<float>(mf.params().grads()), to_vector<double>(md.params().grads())) <
          1e-4);
  }
}

namespace {

struct RunOutput {
  double loss = 0;
  std::vector<float> logits;
  std::vector<float> grads;
};

RunOutput train_step(const ModelConfig& c, const Batch& batch, int threads, std::uint64_t step) {
  ThreadCountGuard guard(threads);
  Model<float> model(c);
  model.init(21);
  model.params().zero_grads();
  const StepResult r = model.forward(batch, true, 77, step, 0.1);
  model.backward();
  return RunOutput{r.loss, to_vector<float>(model.logits()),
                   to_vector<float>(model.params().grads())};
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("model: 1 and 2 threads give bitwise equal loss and gradients, dropout on",
          "[nn][model]") {
  struct Case {
    ModelKind kind;
    AttentionVariant variant;
    NormPlacement norm;
  };
  for (const Case& k :
       {Case{ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPre},
        Case{ModelKind::kDualEncoder, AttentionVariant::kSparse, NormPlacement::kPost},
        Case{ModelKind::kCausalLm, AttentionVariant::kFull, NormPlacement::kPre}}) {
    // Sizes large enough that the Linear, LayerNorm and attention kernels really split their work
    // (>= kMinParallelWork elements, several row blocks).
    ModelConfig c = tiny_config(k.kind, k.variant, k.norm);
    c.vocab = 50;
    c.num_classes = k.kind == ModelKind::kCausalLm ? 50 : 5;
    c.max_len = 64;
    c.dim = 32;
    c.heads = 4;
    c.mlp_dim = 64;
    c.dropout = 0.1;
    c.attention_dropout = 0.1;
    c.learn_theta = k.variant == AttentionVariant::kDiffuser;
    c.pattern = graph::parse_pattern_spec("window=4,global=2,random=4,seed=1");
    const Batch batch = tiny_batch(c, 4, 64, 5);
    INFO("kind " << to_string(k.kind) << ", variant " << to_string(k.variant));
    const RunOutput one = train_step(c, batch, 1, 3);
    const RunOutput two = train_step(c, batch, 2, 3);
    CHECK(one.loss == two.loss);
    CHECK(bitwise_equal(one.logits, two.logits));
    CHECK(bitwise_equal(one.grads, two.grads));
    // Another step draws other dropout masks.
    const RunOutput other = train_step(c, batch, 2, 4);
    CHECK(other.loss != one.loss);
  }
}

TEST_CASE("model: the causal LM's logits at t never depend on tokens after t", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  for (const auto variant :
       {AttentionVariant::kDiffuser, AttentionVariant::kSparse, AttentionVariant::kFull}) {
    INFO("variant " << to_string(variant));
    ModelConfig c = tiny_config(ModelKind::kCausalLm, variant, NormPlacement::kPre);
    c.max_len = 24;
    // Global tokens and random keys: without the forced causality, row 0 (global) and the random
    // keys would read the future; with it, diffusion over the lower-triangular A stays causal.
    c.pattern =
        graph::parse_pattern_spec("window=2,global=2,global-positions=spread,random=3,seed=9");
    c.diffusion = diffuser::Diffusion::ppr(0.1, 5);
    Model<double> model(c);
    model.init(1);
    diffuser::testing::randomize_parameters(model, 2);
    const std::int64_t L = 20, V = c.vocab;
    Batch batch = tiny_batch(c, 1, L, 3);
    model.forward(batch, false, 0, 0);
    const std::vector<double> base = to_vector<double>(model.logits());
    for (const std::int64_t t : {std::int64_t{0}, std::int64_t{7}, std::int64_t{13}, L - 1}) {
      Batch changed = batch;
      changed.tokens[t] = (changed.tokens[t] + 1) % static_cast<std::int32_t>(V);
      model.forward(changed, false, 0, 0);
      const auto logits = model.logits();
      // Earlier positions: bitwise identical (every kernel computes a row from its own inputs).
      for (std::int64_t i = 0; i < t * V; ++i) REQUIRE(logits[i] == base[i]);
      // Position t itself changes (its own embedding changed).
      double diff = 0;
      for (std::int64_t i = t * V; i < (t + 1) * V; ++i) diff += std::abs(logits[i] - base[i]);
      CHECK(diff > 1e-6);
    }
  }
}

TEST_CASE("model: padding never reaches the outputs", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  for (const auto pool : {Pooling::kCls, Pooling::kMean}) {
    for (const auto variant :
         {AttentionVariant::kDiffuser, AttentionVariant::kSparse, AttentionVariant::kFull}) {
      ModelConfig c = tiny_config(ModelKind::kClassifier, variant, NormPlacement::kPost);
      c.pool = pool;
      Model<double> model(c);
      model.init(1);
      diffuser::testing::randomize_parameters(model, 2);
      Batch batch = tiny_batch(c, 2, 8, 4);  // sequence 1 has length 6: positions 6, 7 padded
      REQUIRE(batch.lengths[1] == 6);
      model.forward(batch, false, 0, 0);
      const std::vector<double> base = to_vector<double>(model.logits());
      batch.tokens[8 + 6] = (batch.tokens[8 + 6] + 3) % 7;
      batch.tokens[8 + 7] = (batch.tokens[8 + 7] + 5) % 7;
      model.forward(batch, false, 0, 0);
      CHECK(rel_error(model.logits(), std::span<const double>(base)) < 1e-14);
      batch.tokens[8 + 5] = (batch.tokens[8 + 5] + 1) % 7;  // a valid token: the output moves
      model.forward(batch, false, 0, 0);
      CHECK(rel_error(model.logits(), std::span<const double>(base)) > 1e-8);
    }
  }
}

TEST_CASE("model: evaluation is deterministic and dropout only acts in training", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  ModelConfig c =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPre);
  c.dropout = 0.3;
  c.attention_dropout = 0.3;
  Model<double> model(c);
  model.init(4);
  diffuser::testing::randomize_parameters(model, 5);
  const Batch batch = tiny_batch(c, 3, 6, 6);
  const double eval1 = model.forward(batch, false, 1, 0).loss;
  const double eval2 = model.forward(batch, false, 2, 9).loss;
  CHECK(eval1 == eval2);
  const double train1 = model.forward(batch, true, 1, 0).loss;
  const double train2 = model.forward(batch, true, 1, 0).loss;
  const double train3 = model.forward(batch, true, 2, 0).loss;
  CHECK(train1 == train2);
  CHECK(train1 != eval1);
  CHECK(train3 != train1);
}

TEST_CASE("model: the dropout gradient is exact for a fixed mask", "[nn][model]") {
  // With dropout on, the loss is a smooth function of the parameters for fixed (seed, step),
  // so central differences apply to the training-mode backward too.
  ModelConfig c =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPost);
  c.dropout = 0.2;
  c.attention_dropout = 0.2;
  c.learn_theta = true;
  c.pool = Pooling::kMean;
  Model<double> model(c);
  model.init(4);
  diffuser::testing::randomize_parameters(model, 5);
  const Batch batch = tiny_batch(c, 3, 6, 6);
  ThreadCountGuard threads(1);
  auto& store = model.params();
  store.zero_grads();
  model.forward(batch, true, 8, 3);
  model.backward();
  const std::vector<double> analytic = to_vector<double>(store.grads());
  const auto values = store.values();
  Rng pick(4);
  std::vector<double> a, num;
  for (int s = 0; s < 60; ++s) {
    const std::size_t i = pick.uniform_below(values.size());
    const double saved = values[i];
    values[i] = saved + 1e-5;
    const double up = model.forward(batch, true, 8, 3).loss;
    values[i] = saved - 1e-5;
    const double down = model.forward(batch, true, 8, 3).loss;
    values[i] = saved;
    a.push_back(analytic[i]);
    num.push_back((up - down) / 2e-5);
  }
  CHECK(rel_error(a, num) < 1e-6);  // same reasoning as the full gradient check
}

TEST_CASE("model: backward needs exactly one forward", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  const ModelConfig c =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kSparse, NormPlacement::kPre);
  Model<float> model(c);
  model.init(1);
  CHECK_THROWS_WITH(model.backward(), Catch::Contains("no forward pass"));
  model.forward(tiny_batch(c, 2, 5, 1), false, 0, 0);
  model.backward();
  CHECK_THROWS_WITH(model.backward(), Catch::Contains("already called"));
  CHECK(model.plan_bytes() > 0);
  CHECK(model.activation_bytes() > 0);
}

TEST_CASE("model: malformed batches are refused with the field named", "[nn][model]") {
  const ModelConfig c =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPre);
  Model<float> model(c);
  model.init(1);
  const Batch good = tiny_batch(c, 2, 5, 1);
  auto expect = [&](auto&& mutate, const std::string& message) {
    Batch b = good;
    mutate(b);
    CHECK_THROWS_WITH(model.forward(b, false, 0, 0), Catch::Contains(message));
  };
  expect([](Batch& b) { b.len = 9; }, "batch.len = 9 is outside [1, max_len = 8]");
  expect([](Batch& b) { b.tokens.pop_back(); }, "batch.tokens has 9 ids");
  expect([](Batch& b) { b.tokens[3] = 7; }, "batch.tokens[0, 3] = 7 is outside [0, vocab = 7)");
  expect([](Batch& b) { b.tokens[6] = -2; }, "batch.tokens[1, 1] = -2");
  expect([](Batch& b) { b.lengths[1] = 0; }, "batch.lengths[1] = 0 is outside [1, len = 5]");
  expect([](Batch& b) { b.lengths[0] = 6; }, "batch.lengths[0] = 6");
  expect([](Batch& b) { b.lengths.push_back(1); }, "batch.lengths has 3 entries");
  expect([](Batch& b) { b.labels[1] = 3; }, "batch.labels[1] = 3 is outside [0, num_classes = 3)");
  expect([](Batch& b) { b.labels.clear(); }, "batch.labels has 0 entries");
  expect([](Batch& b) { b.tokens2 = b.tokens; }, "takes one sequence");
  expect([](Batch& b) { b.batch = 0; }, "batch.batch must be >= 1");
  CHECK_THROWS_WITH(model.forward(good, false, 0, 0, 1.0), Catch::Contains("label_smoothing"));

  const ModelConfig lm =
      tiny_config(ModelKind::kCausalLm, AttentionVariant::kSparse, NormPlacement::kPre);
  Model<float> lm_model(lm);
  Batch b = tiny_batch(lm, 2, 5, 1);
  b.labels[1 * 5 + 4] = 2;  // sequence 1 has length 3: position 4 is padding
  CHECK_THROWS_WITH(lm_model.forward(b, false, 0, 0), Catch::Contains("lies in the padding"));
  b = tiny_batch(lm, 2, 5, 1);
  b.labels[2] = 7;
  CHECK_THROWS_WITH(lm_model.forward(b, false, 0, 0),
                    Catch::Contains("batch.labels[0, 2] = 7 is outside [0, vocab = 7)"));

  const ModelConfig dual =
      tiny_config(ModelKind::kDualEncoder, AttentionVariant::kFull, NormPlacement::kPre);
  Model<float> dual_model(dual);
  b = tiny_batch(dual, 2, 5, 1);
  b.lengths2.pop_back();
  CHECK_THROWS_WITH(dual_model.forward(b, false, 0, 0), Catch::Contains("batch.lengths2 has 1"));
}

TEST_CASE("model: invalid configs are refused with the field named", "[nn][model]") {
  const ModelConfig base =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPre);
  auto expect = [&](auto&& mutate, const std::string& message) {
    ModelConfig c = base;
    mutate(c);
    CHECK_THROWS_WITH(Model<float>(c), Catch::Contains(message));
  };
  expect([](ModelConfig& c) { c.vocab = 0; }, "vocab");
  expect([](ModelConfig& c) { c.num_classes = 0; }, "num_classes");
  expect([](ModelConfig& c) { c.max_len = 0; }, "max_len");
  expect([](ModelConfig& c) { c.layers = 0; }, "layers");
  expect([](ModelConfig& c) { c.heads = 3; }, "dim (8) must be a multiple of heads (3)");
  expect([](ModelConfig& c) { c.mlp_dim = -1; }, "mlp_dim");
  expect([](ModelConfig& c) { c.dropout = 1.0; }, "dropout must be in [0, 1)");
  expect([](ModelConfig& c) { c.attention_dropout = -0.1; }, "attention_dropout");
  expect([](ModelConfig& c) { c.ln_eps = 0; }, "ln_eps");
  expect([](ModelConfig& c) { c.head_hidden = -1; }, "head_hidden");
  expect(
      [](ModelConfig& c) {
        c.variant = AttentionVariant::kSparse;
        c.learn_theta = true;
      },
      "learn_theta needs attention variant 'diffuser'");
  expect([](ModelConfig& c) { c.pattern.blocks = 3; }, "model config: pattern:");
  expect(
      [](ModelConfig& c) {
        c.kind = ModelKind::kCausalLm;
        c.num_classes = 5;
      },
      "num_classes of a causal LM");
  CHECK(parse_attention_variant("sparse") == AttentionVariant::kSparse);
  CHECK(parse_model_kind("dual_encoder") == ModelKind::kDualEncoder);
  CHECK(parse_norm_placement("post") == NormPlacement::kPost);
  CHECK_THROWS_WITH(parse_attention_variant("dense"), Catch::Contains("'dense'"));
}

TEST_CASE("model: recompute mode gives the same loss and gradients as stored hops", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  ModelConfig c =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kDiffuser, NormPlacement::kPre);
  c.learn_theta = true;
  std::vector<double> grads[2];
  std::vector<double> logits[2];
  double loss[2] = {0, 0};
  int i = 0;
  for (const auto mode : {attention::MemoryMode::kStoreHops, attention::MemoryMode::kRecompute}) {
    c.memory = mode;
    Model<double> model(c);
    model.init(2);
    diffuser::testing::randomize_parameters(model, 3);
    loss[i] = model.forward(tiny_batch(c, 3, 7, 4), false, 0, 0).loss;
    model.backward();
    grads[i] = to_vector<double>(model.params().grads());
    logits[i] = to_vector<double>(model.logits());
    ++i;
  }
  // Recompute rebuilds the hop states with the same Horner products: equal to rounding.
  CHECK(loss[1] == Approx(loss[0]).epsilon(1e-14));
  CHECK(rel_error(logits[1], logits[0]) < 1e-14);
  CHECK(rel_error(grads[1], grads[0]) < 1e-13);
}

TEST_CASE("attention plan cache: one plan per length, causal forced", "[nn][model]") {
  AttentionPlanCache cache(graph::parse_pattern_spec("window=1,global=1,random=2,seed=3"), true);
  CHECK(cache.spec().causal);
  const attention::AttentionPlan& a = cache.get(12);
  const attention::AttentionPlan& b = cache.get(12);
  CHECK(&a == &b);
  CHECK(cache.size() == 1);
  const attention::AttentionPlan& c = cache.get(7);
  CHECK(c.n() == 7);
  CHECK(cache.size() == 2);
  CHECK(cache.bytes() == a.bytes() + c.bytes());
  for (graph::Index i = 0; i < a.n(); ++i) {
    for (const graph::Index j : a.pattern().row(i)) CHECK(j <= i);
  }
  CHECK_THROWS_WITH(cache.get(0), Catch::Contains("sequence length must be >= 1"));
  cache.clear();
  CHECK(cache.size() == 0);
}

TEST_CASE("model: a non-finite activation is reported with the layer that met it", "[nn][model]") {
  ThreadCountGuard threads(1);  // tiny shapes: a thread team only adds overhead
  for (const auto variant : {AttentionVariant::kDiffuser, AttentionVariant::kFull}) {
    const ModelConfig c = tiny_config(ModelKind::kClassifier, variant, NormPlacement::kPre);
    Model<float> model(c);
    model.init(1);
    auto& store = model.params();
    store.value(store.ref("layers.1.attn.v.weight"))[5] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(model.forward(tiny_batch(c, 2, 5, 1), false, 0, 0),
                      Catch::Contains("layers.1.attn: ") && Catch::Contains("v"));
  }
}

TEST_CASE("model: parameter_count matches the built model without allocating", "[nn][model]") {
  for (const auto kind : {ModelKind::kClassifier, ModelKind::kDualEncoder, ModelKind::kCausalLm}) {
    for (const auto norm : {NormPlacement::kPre, NormPlacement::kPost}) {
      ModelConfig c = tiny_config(kind, AttentionVariant::kDiffuser, norm);
      c.head_hidden = kind == ModelKind::kClassifier ? 5 : 0;
      CHECK(Model<float>::parameter_count(c) == Model<float>(c).params().size());
      CHECK(Model<double>::parameter_count(c) == Model<double>(c).params().size());
    }
  }
  // Sizing a model of ~10^12 parameters costs nothing; building it would be refused.
  ModelConfig big =
      tiny_config(ModelKind::kClassifier, AttentionVariant::kFull, NormPlacement::kPre);
  big.vocab = 8'000'000;  // the embedding, registered first, alone needs ~4 TB
  big.dim = 65536;
  big.heads = 1;
  big.mlp_dim = 262144;
  big.layers = 16;
  CHECK(Model<float>::parameter_count(big) > (std::size_t{1} << 39));
  CHECK_THROWS_WITH(Model<float>(big), Catch::Contains("GiB of memory, more than this machine's"));
  ModelConfig bad = big;
  bad.heads = 3;
  CHECK_THROWS_WITH(Model<float>::parameter_count(bad), Catch::Contains("multiple of heads"));
}
