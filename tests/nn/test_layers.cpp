// Why: every layer's forward is compared with a brute-force loop and its backward with central
// differences in double (tolerances in GradCheck.hpp); bad inputs must raise diffuser::Error.
#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "nn/Activation.hpp"
#include "nn/ClassificationHead.hpp"
#include "nn/Dropout.hpp"
#include "nn/Embedding.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/Linear.hpp"
#include "nn/Mlp.hpp"
#include "nn/ParameterStore.hpp"
#include "nn/Pooling.hpp"
#include "nn/Residual.hpp"
#include "tests/Testing.hpp"
#include "tests/nn/GradCheck.hpp"

using namespace diffuser;
using namespace diffuser::nn;
using diffuser::testing::check_gradient;
using diffuser::testing::dot;
using diffuser::testing::poisoned;
using diffuser::testing::random_vector;
using diffuser::testing::rel_error;

namespace {

using Vec = std::vector<double>;

// Fills every parameter with random values (so biases and LayerNorm parameters are not at their
// trivial initial values, which could hide a missing term).
void randomise(ParameterStore<double>& store, std::uint64_t seed, double scale = 0.5) {
  const Vec r = random_vector(store.size(), seed, -scale, scale);
  std::copy(r.begin(), r.end(), store.values().begin());
}

// Brute-force reference for Linear: y[r, o] = b[o] + sum_i x[r, i] W[o, i].
Vec linear_reference(const Linear& l, const ParameterStore<double>& s, const Vec& x,
                     std::int64_t rows) {
  Vec y(rows * l.out);
  const auto W = s.value(l.weight);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t o = 0; o < l.out; ++o) {
      double acc = l.has_bias ? s.value(l.bias)[o] : 0.0;
      for (std::int64_t i = 0; i < l.in; ++i) acc += x[r * l.in + i] * W[o * l.in + i];
      y[r * l.out + o] = acc;
    }
  return y;
}

}  // namespace

TEST_CASE("linear: forward equals the loop, backward equals central differences", "[nn][grad]") {
  for (const bool bias : {true, false}) {
    INFO("bias " << bias);
    ParameterStore<double> store;
    const Linear lin(store, "lin", 5, 4, bias);
    randomise(store, 1);
    const std::int64_t rows = 3;
    Vec x = random_vector(rows * 5, 2);
    const Vec w = random_vector(rows * 4, 3);
    Vec y = poisoned<double>(rows * 4);
    linear_forward<double>(lin, store, x, y, rows);
    CHECK(rel_error(y, linear_reference(lin, store, x, rows)) < 1e-14);

    const auto f = [&] {
      Vec out(rows * 4);
      linear_forward<double>(lin, store, x, out, rows);
      return dot(w, out);
    };
    store.zero_grads();
    Vec dx = poisoned<double>(rows * 5);
    linear_backward<double>(lin, store, x, w, dx, rows);
    check_gradient("dx", x, dx, f);
    check_gradient("dW", store.value(lin.weight), store.grad(lin.weight), f);
    if (bias) check_gradient("db", store.value(lin.bias), store.grad(lin.bias), f);

    // Parameter gradients accumulate; an empty dx skips the input gradient.
    const Vec once(store.grads().begin(), store.grads().end());
    linear_backward<double>(lin, store, x, w, {}, rows);
    for (std::size_t i = 0; i < once.size(); ++i) CHECK(store.grads()[i] == 2 * once[i]);
  }
}

TEST_CASE("linear: float agrees with double, shapes are checked", "[nn]") {
  ParameterStore<double> sd;
  const Linear ld(sd, "lin", 40, 70);
  randomise(sd, 4);
  ParameterStore<float> sf;
  const Linear lf(sf, "lin", 40, 70);
  sf.copy_values_from(sd);
  const std::int64_t rows = 300;
  const Vec xd = random_vector(rows * 40, 5);
  const std::vector<float> xf(xd.begin(), xd.end());
  Vec yd(rows * 70);
  auto yf = poisoned<float>(rows * 70);
  linear_forward<double>(ld, sd, xd, yd, rows);
  linear_forward<float>(lf, sf, xf, yf, rows);
  // float32 dot products of length 40 with O(1) terms: relative error ~ sqrt(40) * 6e-8.
  CHECK(rel_error(yf, yd) < 1e-6);

  CHECK_THROWS_WITH(linear_forward<double>(ld, sd, Vec(10), yd, rows),
                    Catch::Contains("lin.weight") && Catch::Contains("x has 10 elements"));
  Vec y5(5);
  CHECK_THROWS_AS(linear_forward<double>(ld, sd, xd, y5, rows), Error);
  CHECK_THROWS_AS(Linear(sd, "bad", 0, 3), Error);
  CHECK_THROWS_WITH(Linear(sd, "lin", 3, 3), Catch::Contains("registered twice"));
}

TEST_CASE("layernorm: forward equals the definition, backward equals central differences",
          "[nn][grad]") {
  ParameterStore<double> store;
  const LayerNorm ln(store, "ln", 6, 1e-5);
  randomise(store, 7, 1.0);
  const std::int64_t rows = 4;
  Vec x = random_vector(rows * 6, 8, -2, 2);
  const Vec w = random_vector(rows * 6, 9);
  Vec y = poisoned<double>(rows * 6), mean = poisoned<double>(rows), rstd = poisoned<double>(rows);
  layernorm_forward<double>(ln, store, x, y, mean, rstd, rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    double mu = 0, var = 0;
    for (int c = 0; c < 6; ++c) mu += x[r * 6 + c] / 6;
    for (int c = 0; c < 6; ++c) var += (x[r * 6 + c] - mu) * (x[r * 6 + c] - mu) / 6;
    CHECK(mean[r] == Approx(mu).epsilon(1e-14));
    CHECK(rstd[r] == Approx(1 / std::sqrt(var + 1e-5)).epsilon(1e-14));
    for (int c = 0; c < 6; ++c) {
      const double ref = (x[r * 6 + c] - mu) / std::sqrt(var + 1e-5) * store.value(ln.weight)[c] +
                         store.value(ln.bias)[c];
      CHECK(y[r * 6 + c] == Approx(ref).epsilon(1e-12));
    }
  }
  const auto f = [&] {
    Vec out(rows * 6), m(rows), s(rows);
    layernorm_forward<double>(ln, store, x, out, m, s, rows);
    return dot(w, out);
  };
  store.zero_grads();
  Vec dx = poisoned<double>(rows * 6);
  layernorm_backward<double>(ln, store, x, mean, rstd, w, dx, rows);
  check_gradient("dx", x, dx, f);
  check_gradient("dgamma", store.value(ln.weight), store.grad(ln.weight), f);
  check_gradient("dbeta", store.value(ln.bias), store.grad(ln.bias), f);
  CHECK_THROWS_AS(LayerNorm(store, "ln2", 4, 0.0), Error);
  Vec r3(3);
  CHECK_THROWS_AS(layernorm_forward<double>(ln, store, x, y, mean, r3, rows), Error);
}

TEST_CASE("gelu is the exact erf form; activations' backwards equal central differences",
          "[nn][grad]") {
  // Phi(1) = 0.841344746068543 (normal table), so gelu(1) = Phi(1), gelu(-1) = -(1 - Phi(1)).
  const Vec xs = {1.0, -1.0, 0.0, 3.0};
  Vec ys(4);
  gelu_forward<double>(xs, ys);
  CHECK(ys[0] == Approx(0.8413447460685429).epsilon(1e-15));
  CHECK(ys[1] == Approx(-0.15865525393145707).epsilon(1e-15));
  CHECK(ys[2] == 0.0);
  CHECK(ys[3] == Approx(3.0 * 0.9986501019683699).epsilon(1e-15));

  for (const Activation a : {Activation::kGelu, Activation::kRelu, Activation::kTanh}) {
    INFO("activation " << to_string(a));
    Vec x = random_vector(20, 10, -3, 3);
    for (double& v : x) {
      if (std::abs(v) < 0.1) v = 0.5;  // keep ReLU's kink out of the finite-difference stencil
    }
    const Vec w = random_vector(20, 11);
    const auto f = [&] {
      Vec y(20);
      activation_forward<double>(a, x, y);
      return dot(w, y);
    };
    Vec y = poisoned<double>(20), dx = poisoned<double>(20);
    activation_forward<double>(a, x, y);
    activation_backward<double>(a, x, y, w, dx);
    check_gradient(std::string(to_string(a)), x, dx, f);
  }
  CHECK(parse_activation("tanh") == Activation::kTanh);
  CHECK_THROWS_WITH(parse_activation("swish"), Catch::Contains("swish"));
}

TEST_CASE("dropout: the mask is counter_uniform(seed, stream, index) >= p", "[nn][grad]") {
  const Dropout d{0.3f, 42, dropout_stream(7, 3), 0};
  const std::size_t n = 100000;
  const Vec x = random_vector(n, 12, 0.5, 1.5);  // never 0, so a dropped element is visible
  Vec y = poisoned<double>(n);
  dropout_forward<double>(d, x, y);
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool keep = counter_uniform(42, (7u << 20) | 3u, i) >= 0.3f;
    REQUIRE(keep == dropout_keep(d, i));
    CHECK(y[i] == (keep ? x[i] * (1.0 / (1.0 - static_cast<double>(0.3f))) : 0.0));
    dropped += keep ? 0 : 1;
  }
  // Binomial(1e5, 0.3): standard deviation 0.00145 of the fraction; 0.01 is ~7 sigma.
  CHECK(std::abs(static_cast<double>(dropped) / n - 0.3) < 0.01);

  // index_base shifts the counter: the second half of a tensor draws the same mask on its own.
  Vec half(n / 2);
  const Dropout d2{0.3f, 42, dropout_stream(7, 3), n / 2};
  dropout_forward<double>(d2, std::span<const double>(x).subspan(n / 2), half);
  for (std::size_t i = 0; i < n / 2; ++i) REQUIRE(half[i] == y[n / 2 + i]);

  // Another stream gives another mask.
  Vec z(n);
  dropout_forward<double>(Dropout{0.3f, 42, dropout_stream(8, 3), 0}, x, z);
  CHECK(rel_error(z, y) > 0.1);

  Vec xs = random_vector(30, 13);
  const Vec w = random_vector(30, 14);
  const auto f = [&] {
    Vec out(30);
    dropout_forward<double>(d, xs, out);
    return dot(w, out);
  };
  Vec dx = poisoned<double>(30);
  dropout_backward<double>(d, w, dx);
  check_gradient("dropout dx", xs, dx, f);

  Vec same(30);
  dropout_forward<double>(Dropout{0.0f, 1, 2, 0}, xs, same);
  CHECK(same == xs);
  CHECK_THROWS_WITH(dropout_forward<double>(Dropout{1.0f, 1, 2, 0}, xs, same),
                    Catch::Contains("[0, 1)"));
  CHECK(dropout_stream(1, 0) == (1u << 20));
  CHECK_THROWS_AS(dropout_stream(0, 1u << 20), Error);
}

TEST_CASE("embedding: token + position lookup, scatter-add backward", "[nn][grad]") {
  ParameterStore<double> store;
  const Embedding emb(store, "emb", 7, 5, 3);
  randomise(store, 15);
  const std::int64_t batch = 2, len = 4;
  const std::vector<std::int32_t> tokens = {3, 0, 3, 6, 1, 1, 2, 3};  // repeats on purpose
  Vec y = poisoned<double>(batch * len * 3);
  embedding_forward<double>(emb, store, tokens, batch, len, y);
  for (std::int64_t i = 0; i < batch * len; ++i)
    for (int c = 0; c < 3; ++c)
      CHECK(y[i * 3 + c] == store.value(emb.token)[tokens[i] * 3 + c] +
                                store.value(emb.position)[(i % len) * 3 + c]);
  const Vec w = random_vector(y.size(), 16);
  const auto f = [&] {
    Vec out(batch * len * 3);
    embedding_forward<double>(emb, store, tokens, batch, len, out);
    return dot(w, out);
  };
  store.zero_grads();
  embedding_backward<double>(emb, store, tokens, batch, len, w);
  check_gradient("dE", store.value(emb.token), store.grad(emb.token), f);
  check_gradient("dP", store.value(emb.position), store.grad(emb.position), f);

  std::vector<std::int32_t> bad = tokens;
  bad[6] = 7;
  CHECK_THROWS_WITH(embedding_forward<double>(emb, store, bad, batch, len, y),
                    Catch::Contains("token 7 at [b=1, t=2]"));
  Vec y36(36);
  CHECK_THROWS_WITH(
      embedding_forward<double>(emb, store, std::vector<std::int32_t>(12, 0), 2, 6, y36),
      Catch::Contains("exceeds the position table"));
}

TEST_CASE("mlp: Linear-GELU-Linear, backward equals central differences", "[nn][grad]") {
  ParameterStore<double> store;
  const Mlp mlp(store, "mlp", 4, 6);
  randomise(store, 17, 0.8);
  const std::int64_t rows = 3;
  Vec x = random_vector(rows * 4, 18, -2, 2);
  const Vec w = random_vector(rows * 4, 19);
  Vec pre = poisoned<double>(rows * 6), act = poisoned<double>(rows * 6);
  Vec y = poisoned<double>(rows * 4);
  mlp_forward<double>(mlp, store, x, pre, act, y, rows);
  // Reference: the two Linears by loops and gelu by its closed form.
  const Vec h = linear_reference(mlp.fc1, store, x, rows);
  Vec g(h.size());
  for (std::size_t i = 0; i < h.size(); ++i)
    g[i] = 0.5 * h[i] * (1 + std::erf(h[i] / std::sqrt(2.0)));
  CHECK(rel_error(y, linear_reference(mlp.fc2, store, g, rows)) < 1e-13);

  const auto f = [&] {
    Vec p(rows * 6), a(rows * 6), out(rows * 4);
    mlp_forward<double>(mlp, store, x, p, a, out, rows);
    return dot(w, out);
  };
  store.zero_grads();
  Vec scratch = poisoned<double>(rows * 6), dx = poisoned<double>(rows * 4);
  mlp_backward<double>(mlp, store, x, pre, act, w, scratch, dx, rows);
  check_gradient("dx", x, dx, f);
  for (const auto& t : store.tensors()) {
    const ParamRef r = store.ref(t.name);
    check_gradient(t.name, store.value(r), store.grad(r), f);
  }
}

TEST_CASE("pooling: CLS and mean over valid tokens", "[nn][grad]") {
  const std::int64_t batch = 3, len = 4, dim = 2;
  const std::vector<std::int32_t> lengths = {4, 1, 2};
  Vec x = random_vector(batch * len * dim, 20);
  const Vec w = random_vector(batch * dim, 21);
  for (const Pooling mode : {Pooling::kCls, Pooling::kMean}) {
    INFO("pooling " << to_string(mode));
    Vec y = poisoned<double>(batch * dim);
    pooling_forward<double>(mode, x, lengths, batch, len, dim, y);
    for (std::int64_t b = 0; b < batch; ++b)
      for (int c = 0; c < dim; ++c) {
        double ref = x[b * len * dim + c];
        if (mode == Pooling::kMean) {
          ref = 0;
          for (int t = 0; t < lengths[b]; ++t) ref += x[(b * len + t) * dim + c];
          ref /= lengths[b];
        }
        CHECK(y[b * dim + c] == Approx(ref).epsilon(1e-15));
      }
    const auto f = [&] {
      Vec out(batch * dim);
      pooling_forward<double>(mode, x, lengths, batch, len, dim, out);
      return dot(w, out);
    };
    Vec dx = poisoned<double>(x.size());
    pooling_backward<double>(mode, w, lengths, batch, len, dim, dx);
    check_gradient("dx", x, dx, f);
  }
  Vec y(batch * dim);
  CHECK_THROWS_WITH(pooling_forward<double>(Pooling::kMean, x, std::vector<std::int32_t>{4, 0, 2},
                                            batch, len, dim, y),
                    Catch::Contains("lengths[1] = 0"));
  CHECK_THROWS_AS(pooling_forward<double>(Pooling::kMean, x, std::vector<std::int32_t>{4, 5, 2},
                                          batch, len, dim, y),
                  Error);
  CHECK(parse_pooling("mean") == Pooling::kMean);
  CHECK_THROWS_AS(parse_pooling("max"), Error);
}

TEST_CASE("classification head: with and without the tanh hidden layer", "[nn][grad]") {
  for (const std::int64_t hidden : {std::int64_t{0}, std::int64_t{5}}) {
    INFO("hidden " << hidden);
    ParameterStore<double> store;
    const ClassificationHead head(store, "head", 4, 3, hidden);
    randomise(store, 22, 0.8);
    const std::int64_t batch = 2;
    Vec x = random_vector(batch * 4, 23, -2, 2);
    const Vec w = random_vector(batch * 3, 24);
    Vec act = poisoned<double>(batch * hidden), logits = poisoned<double>(batch * 3);
    classification_head_forward<double>(head, store, x, act, logits, batch);
    Vec ref;
    if (hidden == 0) {
      ref = linear_reference(head.out, store, x, batch);
    } else {
      Vec h = linear_reference(head.dense, store, x, batch);
      for (double& v : h) v = std::tanh(v);
      ref = linear_reference(head.out, store, h, batch);
    }
    CHECK(rel_error(logits, ref) < 1e-14);
    const auto f = [&] {
      Vec a(batch * hidden), out(batch * 3);
      classification_head_forward<double>(head, store, x, a, out, batch);
      return dot(w, out);
    };
    store.zero_grads();
    Vec scratch = poisoned<double>(batch * hidden), dx = poisoned<double>(batch * 4);
    classification_head_backward<double>(head, store, x, act, w, scratch, dx, batch);
    check_gradient("dx", x, dx, f);
    for (const auto& t : store.tensors()) {
      const ParamRef r = store.ref(t.name);
      check_gradient(t.name, store.value(r), store.grad(r), f);
    }
  }
}

TEST_CASE("residual helpers", "[nn]") {
  const Vec a = {1, 2, 3}, b = {10, 20, 30};
  Vec y = poisoned<double>(3);
  residual_forward<double>(a, b, y);
  CHECK(y == Vec{11, 22, 33});
  add_into<double>(y, a);
  CHECK(y == Vec{12, 24, 36});
  CHECK_THROWS_AS(add_into<double>(y, Vec(2)), Error);
}
