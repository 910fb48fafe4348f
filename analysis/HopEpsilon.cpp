// Why: the eigenvalue maps of core/Diffusion applied to a computed pattern spectrum, per K.
#include "analysis/HopEpsilon.hpp"

#include <algorithm>
#include <cmath>

#include "spectral/DiffusedSpectrum.hpp"

namespace diffuser::analysis {

std::vector<HopEpsilon> epsilon_vs_hops(const spectral::GraphSpectrum& spectrum,
                                        std::span<const double> all_eigenvalues, double alpha,
                                        const std::vector<int>& hops) {
  std::vector<HopEpsilon> out;
  out.reserve(hops.size());
  for (const int k : hops) {
    const Diffusion d = Diffusion::ppr(alpha, k);
    const spectral::DiffusedSpectrum ds = spectral::diffused_spectrum(spectrum, d);
    HopEpsilon p{d, ds.mu_star, false, ds.second_largest, ds.gap};
    if (!all_eigenvalues.empty() && spectrum.components == 1) {
      p.epsilon = 0.0;  // every eigenvalue but the top 1 (connected: it is simple)
      for (std::size_t i = 1; i < all_eigenvalues.size(); ++i) {
        p.epsilon = std::max(p.epsilon, std::abs(d.map(all_eigenvalues[i])));
      }
      p.exact = true;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace diffuser::analysis
