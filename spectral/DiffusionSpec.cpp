// Why: the coefficient formulas (DESIGN.md §1) and the eigenvalue maps in one place.
#include "spectral/DiffusionSpec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/Error.hpp"

namespace diffuser::spectral {

DiffusionSpec DiffusionSpec::none() { return DiffusionSpec{}; }

DiffusionSpec DiffusionSpec::ppr(double alpha) {
  DiffusionSpec s{DiffusionKind::kPpr, alpha, 0.0, 0};
  s.validate();
  return s;
}

DiffusionSpec DiffusionSpec::ppr_truncated(double alpha, int hops) {
  DiffusionSpec s{DiffusionKind::kPprTruncated, alpha, 0.0, hops};
  s.validate();
  return s;
}

DiffusionSpec DiffusionSpec::heat(double t) {
  DiffusionSpec s{DiffusionKind::kHeat, 0.0, t, 0};
  s.validate();
  return s;
}

DiffusionSpec DiffusionSpec::heat_truncated(double t, int hops) {
  DiffusionSpec s{DiffusionKind::kHeatTruncated, 0.0, t, hops};
  s.validate();
  return s;
}

void DiffusionSpec::validate() const {
  switch (kind) {
    case DiffusionKind::kNone:
      return;
    case DiffusionKind::kPprTruncated:
    case DiffusionKind::kHeatTruncated:
      DIFFUSER_CHECK(hops >= 1 && hops <= kMaxHops,
                     "diffusion: hops K must be in [1, {}] (got {}); K = 0 is plain attention "
                     "(kind none)",
                     kMaxHops, hops);
      break;
    default:
      break;
  }
  if (kind == DiffusionKind::kPpr || kind == DiffusionKind::kPprTruncated) {
    DIFFUSER_CHECK(std::isfinite(alpha) && alpha > 0.0 && alpha < 1.0,
                   "diffusion: PPR teleport alpha must be in (0, 1) (got {})", alpha);
  } else {
    DIFFUSER_CHECK(std::isfinite(t) && t > 0.0 && t <= 1e4,
                   "diffusion: heat-kernel time t must be in (0, 1e4] (got {})", t);
  }
}

bool DiffusionSpec::is_polynomial() const {
  return kind == DiffusionKind::kNone || kind == DiffusionKind::kPprTruncated ||
         kind == DiffusionKind::kHeatTruncated;
}

std::vector<double> DiffusionSpec::coefficients() const {
  validate();
  switch (kind) {
    case DiffusionKind::kNone:
      return {0.0, 1.0};
    case DiffusionKind::kPprTruncated: {
      std::vector<double> th(static_cast<std::size_t>(hops) + 1);
      double p = 1.0;  // (1 - alpha)^k
      for (int k = 0; k < hops; ++k) {
        th[k] = alpha * p;
        p *= 1.0 - alpha;
      }
      th[hops] = p;
      return th;
    }
    case DiffusionKind::kHeatTruncated: {
      // theta_k = t^k / k! / sum_{j<=K} t^j / j!, in log space to avoid overflow for large t.
      std::vector<double> logs(static_cast<std::size_t>(hops) + 1);
      for (int k = 0; k <= hops; ++k) logs[k] = k * std::log(t) - std::lgamma(k + 1.0);
      const double top = *std::max_element(logs.begin(), logs.end());
      std::vector<double> th(logs.size());
      double sum = 0.0;
      for (std::size_t k = 0; k < th.size(); ++k) sum += th[k] = std::exp(logs[k] - top);
      for (double& v : th) v /= sum;
      return th;
    }
    default:
      fail("diffusion {}: not a polynomial, it has no finite coefficient list", describe());
  }
}

namespace {

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

double maximise(const std::function<double(double)>& g, double lo, double hi, int hops) {
  DIFFUSER_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
                 "diffusion: bad eigenvalue interval [{}, {}]", lo, hi);
  double best = std::max(g(lo), g(hi));
  if (hi == lo) return best;
  const int points = std::max(4096, 64 * hops);
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

double DiffusionSpec::map(double mu) const {
  switch (kind) {
    case DiffusionKind::kNone:
      return mu;
    case DiffusionKind::kPpr:
      return alpha / (1.0 - (1.0 - alpha) * mu);
    case DiffusionKind::kHeat:
      return std::exp(-t * (1.0 - mu));
    default:
      return horner(coefficients(), mu);
  }
}

std::complex<double> DiffusionSpec::map(std::complex<double> mu) const {
  switch (kind) {
    case DiffusionKind::kNone:
      return mu;
    case DiffusionKind::kPpr:
      return alpha / (1.0 - (1.0 - alpha) * mu);
    case DiffusionKind::kHeat:
      return std::exp(-t * (1.0 - mu));
    default:
      return horner(coefficients(), mu);
  }
}

double DiffusionSpec::max_on_interval(double lo, double hi) const {
  if (kind == DiffusionKind::kNone || kind == DiffusionKind::kPpr || kind == DiffusionKind::kHeat) {
    DIFFUSER_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
                   "diffusion: bad eigenvalue interval [{}, {}]", lo, hi);
    return map(hi);  // increasing on [-1, 1]
  }
  const auto th = coefficients();
  return maximise([&](double mu) { return horner(th, mu); }, lo, hi, hops);
}

double DiffusionSpec::max_abs_on_interval(double lo, double hi) const {
  if (kind == DiffusionKind::kPpr || kind == DiffusionKind::kHeat) {
    DIFFUSER_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
                   "diffusion: bad eigenvalue interval [{}, {}]", lo, hi);
    return std::max(std::abs(map(lo)), std::abs(map(hi)));  // monotone on [-1, 1]
  }
  if (kind == DiffusionKind::kNone) return std::max(std::abs(lo), std::abs(hi));
  const auto th = coefficients();
  return maximise([&](double mu) { return std::abs(horner(th, mu)); }, lo, hi, hops);
}

std::string DiffusionSpec::describe() const {
  switch (kind) {
    case DiffusionKind::kNone:
      return "none";
    case DiffusionKind::kPpr:
      return fmt::format("ppr(alpha={})", alpha);
    case DiffusionKind::kPprTruncated:
      return fmt::format("ppr(alpha={},K={})", alpha, hops);
    case DiffusionKind::kHeat:
      return fmt::format("heat(t={})", t);
    case DiffusionKind::kHeatTruncated:
      return fmt::format("heat(t={},K={})", t, hops);
  }
  return "unknown";
}

}  // namespace diffuser::spectral
