// Why: the eigenvalue maps applied to the pattern's computed extremes.
#include "spectral/DiffusedSpectrum.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace diffuser::spectral {

DiffusedSpectrum diffused_spectrum(const GraphSpectrum& s, const Diffusion& spec) {
  DIFFUSER_CHECK(s.n >= 2 && std::isfinite(s.mu2.value) && std::isfinite(s.mu_min.value),
                 "diffused spectrum: needs a computed spectrum with n >= 2 (n = {})", s.n);
  DiffusedSpectrum d;
  d.diffusion = spec;
  const double lo = std::min(s.mu_min.value, s.mu2.value), hi = s.mu2.value;
  d.f_mu2 = spec.map(s.mu2.value);
  d.f_mu_min = spec.map(s.mu_min.value);
  d.second_largest = std::max(spec.max_on_interval(lo, hi), d.f_mu2);
  d.gap = 1.0 - d.second_largest;
  d.mu_star = spec.max_abs_on_interval(lo, hi);
  if (std::isfinite(s.mu2_walk.value)) {
    d.f_mu2_walk = spec.map(std::complex<double>(s.mu2_walk.value, s.mu2_walk.imag));
  }
  d.exact = std::abs(d.second_largest - d.f_mu2) <= 1e-14 * std::max(1.0, std::abs(d.f_mu2));
  return d;
}

}  // namespace diffuser::spectral
