// Why: every nn backward is checked against central differences of its forward in double. One
// helper does the perturbation loop so each test only states the function and the analytic
// gradient.
//
// Tolerance: with step h the central difference has truncation error ~h^2 |f'''| / 6 and
// round-off ~eps_double |f| / h. For the O(1) test functions here (|f| <= ~100, |f'''| <= ~10)
// and h = 1e-5 that is ~2e-10 + ~2e-9 per component, so a relative error (2-norm over the whole
// gradient) of 1e-6 leaves a margin of ~100x while any real backward bug (a missing term, a wrong
// index) gives errors of order 1e-2 or more.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/Rng.hpp"
#include "tests/Testing.hpp"

namespace diffuser::testing {

/// Central-difference gradient of f() with respect to the entries of x (x is perturbed in
/// place and restored).
inline std::vector<double> numeric_gradient(std::span<double> x, const std::function<double()>& f,
                                            double h = 1e-5) {
  std::vector<double> g(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f();
    x[i] = saved - h;
    const double down = f();
    x[i] = saved;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/// Checks rel_error(analytic, numeric) <= tol for the gradient of f() with respect to x.
inline void check_gradient(const std::string& what, std::span<double> x,
                           std::span<const double> analytic, const std::function<double()>& f,
                           double tol = 1e-6) {
  REQUIRE(analytic.size() == x.size());
  const std::vector<double> numeric = numeric_gradient(x, f);
  const double err = rel_error(analytic, std::span<const double>(numeric));
  INFO(what << ": relative error " << err << " over " << x.size() << " entries");
  CHECK(err <= tol);
  // A gradient that is identically zero would pass trivially against a zero numeric one; every
  // test here is built so that the true gradient is non-zero.
  double norm = 0;
  for (const double v : numeric) norm += v * v;
  CHECK(norm > 0);
}

/// Deterministic pseudo-random doubles in [lo, hi) for test inputs.
inline std::vector<double> random_vector(std::size_t n, std::uint64_t seed, double lo = -1.0,
                                         double hi = 1.0) {
  Rng rng(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = lo + (hi - lo) * rng.uniform();
  return v;
}

/// sum_i w_i y_i: the scalar test loss whose gradient with respect to y is w.
inline double dot(std::span<const double> w, std::span<const double> y) {
  REQUIRE(w.size() == y.size());
  double s = 0;
  for (std::size_t i = 0; i < w.size(); ++i) s += w[i] * y[i];
  return s;
}

}  // namespace diffuser::testing
