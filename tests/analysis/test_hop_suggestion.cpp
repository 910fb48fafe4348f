// Why: suggest_hops against brute force on small patterns. The brute force never uses the
// spectral maps: it builds the dense diffused operator T_K from the paper's recurrence
// (T_0 = M for plain attention; Z_0 = I, Z_{k+1} = (1 - alpha) M Z_k + alpha I for K hops), takes
// epsilon(K) = ||T_K - v v^T||_2 (v = D^{1/2} 1 / sqrt(vol), the full-attention direction) from a
// dense eigen-decomposition, the untruncated limit from alpha (I - (1 - alpha) M)^{-1}, and then
// applies the two rules of HopSuggestion.hpp by a plain loop over K.
#include <Eigen/Dense>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "analysis/HopSuggestion.hpp"
#include "core/Error.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "tests/Testing.hpp"

using namespace diffuser;
using Catch::Matchers::Contains;
using graph::Index;

namespace {

struct Dense {
  Eigen::MatrixXd m;       // D^-1/2 S D^-1/2
  Eigen::VectorXd v;       // unit D^{1/2} 1
  std::vector<double> mu;  // all eigenvalues of M, descending
};

Dense dense_of(const graph::CsrGraph& g) {
  const Index n = g.n();
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(n, n);
  for (Index i = 0; i < n; ++i) {
    for (Index j : g.row(i)) s(i, j) = s(j, i) = 1.0;
  }
  Dense d;
  const Eigen::VectorXd deg = s.rowwise().sum();
  const Eigen::VectorXd isq = deg.cwiseSqrt().cwiseInverse();
  d.m = isq.asDiagonal() * s * isq.asDiagonal();
  d.v = deg.cwiseSqrt() / std::sqrt(deg.sum());
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(d.m);
  d.mu.assign(es.eigenvalues().data(), es.eigenvalues().data() + n);
  std::sort(d.mu.rbegin(), d.mu.rend());
  return d;
}

double distance_to_rank_one(const Dense& d, const Eigen::MatrixXd& t) {
  const Eigen::MatrixXd e = t - d.v * d.v.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(e);
  return es.eigenvalues().cwiseAbs().maxCoeff();
}

// epsilon(K) for K = 0..max_hops by the recurrence, and the K = infinity limit.
std::vector<double> brute_curve(const Dense& d, double alpha, int max_hops) {
  const Index n = d.m.rows();
  const Eigen::MatrixXd id = Eigen::MatrixXd::Identity(n, n);
  std::vector<double> eps{distance_to_rank_one(d, d.m)};
  Eigen::MatrixXd z = id;
  for (int k = 1; k <= max_hops; ++k) {
    z = (1.0 - alpha) * d.m * z + alpha * id;
    eps.push_back(distance_to_rank_one(d, z));
  }
  return eps;
}

double brute_limit(const Dense& d, double alpha) {
  const Index n = d.m.rows();
  if (alpha == 0.0) {
    double m = 0;
    for (std::size_t i = 1; i < d.mu.size(); ++i) m = std::max(m, std::abs(d.mu[i]));
    return m < 1.0 - 1e-12 ? 0.0 : 1.0;
  }
  const Eigen::MatrixXd id = Eigen::MatrixXd::Identity(n, n);
  const Eigen::MatrixXd t = alpha * (id - (1.0 - alpha) * d.m).inverse();
  return distance_to_rank_one(d, t);
}

// The K whose brute-force epsilon is <= bound with every smaller K above it; ties within
// `slack` count both ways (the library's maps and the dense solve differ by ~1e-13).
void check_first_at_most(const std::vector<double>& eps, double bound, int k, double slack) {
  INFO("bound " << bound << ", suggested K = " << k);
  REQUIRE(k >= 0);
  REQUIRE(static_cast<std::size_t>(k) < eps.size());
  CHECK(eps[static_cast<std::size_t>(k)] <= bound + slack);
  for (int j = 0; j < k; ++j) {
    INFO("K = " << j << ": epsilon " << eps[static_cast<std::size_t>(j)]);
    CHECK(eps[static_cast<std::size_t>(j)] > bound - slack);
  }
}

std::optional<int> first_at_most(const std::vector<double>& eps, double bound) {
  for (std::size_t k = 0; k < eps.size(); ++k) {
    if (eps[k] <= bound) return static_cast<int>(k);
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("suggest_hops equals brute force on small patterns", "[cpu][analysis]") {
  const std::vector<std::pair<Index, std::string>> patterns{
      {40, "window=2,random=2,seed=9"},
      {32, "window=1,global=1"},
      {48, "window=3"},
      {36, "window=1"} /* a path: bipartite, mu_min = -1 */,
      {30, "expander=2,seed=4"},
      {44, "blocks=8,random=1,seed=2"}};
  const int max_hops = 40;
  const double slack = 1e-9;
  int target_rule = 0, converged_rule = 0, max_rule = 0;
  for (const auto& [n, spec] : patterns) {
    const graph::CsrGraph g = graph::build_pattern(n, graph::parse_pattern_spec(spec));
    const Dense d = dense_of(g);
    const spectral::GraphSpectrum s = spectral::graph_spectrum(g);
    REQUIRE(s.components == 1);
    for (const double alpha : {0.0, 0.1, 0.3}) {
      const std::vector<double> eps = brute_curve(d, alpha, max_hops);
      const double limit = brute_limit(d, alpha);
      for (const double tol : {0.05, 0.2}) {
        for (const std::optional<double> target :
             {std::optional<double>{}, std::optional<double>{0.3}, std::optional<double>{0.6},
              std::optional<double>{0.97}}) {
          INFO(spec << " n=" << n << " alpha=" << alpha << " tol=" << tol
                    << " target=" << target.value_or(-1));
          analysis::HopCriteria c;
          c.alpha = alpha;
          c.relative_tolerance = tol;
          c.target_epsilon = target;
          c.max_hops = max_hops;
          const analysis::HopSuggestion h = analysis::suggest_hops(s, d.mu, c);
          if (alpha == 0.0 && s.bipartite) {
            // mu^K with mu_min = -1 never mixes: K = 0, whatever the rules would say about
            // epsilons that are all 1 up to rounding.
            CHECK(h.hops == 0);
            CHECK(h.rule == analysis::HopRule::kConverged);
            CHECK(h.epsilon_limit == 1.0);
            CHECK_THAT(h.reasoning, Contains("bipartite"));
            continue;
          }
          CHECK(h.exact);
          REQUIRE(h.curve.size() == static_cast<std::size_t>(max_hops) + 1);
          for (int k = 0; k <= max_hops; ++k) {
            CHECK(h.curve[static_cast<std::size_t>(k)].epsilon ==
                  Approx(eps[static_cast<std::size_t>(k)]).margin(1e-10));
          }
          CHECK(h.epsilon_plain == Approx(eps[0]).margin(1e-10));
          CHECK(h.epsilon_limit == Approx(limit).margin(1e-9));
          const double threshold = limit + tol * (eps[0] - limit);
          CHECK(h.converged_threshold == Approx(threshold).margin(1e-9));
          const std::optional<int> kt = target ? first_at_most(eps, *target) : std::nullopt;
          if (kt) {
            CHECK(h.rule == analysis::HopRule::kTarget);
            CHECK(h.target_reached == std::optional<bool>(true));
            check_first_at_most(eps, *target, h.hops, slack);
            ++target_rule;
          } else if (first_at_most(eps, threshold)) {
            CHECK(h.rule == analysis::HopRule::kConverged);
            CHECK(h.target_reached == (target ? std::optional<bool>(false) : std::nullopt));
            check_first_at_most(eps, threshold, h.hops, slack);
            ++converged_rule;
          } else {
            CHECK(h.rule == analysis::HopRule::kMaxHops);
            CHECK(h.hops == max_hops);
            ++max_rule;
          }
          CHECK(h.epsilon == h.curve[static_cast<std::size_t>(h.hops)].epsilon);
          CHECK_THAT(h.reasoning, Contains(fmt::format("K = {}:", h.hops)));

          // Without the eigenvalues: bounds, so the target rule is conservative: the suggested
          // K still reaches the target exactly, and it is never smaller than the exact K.
          const analysis::HopSuggestion b = analysis::suggest_hops(s, {}, c);
          CHECK_FALSE(b.exact);
          if (b.rule == analysis::HopRule::kTarget) {
            REQUIRE(kt);
            CHECK(b.hops >= *kt);
            CHECK(eps[static_cast<std::size_t>(b.hops)] <= *target + slack);
          }
        }
      }
    }
  }
  // Every rule was exercised by the grid above.
  CHECK(target_rule > 0);
  CHECK(converged_rule > 0);
  CHECK(max_rule > 0);
}

TEST_CASE("suggest_hops: a disconnected pattern gets K = 0", "[cpu][analysis]") {
  // Keys i +- 2 only: the even and the odd tokens never meet.
  const graph::CsrGraph g = graph::build_pattern(24, graph::parse_pattern_spec("dilated=1:2"));
  const spectral::GraphSpectrum s = spectral::graph_spectrum(g);
  REQUIRE(s.components == 2);
  analysis::HopCriteria c;
  c.target_epsilon = 0.5;
  const analysis::HopSuggestion h = analysis::suggest_hops(s, {}, c);
  CHECK(h.hops == 0);
  CHECK(h.rule == analysis::HopRule::kConverged);
  CHECK(h.target_reached == std::optional<bool>(false));
  CHECK(h.epsilon_limit == 1.0);
  CHECK_THAT(h.reasoning, Contains("2 components"));
}

TEST_CASE("suggest_hops: a local window far from full attention at 1,024 tokens",
          "[cpu][analysis]") {
  // Window-only patterns have mu2 ~ 1 - O(w^2 / n^2): PPR(0.1) cannot bring them near the
  // rank-one limit (its floor ~1), so a target is unreachable and the convergence rule decides;
  // with 8 global tokens mu2 drops far below 1 and a few hops reach the target.
  const spectral::GraphSpectrum local =
      spectral::graph_spectrum(graph::build_pattern(1024, graph::parse_pattern_spec("window=3")));
  analysis::HopCriteria c;
  c.target_epsilon = 0.5;
  const analysis::HopSuggestion h = analysis::suggest_hops(local, {}, c);
  CHECK(h.target_reached == std::optional<bool>(false));
  CHECK(h.rule == analysis::HopRule::kConverged);
  CHECK(h.epsilon_limit > 0.99);
  CHECK_THAT(h.reasoning, Contains("below the untruncated limit"));
  const spectral::GraphSpectrum global = spectral::graph_spectrum(
      graph::build_pattern(1024, graph::parse_pattern_spec("window=3,global=8")));
  const analysis::HopSuggestion hg = analysis::suggest_hops(global, {}, c);
  CHECK(hg.rule == analysis::HopRule::kTarget);
  CHECK(hg.epsilon <= 0.5);
  CHECK(hg.hops < h.hops);
}

TEST_CASE("suggest_hops refuses bad criteria naming them", "[cpu][analysis]") {
  const spectral::GraphSpectrum s =
      spectral::graph_spectrum(graph::build_pattern(16, graph::parse_pattern_spec("window=1")));
  analysis::HopCriteria c;
  c.alpha = 1.5;
  CHECK_THROWS_WITH(analysis::suggest_hops(s, {}, c), Contains("alpha = 1.5"));
  c = {};
  c.max_hops = -1;
  CHECK_THROWS_WITH(analysis::suggest_hops(s, {}, c), Contains("max_hops = -1"));
  c = {};
  c.relative_tolerance = 0.0;
  CHECK_THROWS_WITH(analysis::suggest_hops(s, {}, c), Contains("relative_tolerance = 0"));
  c = {};
  c.target_epsilon = 1.5;
  CHECK_THROWS_WITH(analysis::suggest_hops(s, {}, c), Contains("target_epsilon = 1.5"));
  c = {};
  const std::vector<double> three{1.0, 0.5, 0.1};
  CHECK_THROWS_WITH(analysis::suggest_hops(s, three, c), Contains("3 eigenvalues"));
}
