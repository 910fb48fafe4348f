// Why: the only out-of-line part of the RNG (Box-Muller needs <cmath>).
#include "core/Rng.hpp"

#include <cmath>
#include <numbers>

namespace diffuser {

double Rng::normal() {
  double u1 = uniform();
  const double u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace diffuser
