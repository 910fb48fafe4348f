// Why: the diffusion polynomial itself (core/Diffusion): the coefficient families against their
// closed forms and the hop recurrence of the paper, the one hop convention, the limits and their
// messages, the eigenvalue maps and their interval maxima against brute force, the two printed
// forms, and the named-field builder the CLI and the configs share.
#include "core/Diffusion.hpp"

#include <cmath>
#include <complex>
#include <limits>
#include <vector>

#include "core/Error.hpp"
#include "tests/Testing.hpp"

using Catch::Matchers::Contains;
using diffuser::Diffusion;
using diffuser::DiffusionFields;

namespace {

std::vector<Diffusion> polynomials() {
  return {Diffusion::ppr(0.1, 5),
          Diffusion::ppr(0.3, 2),
          Diffusion::ppr(0.05, 12),
          Diffusion::heat(1.0, 6),
          Diffusion::heat(5.0, 10),
          Diffusion::plain(),
          Diffusion::from_coefficients({0.5, -0.25, 0.75})};
}

}  // namespace

TEST_CASE("PPR coefficients follow the closed form and sum to one", "[cpu][core][diffusion]") {
  const auto d = Diffusion::ppr(0.1, 5);
  REQUIRE(d.degree() == 5);
  CHECK(d.hops() == 5);
  CHECK(d.alpha() == 0.1);
  CHECK(d.family() == Diffusion::Family::kPpr);
  double sum = 0;
  for (int k = 0; k < 5; ++k) {
    CHECK(d.theta()[k] == Approx(0.1 * std::pow(0.9, k)).epsilon(1e-15));
    sum += d.theta()[k];
  }
  CHECK(d.theta()[5] == Approx(std::pow(0.9, 5)).epsilon(1e-15));
  CHECK(sum + d.theta()[5] == Approx(1.0).epsilon(1e-15));
  // The original code's 59% on the 5-hop term (docs/design.md §5).
  CHECK(d.theta()[5] == Approx(0.59049));
  // The boundary alphas: 0 is the K-step walk A^K, 1 is Z = V.
  CHECK(Diffusion::ppr(0.0, 3).theta() == std::vector<double>{0, 0, 0, 1});
  CHECK(Diffusion::ppr(1.0, 2).theta() == std::vector<double>{1, 0, 0});
}

TEST_CASE("PPR coefficients equal the hop recurrence", "[cpu][core][diffusion]") {
  // Z_0 = V, Z_{k+1} = (1 - alpha) A Z_k + alpha V; on a scalar eigenvalue mu this is
  // z_{k+1} = (1 - alpha) mu z_k + alpha.
  for (double alpha : {0.1, 0.5}) {
    for (int K : {1, 5, 9}) {
      const Diffusion s = Diffusion::ppr(alpha, K);
      for (double mu : {-1.0, -0.3, 0.2, 0.9, 1.0}) {
        double z = 1.0;
        for (int k = 0; k < K; ++k) z = (1 - alpha) * mu * z + alpha;
        CHECK(s.map(mu) == Approx(z).epsilon(1e-13).margin(1e-15));
      }
      CHECK(s.map(1.0) == Approx(1.0).epsilon(1e-14));
    }
  }
}

TEST_CASE("Heat-kernel coefficients are the renormalised Poisson weights",
          "[cpu][core][diffusion]") {
  const auto d = Diffusion::heat(2.0, 6);
  REQUIRE(d.degree() == 6);
  CHECK(d.t() == 2.0);
  double sum = 0;
  for (double w : d.theta()) sum += w;
  CHECK(sum == Approx(1.0).epsilon(1e-14));
  for (int k = 0; k < 6; ++k) {
    CHECK(d.theta()[k + 1] / d.theta()[k] == Approx(2.0 / (k + 1)).epsilon(1e-13));
  }
  const auto h = Diffusion::heat(2.0, 3).theta();
  CHECK(h[3] == Approx(8.0 / 6 / (1 + 2 + 2 + 8.0 / 6)).epsilon(1e-14));
  CHECK(Diffusion::heat(0.0, 3).theta() == std::vector<double>{1, 0, 0, 0});
  // The largest t and K must not overflow (log-space weights): t^1024 / 1024! is ~1e1528, and
  // the weights peak around k = K where the mass concentrates.
  const auto big = Diffusion::heat(Diffusion::kMaxHeatTime, Diffusion::kMaxHops);
  double big_sum = 0;
  for (double w : big.theta()) big_sum += w;
  CHECK(big_sum == Approx(1.0).epsilon(1e-12));
  CHECK(big.theta().back() > big.theta().front());
}

TEST_CASE("hops = 0 means plain attention", "[cpu][core][diffusion]") {
  CHECK(Diffusion::ppr(0.1, 0).theta() == std::vector<double>{0, 1});
  CHECK(Diffusion::heat(1.0, 0).theta() == std::vector<double>{0, 1});
  CHECK(Diffusion().theta() == std::vector<double>{0, 1});
  CHECK(Diffusion::ppr(0.1, 0).family() == Diffusion::Family::kPlain);
  CHECK(Diffusion::plain().hops() == 0);
  CHECK(Diffusion::plain().degree() == 1);
  CHECK(Diffusion::from_coefficients({0.25, 0.75}).degree() == 1);
  CHECK(Diffusion::plain() == Diffusion::from_coefficients({0, 1}));
  CHECK(Diffusion::plain().map(-0.4) == -0.4);
}

TEST_CASE("infinite PPR and heat are the limits of the truncated ones", "[cpu][core][diffusion]") {
  for (double mu : {-0.9, 0.0, 0.5, 0.99}) {
    CHECK(Diffusion::ppr(0.1, 400).map(mu) == Approx(Diffusion::ppr(0.1).map(mu)).epsilon(1e-12));
    CHECK(Diffusion::heat(3.0, 60).map(mu) == Approx(Diffusion::heat(3.0).map(mu)).epsilon(1e-12));
  }
  CHECK_FALSE(Diffusion::ppr(0.1).is_polynomial());
  CHECK(Diffusion::ppr(0.1).hops() == -1);
  CHECK(Diffusion::heat(2.0).map(std::complex<double>(1.0, 0.0)) == std::complex<double>(1.0, 0.0));
  CHECK(Diffusion::ppr(0.2) == Diffusion::ppr(0.2));
  CHECK_FALSE(Diffusion::ppr(0.2) == Diffusion::heat(0.2));
  CHECK_FALSE(Diffusion::ppr(0.2) == Diffusion::ppr(0.2, 5));
}

TEST_CASE("complex eigenvalues map through the same polynomial", "[cpu][core][diffusion]") {
  const std::complex<double> mu(0.3, -0.4);
  for (const Diffusion& d : polynomials()) {
    std::complex<double> direct = 0.0, power = 1.0;
    for (double th : d.theta()) {
      direct += th * power;
      power *= mu;
    }
    INFO(d.describe());
    CHECK(std::abs(d.map(mu) - direct) <= 1e-14);
  }
}

TEST_CASE("interval maxima of the maps", "[cpu][core][diffusion]") {
  for (const Diffusion& d : polynomials()) {
    INFO(d.describe());
    // Brute force on a fine grid is a lower bound that the result must reach (and not exceed
    // by more than the golden-section gain, which is tiny).
    double brute = -1e300, brute_abs = 0;
    for (int i = 0; i <= 200000; ++i) {
      const double mu = -1.0 + 1.7 * i / 200000.0;
      brute = std::max(brute, d.map(mu));
      brute_abs = std::max(brute_abs, std::abs(d.map(mu)));
    }
    CHECK(d.max_on_interval(-1.0, 0.7) >= brute - 1e-15);
    CHECK(d.max_on_interval(-1.0, 0.7) <= brute + 1e-9);
    CHECK(d.max_abs_on_interval(-1.0, 0.7) >= brute_abs - 1e-15);
    CHECK(d.max_abs_on_interval(-1.0, 0.7) <= brute_abs + 1e-9);
  }
  CHECK(Diffusion::ppr(0.2).max_on_interval(-0.5, 0.4) == Diffusion::ppr(0.2).map(0.4));
  CHECK(Diffusion::heat(1.0).max_abs_on_interval(-0.5, 0.4) == Diffusion::heat(1.0).map(0.4));
  CHECK_THROWS_WITH(Diffusion::ppr(0.1, 3).max_on_interval(0.5, -0.5), Contains("interval"));
}

TEST_CASE("Diffusion parameters are checked with messages naming them", "[cpu][core][diffusion]") {
  CHECK_THROWS_WITH(Diffusion::ppr(1.5, 5), Contains("alpha = 1.5"));
  CHECK_THROWS_WITH(Diffusion::ppr(-0.1, 5), Contains("alpha = -0.1"));
  CHECK_THROWS_WITH(Diffusion::ppr(std::nan(""), 5), Contains("alpha"));
  CHECK_THROWS_WITH(Diffusion::ppr(0.0), Contains("alpha = 0 outside (0, 1]"));
  CHECK_NOTHROW(Diffusion::ppr(1.0));
  CHECK_THROWS_WITH(Diffusion::ppr(0.1, -1), Contains("hops = -1"));
  CHECK_THROWS_WITH(Diffusion::ppr(0.1, 1025), Contains("hops = 1025"));
  CHECK_NOTHROW(Diffusion::ppr(0.1, Diffusion::kMaxHops));
  CHECK_THROWS_WITH(Diffusion::heat(-1.0, 3), Contains("t = -1"));
  CHECK_THROWS_WITH(Diffusion::heat(-1.0), Contains("time"));
  CHECK_THROWS_WITH(Diffusion::heat(1e5, 3), Contains("t = 100000 outside [0, 10000]"));
  CHECK_THROWS_WITH(Diffusion::heat(std::numeric_limits<double>::infinity(), 3), Contains("t = "));
  CHECK_THROWS_WITH(Diffusion::heat(std::nan(""), 3), Contains("time"));
  CHECK_THROWS_WITH(Diffusion::from_coefficients({}), Contains("0 values"));
  CHECK_THROWS_WITH(Diffusion::from_coefficients({0.5, std::nan("")}), Contains("theta_1"));
  CHECK_THROWS_WITH(Diffusion::from_coefficients(std::vector<double>(1026, 0.1)),
                    Contains("1026 values"));
  CHECK_THROWS_WITH(Diffusion::ppr(0.1).theta(), Contains("not a polynomial"));
  CHECK_THROWS_WITH(Diffusion::heat(1.0).degree(), Contains("not a polynomial"));
}

TEST_CASE("the long and the compact printed forms", "[cpu][core][diffusion]") {
  CHECK(Diffusion::plain().describe() == "plain (theta=[0, 1])");
  CHECK(Diffusion::ppr(0.1, 5).describe() == "ppr(alpha=0.1, hops=5)");
  CHECK(Diffusion::heat(1.5, 4).describe() == "heat(t=1.5, hops=4)");
  CHECK(Diffusion::from_coefficients({0.5, 0.5}).describe() == "theta=[0.5, 0.5]");
  CHECK(Diffusion::ppr(0.2).describe() == "ppr(alpha=0.2)");
  CHECK(Diffusion::plain().compact() == "none");
  CHECK(Diffusion::ppr(0.1, 0).compact() == "none");
  CHECK(Diffusion::ppr(0.1, 5).compact() == "ppr(alpha=0.1,K=5)");
  CHECK(Diffusion::ppr(0.1).compact() == "ppr(alpha=0.1)");
  CHECK(Diffusion::heat(1.0, 5).compact() == "heat(t=1,K=5)");
  CHECK(Diffusion::heat(2.0).compact() == "heat(t=2)");
  CHECK(Diffusion::from_coefficients({0.5, 0.5}).compact() == "theta=[0.5,0.5]");
}

TEST_CASE("diffusion_from_fields: the defaults, the families and named errors",
          "[cpu][core][diffusion]") {
  CHECK(diffusion_from_fields(DiffusionFields{}) == Diffusion::ppr(0.1, 5));
  DiffusionFields f;
  f.family = "heat";
  f.t = 2.5;
  f.hops = 6;
  f.alpha = 7.0;  // ignored: not the family's field
  CHECK(diffusion_from_fields(f) == Diffusion::heat(2.5, 6));
  f.untruncated = true;
  CHECK(diffusion_from_fields(f) == Diffusion::heat(2.5));
  f = DiffusionFields{};
  f.family = "theta";
  f.theta = {0.5, 0.3, 0.2};
  CHECK(diffusion_from_fields(f) == Diffusion::from_coefficients({0.5, 0.3, 0.2}));
  f.family = "plain";
  CHECK(diffusion_from_fields(f) == Diffusion::plain());

  DiffusionFields g;
  g.names = {"config key 'attention.diffusion'", "config key 'attention.alpha'",
             "config key 'attention.heat_t'", "config key 'attention.hops'",
             "config key 'attention.theta'"};
  g.alpha = 1.5;
  CHECK_THROWS_WITH(diffusion_from_fields(g), Contains("config key 'attention.alpha' = 1.5"));
  g.alpha = 0.1;
  g.hops = std::int64_t{1} << 40;  // checked before narrowing to int
  CHECK_THROWS_WITH(diffusion_from_fields(g),
                    Contains("config key 'attention.hops' = 1099511627776"));
  g.family = "heat";
  g.t = -2;
  CHECK_THROWS_WITH(diffusion_from_fields(g), Contains("config key 'attention.heat_t' = -2"));
  g.family = "theta";
  CHECK_THROWS_WITH(diffusion_from_fields(g), Contains("config key 'attention.theta': 0 values"));
  g.family = "gauss";
  CHECK_THROWS_WITH(diffusion_from_fields(g),
                    Contains("config key 'attention.diffusion' = 'gauss' is not a diffusion"));
  g.family = "plain";
  g.untruncated = true;
  CHECK_THROWS_WITH(diffusion_from_fields(g), Contains("untruncated"));
}
