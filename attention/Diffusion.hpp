// Why: the diffusion polynomial is the one set of hyper-parameters of Diffuser attention. The
// original code hard-codes alpha = 0.1 and K = 5 inside its kernel; here the coefficients are a
// value built by a named family (PPR, heat kernel, explicit list) and passed to every backend.
#pragma once

#include <string>
#include <vector>

namespace diffuser::attention {

/// Coefficients theta_0..theta_K of the attention diffusion (DESIGN.md §1)
///
///     Z = sum_{k=0..K} theta_k A^k V,
///
/// evaluated by Horner: Y_K = theta_K V, Y_k = A Y_{k+1} + theta_k V (k = K-1..0), Z = Y_0.
/// K = degree() is the number of sparse products A·Y a forward pass makes.
///
/// Hop-count convention: the families take `hops`, the number of diffusion hops. hops = 0 means
/// "diffusion off", i.e. plain attention Z = A V, the polynomial theta = (0, 1) of degree 1
/// (DESIGN.md: "K = 0 is plain sparse attention"; with the dense full pattern it is full
/// attention). hops = K >= 1 gives a polynomial of degree K. An explicit list is taken
/// literally: theta = (1) gives Z = V, theta = (0, 1) is plain attention.
class Diffusion {
 public:
  /// Largest supported degree K (a guard against absurd hop counts and memory use; large K is
  /// useful to check convergence towards the untruncated PPR / heat operators).
  static constexpr int kMaxDegree = 1024;

  /// Plain attention, theta = (0, 1).
  Diffusion();

  /// Plain attention Z = A V: theta = (0, 1), degree 1.
  static Diffusion plain();

  /// Truncated personalised PageRank (the paper's diffusion; the original code used alpha = 0.1,
  /// hops = 5): theta_k = alpha (1 - alpha)^k for k < K and theta_K = (1 - alpha)^K, which sums
  /// to 1 and equals K steps of Z_0 = V, Z_{k+1} = (1 - alpha) A Z_k + alpha V.
  /// alpha in [0, 1]; hops in [0, kMaxDegree]; hops = 0 gives plain().
  static Diffusion ppr(double alpha, int hops);

  /// Heat kernel exp(-t (I - A)) truncated at K = hops terms and renormalised:
  /// theta_k = (t^k / k!) / sum_{m<=K} t^m / m! (the e^{-t} factor cancels). t >= 0 and finite;
  /// t = 0 gives theta = (1, 0, ..., 0), i.e. Z = V. hops = 0 gives plain().
  static Diffusion heat(double t, int hops);

  /// An explicit list theta_0..theta_K (1 to kMaxDegree + 1 finite values). The sum is not
  /// forced to 1 (learnable coefficients may leave the simplex); sum = 1 keeps Z an average.
  static Diffusion from_coefficients(std::vector<double> theta);

  /// theta_0..theta_K (size degree() + 1).
  const std::vector<double>& theta() const { return theta_; }

  /// K, the polynomial degree = number of A·Y products per forward pass.
  int degree() const { return static_cast<int>(theta_.size()) - 1; }

  /// Human-readable origin, e.g. "ppr(alpha=0.1, hops=5)" or "theta=[0.5, 0.5]".
  const std::string& describe() const { return description_; }

  friend bool operator==(const Diffusion& a, const Diffusion& b) { return a.theta_ == b.theta_; }

 private:
  Diffusion(std::vector<double> theta, std::string description);

  std::vector<double> theta_;
  std::string description_;
};

}  // namespace diffuser::attention
