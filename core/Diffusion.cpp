// Why: the coefficient families of Diffusion with their argument checks, the eigenvalue maps and
// their interval maxima, and the named-field builder shared by the CLI and the configs.
//
// core/ is compiled without -ffp-contract=fast (ISO C++ mode: no fused multiply-add unless
// written), so the coefficients and maps do not depend on -march: the same bits on every CPU.
#include "core/Diffusion.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "core/Error.hpp"

namespace diffuser {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_hops(std::int64_t hops, const std::string& name) {
  DIFFUSER_CHECK(hops >= 0 && hops <= Diffusion::kMaxHops,
                 "{} = {} outside [0, {}] (diffusion hops K; 0 = plain attention)", name, hops,
                 Diffusion::kMaxHops);
}

void check_alpha(double alpha, const std::string& name, bool untruncated) {
  if (untruncated) {
    DIFFUSER_CHECK(std::isfinite(alpha) && alpha > 0.0 && alpha <= 1.0,
                   "{} = {} outside (0, 1] (PPR teleport probability; the untruncated PPR "
                   "needs alpha > 0)",
                   name, alpha);
  } else {
    DIFFUSER_CHECK(std::isfinite(alpha) && alpha >= 0.0 && alpha <= 1.0,
                   "{} = {} outside [0, 1] (PPR teleport probability; the paper uses 0.1)", name,
                   alpha);
  }
}

void check_time(double t, const std::string& name) {
  DIFFUSER_CHECK(std::isfinite(t) && t >= 0.0 && t <= Diffusion::kMaxHeatTime,
                 "{} = {} outside [0, {}] (heat-kernel time)", name, t, Diffusion::kMaxHeatTime);
}

void check_theta(const std::vector<double>& theta, const std::string& name) {
  DIFFUSER_CHECK(
      !theta.empty() && theta.size() <= static_cast<std::size_t>(Diffusion::kMaxHops) + 1,
      "{}: {} values given (need 1 to {} coefficients theta_0..theta_K)", name, theta.size(),
      Diffusion::kMaxHops + 1);
  for (std::size_t k = 0; k < theta.size(); ++k) {
    DIFFUSER_CHECK(std::isfinite(theta[k]), "{}: theta_{} = {} is not finite", name, k, theta[k]);
  }
}

template <typename T>
T horner(const std::vector<double>& th, T mu) {
  T acc = th.back();
  for (std::size_t k = th.size() - 1; k-- > 0;) acc = acc * mu + th[k];
  return acc;
}

// Golden-section maximisation of g on [a, b] (g unimodal there).
double golden_max(const std::function<double(double)>& g, double a, double b) {
  const double r = 0.5 * (std::sqrt(5.0) - 1.0);
  double c = b - r * (b - a), d = a + r * (b - a);
  double gc = g(c), gd = g(d);
  for (int it = 0; it < 200 && b - a > 1e-14; ++it) {
    if (gc >= gd) {
      b = d;
      d = c;
      gd = gc;
      c = b - r * (b - a);
      gc = g(c);
    } else {
      a = c;
      c = d;
      gc = gd;
      d = a + r * (b - a);
      gd = g(d);
    }
  }
  return std::max(gc, gd);
}

void check_interval(double lo, double hi) {
  DIFFUSER_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
                 "diffusion: bad eigenvalue interval [{}, {}]", lo, hi);
}

double maximise(const std::function<double(double)>& g, double lo, double hi, int degree) {
  check_interval(lo, hi);
  double best = std::max(g(lo), g(hi));
  if (hi == lo) return best;
  const int points = std::max(4096, 64 * degree);
  const double h = (hi - lo) / points;
  std::vector<double> v(static_cast<std::size_t>(points) + 1);
  for (int i = 0; i <= points; ++i) v[i] = g(i == points ? hi : lo + i * h);
  for (int i = 1; i < points; ++i) {
    if (v[i] >= v[i - 1] && v[i] >= v[i + 1]) {
      best = std::max(best, golden_max(g, lo + (i - 1) * h, std::min(hi, lo + (i + 1) * h)));
    }
    best = std::max(best, v[i]);
  }
  return best;
}

}  // namespace

Diffusion::Diffusion() : Diffusion(plain()) {}

Diffusion::Diffusion(Family family, double alpha, double t, int hops, std::vector<double> theta,
                     std::string description)
    : family_(family),
      alpha_(alpha),
      t_(t),
      hops_(hops),
      theta_(std::move(theta)),
      description_(std::move(description)) {}

Diffusion Diffusion::plain() {
  return Diffusion(Family::kPlain, kNaN, kNaN, 0, {0.0, 1.0}, "plain (theta=[0, 1])");
}

Diffusion Diffusion::ppr(double alpha, int hops) {
  check_alpha(alpha, "diffusion ppr: alpha", false);
  check_hops(hops, "diffusion ppr: hops");
  if (hops == 0) return plain();
  std::vector<double> theta(static_cast<std::size_t>(hops) + 1);
  double power = 1.0;  // (1 - alpha)^k
  for (int k = 0; k < hops; ++k) {
    theta[k] = alpha * power;
    power *= 1.0 - alpha;
  }
  theta[hops] = power;
  return Diffusion(Family::kPpr, alpha, kNaN, hops, std::move(theta),
                   fmt::format("ppr(alpha={}, hops={})", alpha, hops));
}

Diffusion Diffusion::ppr(double alpha) {
  check_alpha(alpha, "diffusion ppr: alpha", true);
  return Diffusion(Family::kPpr, alpha, kNaN, -1, {}, fmt::format("ppr(alpha={})", alpha));
}

Diffusion Diffusion::heat(double t, int hops) {
  check_time(t, "diffusion heat: t");
  check_hops(hops, "diffusion heat: hops");
  if (hops == 0) return plain();
  std::vector<double> theta(static_cast<std::size_t>(hops) + 1, 0.0);
  if (t == 0.0) {
    theta[0] = 1.0;
  } else {
    // log(t^k / k!) in log space so large t cannot overflow; shift by the maximum, normalise.
    std::vector<double> log_w(theta.size());
    for (int k = 0; k <= hops; ++k) log_w[k] = k * std::log(t) - std::lgamma(k + 1.0);
    const double top = *std::max_element(log_w.begin(), log_w.end());
    double sum = 0.0;
    for (int k = 0; k <= hops; ++k) sum += theta[k] = std::exp(log_w[k] - top);
    for (double& w : theta) w /= sum;
  }
  return Diffusion(Family::kHeat, kNaN, t, hops, std::move(theta),
                   fmt::format("heat(t={}, hops={})", t, hops));
}

Diffusion Diffusion::heat(double t) {
  check_time(t, "diffusion heat: t");
  return Diffusion(Family::kHeat, kNaN, t, -1, {}, fmt::format("heat(t={})", t));
}

Diffusion Diffusion::from_coefficients(std::vector<double> theta) {
  check_theta(theta, "diffusion coefficients");
  std::string text = fmt::format("theta=[{}]", fmt::join(theta, ", "));
  const int hops = static_cast<int>(theta.size()) - 1;
  return Diffusion(Family::kCoefficients, kNaN, kNaN, hops, std::move(theta), std::move(text));
}

const std::vector<double>& Diffusion::theta() const {
  if (theta_.empty()) {
    fail("diffusion {}: not a polynomial, it has no finite coefficient list", description_);
  }
  return theta_;
}

std::string Diffusion::compact() const {
  switch (family_) {
    case Family::kPlain:
      return "none";
    case Family::kPpr:
      return is_polynomial() ? fmt::format("ppr(alpha={},K={})", alpha_, hops_)
                             : fmt::format("ppr(alpha={})", alpha_);
    case Family::kHeat:
      return is_polynomial() ? fmt::format("heat(t={},K={})", t_, hops_)
                             : fmt::format("heat(t={})", t_);
    case Family::kCoefficients:
      break;
  }
  return fmt::format("theta=[{}]", fmt::join(theta_, ","));
}

double Diffusion::map(double mu) const {
  if (is_polynomial()) return family_ == Family::kPlain ? mu : horner(theta_, mu);
  if (family_ == Family::kPpr) return alpha_ / (1.0 - (1.0 - alpha_) * mu);
  return std::exp(-t_ * (1.0 - mu));
}

std::complex<double> Diffusion::map(std::complex<double> mu) const {
  if (is_polynomial()) return family_ == Family::kPlain ? mu : horner(theta_, mu);
  if (family_ == Family::kPpr) return alpha_ / (1.0 - (1.0 - alpha_) * mu);
  return std::exp(-t_ * (1.0 - mu));
}

double Diffusion::max_on_interval(double lo, double hi) const {
  if (family_ == Family::kPlain || !is_polynomial()) {
    check_interval(lo, hi);
    return map(hi);  // increasing on [-1, 1]
  }
  return maximise([this](double mu) { return horner(theta_, mu); }, lo, hi, degree());
}

double Diffusion::max_abs_on_interval(double lo, double hi) const {
  if (!is_polynomial()) {
    check_interval(lo, hi);
    return std::max(std::abs(map(lo)), std::abs(map(hi)));  // monotone on [-1, 1]
  }
  if (family_ == Family::kPlain) return std::max(std::abs(lo), std::abs(hi));
  return maximise([this](double mu) { return std::abs(horner(theta_, mu)); }, lo, hi, degree());
}

bool operator==(const Diffusion& a, const Diffusion& b) {
  if (a.is_polynomial() || b.is_polynomial()) return a.theta_ == b.theta_;
  if (a.family_ != b.family_) return false;
  return a.family_ == Diffusion::Family::kPpr ? a.alpha_ == b.alpha_ : a.t_ == b.t_;
}

Diffusion diffusion_from_fields(const DiffusionFields& f) {
  const DiffusionFields::Names& n = f.names;
  const bool known =
      f.family == "plain" || f.family == "ppr" || f.family == "heat" || f.family == "theta";
  DIFFUSER_CHECK(known, "{} = '{}' is not a diffusion family (plain, ppr, heat or theta)", n.family,
                 f.family);
  if (f.family == "plain" || f.family == "theta") {
    DIFFUSER_CHECK(!f.untruncated, "{} = {}: only ppr and heat have an untruncated form", n.family,
                   f.family);
    if (f.family == "plain") return Diffusion::plain();
    check_theta(f.theta, n.theta);
    return Diffusion::from_coefficients(f.theta);
  }
  if (f.family == "ppr") {
    check_alpha(f.alpha, n.alpha, f.untruncated);
    if (f.untruncated) return Diffusion::ppr(f.alpha);
    check_hops(f.hops, n.hops);
    return Diffusion::ppr(f.alpha, static_cast<int>(f.hops));
  }
  check_time(f.t, n.t);
  if (f.untruncated) return Diffusion::heat(f.t);
  check_hops(f.hops, n.hops);
  return Diffusion::heat(f.t, static_cast<int>(f.hops));
}

}  // namespace diffuser
