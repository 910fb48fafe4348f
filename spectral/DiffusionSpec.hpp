// Why: multi-hop attention diffusion is a function f of the attention operator A (DESIGN.md §1);
// its eigenvalues are f(mu) for the eigenvalues mu of A. One value type names the diffusion
// (PPR, truncated PPR, heat, truncated heat), gives the polynomial coefficients theta_k and
// maps eigenvalues, so the CLI, the operator and the tests agree on the definition.
#pragma once

#include <complex>
#include <string>
#include <vector>

namespace diffuser::spectral {

/// Which diffusion function f(mu).
enum class DiffusionKind {
  kNone,           ///< f(mu) = mu: plain (sparse) attention, the K = 0 baseline
  kPpr,            ///< f(mu) = alpha / (1 - (1 - alpha) mu): personalised PageRank, K = infinity
  kPprTruncated,   ///< f(mu) = (1-alpha)^K mu^K + alpha sum_{k<K} (1-alpha)^k mu^k (the paper)
  kHeat,           ///< f(mu) = exp(-t (1 - mu)): heat kernel, K = infinity
  kHeatTruncated,  ///< f(mu) = sum_{k<=K} theta_k mu^k, theta_k ∝ t^k / k!, renormalised to sum 1
};

/// A diffusion: kind plus parameters. Construct through the named factories, which validate.
struct DiffusionSpec {
  DiffusionKind kind = DiffusionKind::kNone;
  double alpha = 0.0;  ///< teleport (restart) probability, PPR kinds, in (0, 1)
  double t = 0.0;      ///< diffusion time, heat kinds, > 0
  int hops = 0;        ///< K, truncated kinds, in [1, kMaxHops]

  static constexpr int kMaxHops = 4096;

  static DiffusionSpec none();
  static DiffusionSpec ppr(double alpha);
  static DiffusionSpec ppr_truncated(double alpha, int hops);
  static DiffusionSpec heat(double t);
  static DiffusionSpec heat_truncated(double t, int hops);

  /// Throws diffuser::Error naming the bad parameter.
  void validate() const;

  /// True for kNone and the truncated kinds (f is a polynomial in mu).
  bool is_polynomial() const;

  /// Polynomial coefficients theta_0 .. theta_K of f (sum 1 for the truncated kinds;
  /// {0, 1} for kNone). Throws for the non-polynomial kinds.
  std::vector<double> coefficients() const;

  /// f(mu) for a real eigenvalue.
  double map(double mu) const;
  /// f(mu) for a complex eigenvalue (non-symmetric operators).
  std::complex<double> map(std::complex<double> mu) const;

  /// max_{mu in [lo, hi]} f(mu), found numerically: the endpoints plus a grid of
  /// max(4096, 64 K) points refined by golden-section search around every local maximum
  /// (accurate to ~1e-12 for the polynomial degrees allowed). For kPpr and kHeat, f is
  /// increasing and the maximum is f(hi) exactly.
  double max_on_interval(double lo, double hi) const;
  /// max_{mu in [lo, hi]} |f(mu)|, same method.
  double max_abs_on_interval(double lo, double hi) const;

  /// E.g. "ppr(alpha=0.1,K=5)".
  std::string describe() const;
};

}  // namespace diffuser::spectral
