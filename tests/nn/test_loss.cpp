// Why: the loss is where training signal starts; its values are checked against closed forms,
// its gradient against central differences, and its log-softmax against overflow.
#include <cmath>
#include <vector>

#include "core/Error.hpp"
#include "nn/CrossEntropy.hpp"
#include "tests/Testing.hpp"
#include "tests/nn/GradCheck.hpp"

using namespace diffuser;
using namespace diffuser::nn;
using diffuser::testing::check_gradient;
using diffuser::testing::poisoned;
using diffuser::testing::random_vector;

using Vec = std::vector<double>;
using Labels = std::vector<std::int32_t>;

TEST_CASE("log_softmax is exact on closed forms and stable for huge logits", "[nn][loss]") {
  Vec out = poisoned<double>(3);
  log_softmax<double>(Vec{0.0, 0.0, 0.0}, out);
  for (const double v : out) CHECK(v == Approx(-std::log(3.0)).epsilon(1e-15));
  Vec two(2);
  log_softmax<double>(Vec{1000.0, 1000.0}, two);  // exp(1000) overflows without the max shift
  CHECK(two[0] == Approx(-std::log(2.0)).epsilon(1e-15));
  CHECK(two[1] == Approx(-std::log(2.0)).epsilon(1e-15));
  log_softmax<double>(Vec{-1000.0, 0.0}, two);
  CHECK(two[0] == Approx(-1000.0).epsilon(1e-15));
  CHECK(two[1] == 0.0);
  std::vector<float> f3(3);
  log_softmax<float>(std::vector<float>{88.0f, 89.0f, 90.0f}, f3);  // exp(89) overflows float
  CHECK(f3[2] == Approx(-std::log(1 + std::exp(-1.0) + std::exp(-2.0))).epsilon(1e-6));
  CHECK_THROWS_WITH(log_softmax<double>(Vec{0.0, NAN}, two), Catch::Contains("nan"));
}

TEST_CASE("cross-entropy values: closed forms with and without label smoothing", "[nn][loss]") {
  // p = softmax(0, ln 3) = (1/4, 3/4).
  const Vec logits = {0.0, std::log(3.0)};
  auto r = cross_entropy_forward<double>(logits, Labels{1}, 1, 2, 0.0);
  CHECK(r.loss == Approx(-std::log(0.75)).epsilon(1e-15));
  CHECK(r.count == 1);
  CHECK(r.correct == 1);
  // eps = 0.2, C = 2: q = (0.1, 0.9).
  r = cross_entropy_forward<double>(logits, Labels{1}, 1, 2, 0.2);
  CHECK(r.loss == Approx(-(0.1 * std::log(0.25) + 0.9 * std::log(0.75))).epsilon(1e-14));
  r = cross_entropy_forward<double>(logits, Labels{0}, 1, 2, 0.2);
  CHECK(r.loss == Approx(-(0.9 * std::log(0.25) + 0.1 * std::log(0.75))).epsilon(1e-14));
  CHECK(r.correct == 0);

  // Mean over counted rows; ignored rows add nothing; ties pick the first class.
  const Vec batch = {0, 0, 0, /**/ 5, 1, 1, /**/ 2, 2, 1};
  r = cross_entropy_forward<double>(batch, Labels{1, kIgnoreLabel, 0}, 3, 3, 0.0);
  const double row0 = std::log(3.0);
  const double row2 = std::log(2 * std::exp(2.0) + std::exp(1.0)) - 2;
  CHECK(r.count == 2);
  CHECK(r.loss_sum == Approx(row0 + row2).epsilon(1e-14));
  CHECK(r.loss == Approx((row0 + row2) / 2).epsilon(1e-14));
  CHECK(r.correct == 1);  // row 0: argmax 0 != 1; row 2: argmax 0 (first of the tie) == 0

  r = cross_entropy_forward<double>(batch, Labels{kIgnoreLabel, kIgnoreLabel, kIgnoreLabel}, 3, 3);
  CHECK(r.count == 0);
  CHECK(r.loss == 0.0);
}

TEST_CASE("cross-entropy backward equals central differences of the mean loss", "[nn][grad]") {
  const std::int64_t rows = 4, classes = 5;
  const Labels labels = {2, kIgnoreLabel, 0, 4};
  for (const double eps : {0.0, 0.1}) {
    INFO("label smoothing " << eps);
    Vec logits = random_vector(rows * classes, 30, -3, 3);
    const auto f = [&] {
      return cross_entropy_forward<double>(logits, labels, rows, classes, eps).loss;
    };
    Vec d = poisoned<double>(rows * classes);
    cross_entropy_backward<double>(logits, labels, rows, classes, eps, d);
    check_gradient("dlogits", logits, d, f);
    Vec fused = poisoned<double>(rows * classes);
    const auto r =
        cross_entropy_forward_backward<double>(logits, labels, rows, classes, eps, fused);
    CHECK(r.loss == f());
    CHECK(fused == d);
    for (std::int64_t c = 0; c < classes; ++c) CHECK(d[1 * classes + c] == 0.0);  // ignored row
    // Each counted row's gradient sums to zero (p and q are both distributions).
    double s = 0;
    for (std::int64_t c = 0; c < classes; ++c) s += d[c];
    CHECK(std::abs(s) < 1e-15);  // five O(0.1) terms in double
  }
}

TEST_CASE("cross-entropy rejects bad labels, logits and smoothing", "[nn][loss]") {
  const Vec logits(6, 0.0);
  Vec d(6);
  CHECK_THROWS_WITH(cross_entropy_forward<double>(logits, Labels{0, 3}, 2, 3),
                    Catch::Contains("label 3 of row 1"));
  CHECK_THROWS_AS(cross_entropy_forward<double>(logits, Labels{-2, 0}, 2, 3), Error);
  CHECK_THROWS_AS(cross_entropy_forward<double>(logits, Labels{0}, 2, 3), Error);
  CHECK_THROWS_AS(cross_entropy_forward<double>(logits, Labels{0, 0}, 2, 3, 1.0), Error);
  Vec bad = logits;
  bad[4] = INFINITY;
  CHECK_THROWS_WITH(cross_entropy_forward<double>(bad, Labels{0, 0}, 2, 3),
                    Catch::Contains("logit [1, 1] is inf"));
  CHECK_THROWS_AS(cross_entropy_backward<double>(bad, Labels{0, 0}, 2, 3, 0.0, d), Error);
}
