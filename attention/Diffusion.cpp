// Why: the coefficient families of Diffusion, with their argument checks.
#include "attention/Diffusion.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/Error.hpp"

namespace diffuser::attention {

Diffusion::Diffusion() : Diffusion(plain()) {}

Diffusion::Diffusion(std::vector<double> theta, std::string description)
    : theta_(std::move(theta)), description_(std::move(description)) {}

Diffusion Diffusion::plain() { return Diffusion({0.0, 1.0}, "plain (theta=[0, 1])"); }

namespace {
void check_hops(int hops, const char* family) {
  DIFFUSER_CHECK(hops >= 0 && hops <= Diffusion::kMaxDegree,
                 "diffusion {}: hops = {} outside [0, {}]", family, hops, Diffusion::kMaxDegree);
}
}  // namespace

Diffusion Diffusion::ppr(double alpha, int hops) {
  DIFFUSER_CHECK(std::isfinite(alpha) && alpha >= 0.0 && alpha <= 1.0,
                 "diffusion ppr: alpha = {} outside [0, 1]", alpha);
  check_hops(hops, "ppr");
  if (hops == 0) return plain();
  std::vector<double> theta(static_cast<std::size_t>(hops) + 1);
  double power = 1.0;  // (1 - alpha)^k
  for (int k = 0; k < hops; ++k) {
    theta[k] = alpha * power;
    power *= 1.0 - alpha;
  }
  theta[hops] = power;
  return Diffusion(std::move(theta), fmt::format("ppr(alpha={}, hops={})", alpha, hops));
}

Diffusion Diffusion::heat(double t, int hops) {
  DIFFUSER_CHECK(std::isfinite(t) && t >= 0.0, "diffusion heat: t = {} must be finite and >= 0", t);
  check_hops(hops, "heat");
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
  return Diffusion(std::move(theta), fmt::format("heat(t={}, hops={})", t, hops));
}

Diffusion Diffusion::from_coefficients(std::vector<double> theta) {
  DIFFUSER_CHECK(!theta.empty() && theta.size() <= static_cast<std::size_t>(kMaxDegree) + 1,
                 "diffusion coefficients: {} values given (need 1 to {})", theta.size(),
                 kMaxDegree + 1);
  for (std::size_t k = 0; k < theta.size(); ++k) {
    DIFFUSER_CHECK(std::isfinite(theta[k]), "diffusion coefficients: theta_{} = {} is not finite",
                   k, theta[k]);
  }
  std::string text = fmt::format("theta=[{}]", fmt::join(theta, ", "));
  return Diffusion(std::move(theta), std::move(text));
}

}  // namespace diffuser::attention
