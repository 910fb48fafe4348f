// Why: the optimiser, schedule and clipping decide what training does; each is checked against
// numbers worked out by hand from the published formulas.
#include <cmath>
#include <numbers>
#include <vector>

#include "core/Error.hpp"
#include "nn/AdamW.hpp"
#include "nn/GradClip.hpp"
#include "nn/LrSchedule.hpp"
#include "nn/ParameterStore.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using namespace diffuser::nn;

namespace {

template <typename T>
struct TwoTensors {
  ParameterStore<T> store;
  ParamRef w = store.add("w", {2}, ParamKind::kWeight);
  ParamRef b = store.add("b", {1}, ParamKind::kBias);

  void set(std::vector<double> values, std::vector<double> grads) {
    for (std::size_t i = 0; i < 3; ++i) {
      store.values()[i] = static_cast<T>(values[i]);
      store.grads()[i] = static_cast<T>(grads[i]);
    }
  }
};

}  // namespace

TEST_CASE("adamw: first step by hand, second step by the formula", "[nn][optim]") {
  TwoTensors<double> m;
  m.set({1.0, -2.0, 0.5}, {0.2, -0.4, 1.0});
  AdamWConfig cfg;
  cfg.beta1 = 0.9;
  cfg.beta2 = 0.999;
  cfg.eps = 1e-8;
  cfg.weight_decay = 0.5;
  AdamW<double> opt(m.store, cfg);
  opt.step(m.store, 0.1);
  // Step 1: bias-corrected m^ = g, v^ = g^2, so the Adam update is g / (|g| + eps).
  //   w0: 1.0 * (1 - 0.1 * 0.5) - 0.1 * 0.2 / (0.2 + 1e-8)    = 0.95 - 0.09999999500000025
  //   w1: -2.0 * 0.95 - 0.1 * (-0.4) / (0.4 + 1e-8)           = -1.9 + 0.0999999975000000625
  //   b (no decay for biases): 0.5 - 0.1 * 1.0 / (1.0 + 1e-8)  = 0.5 - 0.09999999900000001
  CHECK(m.store.values()[0] == Approx(0.85000000499999975).epsilon(1e-15));
  CHECK(m.store.values()[1] == Approx(-1.8000000024999999375).epsilon(1e-15));
  CHECK(m.store.values()[2] == Approx(0.40000000099999999).epsilon(1e-15));
  CHECK(opt.m()[0] == Approx(0.02).epsilon(1e-15));
  CHECK(opt.v()[1] == Approx(0.001 * 0.16).epsilon(1e-15));
  CHECK(opt.step_count() == 1);

  // Step 2 with new gradients, against the formula evaluated independently in long double.
  const std::vector<long double> g2 = {0.1L, 0.3L, -1.0L};
  const std::vector<long double> g1 = {0.2L, -0.4L, 1.0L};
  std::vector<long double> p = {m.store.values()[0], m.store.values()[1], m.store.values()[2]};
  for (std::size_t i = 0; i < 3; ++i) m.store.grads()[i] = static_cast<double>(g2[i]);
  opt.step(m.store, 0.05);
  for (std::size_t i = 0; i < 3; ++i) {
    const long double mm = 0.9L * (0.1L * g1[i]) + 0.1L * g2[i];
    const long double vv = 0.999L * (0.001L * g1[i] * g1[i]) + 0.001L * g2[i] * g2[i];
    const long double mhat = mm / (1 - 0.81L), vhat = vv / (1 - 0.999L * 0.999L);
    const long double decay = i < 2 ? 1 - 0.05L * 0.5L : 1;
    const long double expect = p[i] * decay - 0.05L * mhat / (std::sqrt(vhat) + 1e-8L);
    CHECK(m.store.values()[i] == Approx(static_cast<double>(expect)).epsilon(1e-13));
  }
}

TEST_CASE("adamw: decay flags, float agrees with double, errors", "[nn][optim]") {
  AdamWConfig cfg;
  cfg.weight_decay = 0.1;
  CHECK(cfg.decays(ParamKind::kWeight));
  CHECK_FALSE(cfg.decays(ParamKind::kBias));
  CHECK_FALSE(cfg.decays(ParamKind::kNorm));
  CHECK_FALSE(cfg.decays(ParamKind::kEmbedding));
  cfg.decay_biases = cfg.decay_norms = cfg.decay_embeddings = true;
  CHECK(cfg.decays(ParamKind::kBias));
  CHECK(cfg.decays(ParamKind::kEmbedding));

  // Zero gradient: only the decoupled decay moves the parameters.
  TwoTensors<double> m;
  m.set({1.0, 2.0, 3.0}, {0.0, 0.0, 0.0});
  AdamW<double> opt(m.store, cfg);
  opt.step(m.store, 0.5);
  CHECK(m.store.values()[0] == Approx(0.95).epsilon(1e-15));
  CHECK(m.store.values()[2] == Approx(2.85).epsilon(1e-15));

  TwoTensors<double> d;
  TwoTensors<float> f;
  d.set({0.3, -0.7, 0.1}, {0.5, 0.25, -2.0});
  f.set({0.3, -0.7, 0.1}, {0.5, 0.25, -2.0});
  AdamW<double> od(d.store, AdamWConfig{});
  AdamW<float> of(f.store, AdamWConfig{});
  for (int s = 0; s < 3; ++s) {
    od.step(d.store, 1e-2);
    of.step(f.store, 1e-2);
  }
  // float storage of p, m, v: relative rounding 6e-8 per step.
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(f.store.values()[i] == Approx(d.store.values()[i]).epsilon(1e-6));

  AdamWConfig bad;
  bad.beta1 = 1.0;
  CHECK_THROWS_WITH(AdamW<double>(d.store, bad), Catch::Contains("beta1"));
  CHECK_THROWS_AS(od.step(d.store, NAN), Error);
  d.store.add("extra", {4}, ParamKind::kWeight);
  CHECK_THROWS_WITH(od.step(d.store, 0.1), Catch::Contains("built for 3"));
}

TEST_CASE("learning-rate schedules at known steps", "[nn][optim]") {
  LrSchedule s;
  s.peak_lr = 1e-3;
  s.min_lr = 1e-4;
  s.warmup_steps = 10;
  s.total_steps = 110;
  for (const LrDecay d :
       {LrDecay::kConstant, LrDecay::kCosine, LrDecay::kLinear, LrDecay::kInverseSqrt}) {
    s.decay = d;
    CHECK(s.lr_at(0) == Approx(1e-4).epsilon(1e-15));
    CHECK(s.lr_at(4) == Approx(5e-4).epsilon(1e-15));
    CHECK(s.lr_at(9) == Approx(1e-3).epsilon(1e-15));
  }
  s.decay = LrDecay::kConstant;
  CHECK(s.lr_at(50) == 1e-3);
  CHECK(s.lr_at(5000) == 1e-3);
  s.decay = LrDecay::kCosine;
  CHECK(s.lr_at(10) == Approx(1e-3).epsilon(1e-15));
  CHECK(s.lr_at(60) == Approx(5.5e-4).epsilon(1e-14));  // half way: min + (peak - min) / 2
  CHECK(s.lr_at(35) ==
        Approx(1e-4 + 9e-4 * (1 + std::cos(std::numbers::pi / 4)) / 2).epsilon(1e-14));
  CHECK(s.lr_at(110) == Approx(1e-4).epsilon(1e-14));
  CHECK(s.lr_at(100000) == Approx(1e-4).epsilon(1e-14));
  s.decay = LrDecay::kLinear;
  CHECK(s.lr_at(35) == Approx(7.75e-4).epsilon(1e-14));
  CHECK(s.lr_at(60) == Approx(5.5e-4).epsilon(1e-14));
  CHECK(s.lr_at(200) == Approx(1e-4).epsilon(1e-14));
  s.decay = LrDecay::kInverseSqrt;
  CHECK(s.lr_at(39) == Approx(5e-4).epsilon(1e-14));      // 1e-3 * sqrt(10 / 40)
  CHECK(s.lr_at(159) == Approx(2.5e-4).epsilon(1e-14));   // 1e-3 * sqrt(10 / 160)
  CHECK(s.lr_at(100000) == Approx(1e-4).epsilon(1e-14));  // floored at min_lr

  LrSchedule nowarm;
  nowarm.peak_lr = 2.0;
  nowarm.total_steps = 4;
  nowarm.decay = LrDecay::kCosine;
  CHECK(nowarm.lr_at(0) == 2.0);
  CHECK(nowarm.lr_at(2) == Approx(1.0).epsilon(1e-15));

  CHECK(parse_lr_decay("inverse_sqrt") == LrDecay::kInverseSqrt);
  CHECK(to_string(LrDecay::kCosine) == "cosine");
  CHECK_THROWS_WITH(parse_lr_decay("step"), Catch::Contains("'step'"));
  LrSchedule bad = s;
  bad.min_lr = 1.0;
  CHECK_THROWS_WITH(bad.lr_at(0), Catch::Contains("min_lr"));
  bad = s;
  bad.total_steps = 0;
  CHECK_THROWS_AS(bad.lr_at(0), Error);
  CHECK_THROWS_AS(s.lr_at(-1), Error);
}

TEST_CASE("gradient clipping by global L2 norm", "[nn][optim]") {
  TwoTensors<double> m;
  m.set({0, 0, 0}, {3.0, 0.0, 4.0});
  CHECK(grad_norm(m.store) == 5.0);
  CHECK(clip_grad_norm(m.store, 10.0) == 5.0);  // below the limit: unchanged
  CHECK(m.store.grads()[0] == 3.0);
  CHECK(clip_grad_norm(m.store, 1.0) == 5.0);
  CHECK(m.store.grads()[0] == Approx(0.6).epsilon(1e-15));
  CHECK(m.store.grads()[1] == 0.0);
  CHECK(m.store.grads()[2] == Approx(0.8).epsilon(1e-15));
  CHECK(grad_norm(m.store) == Approx(1.0).epsilon(1e-15));

  m.store.grads()[2] = NAN;
  CHECK_THROWS_WITH(grad_norm(m.store), Catch::Contains("gradient of 'b' is nan at element 0"));
  CHECK_THROWS_AS(clip_grad_norm(m.store, 0.0), Error);
}
