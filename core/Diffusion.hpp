// Why: the diffusion polynomial is the one set of hyper-parameters of Diffuser attention and the
// one function whose eigenvalue map the spectral analysis studies. One value type, below both
// attention/ and spectral/, names it (plain, PPR, heat kernel, explicit coefficients), gives its
// coefficients theta_k, maps eigenvalues and holds the parameter checks, so the kernels, the
// spectral maps, the CLI and the experiment configs agree on one definition and one set of
// limits (docs/design.md §1).
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

namespace diffuser {

/// A diffusion f of the attention operator A (docs/design.md §1).
///
/// Polynomial diffusions (every family but the untruncated PPR and heat kernel) have
/// coefficients theta_0..theta_K and give
///
///     Z = f(A) V = sum_{k=0..K} theta_k A^k V,
///
/// evaluated by Horner: Y_K = theta_K V, Y_k = A Y_{k+1} + theta_k V (k = K-1..0), Z = Y_0.
/// K = degree() is the number of sparse products A·Y a forward pass makes. The eigenvalues of
/// f(A) are f(mu) for the eigenvalues mu of A (map()).
///
/// Hop convention (the one of the whole project): `hops` is the number of diffusion hops K.
/// hops = 0 is plain attention Z = A V, theta = (0, 1) (degree 1: the attention itself; with
/// the dense full pattern it is full attention); hops = K >= 1 gives a polynomial of degree K.
/// An explicit coefficient list is taken literally: theta = (1) gives Z = V, theta = (0, 1) is
/// plain attention.
///
/// Limits (checked by every factory; the messages name the parameter):
///  - hops in [0, kMaxHops] (a guard against absurd hop counts and memory use; large K is
///    useful to check convergence towards the untruncated operators);
///  - PPR teleport alpha in [0, 1]; the untruncated PPR needs alpha in (0, 1] (f is singular
///    at mu = 1 for alpha = 0);
///  - heat-kernel time t in [0, kMaxHeatTime];
///  - explicit lists: 1 to kMaxHops + 1 finite values.
class Diffusion {
 public:
  /// The family a diffusion was built from.
  enum class Family {
    kPlain,         ///< f(mu) = mu: plain attention, theta = (0, 1)
    kPpr,           ///< personalised PageRank (truncated at hops, or untruncated)
    kHeat,          ///< heat kernel exp(-t (1 - mu)) (truncated at hops, or untruncated)
    kCoefficients,  ///< explicit theta_0..theta_K
  };

  static constexpr int kMaxHops = 1024;
  static constexpr double kMaxHeatTime = 1e4;
  /// The paper's diffusion (and the default of the CLI and the configs): PPR, alpha = 0.1, K = 5.
  static constexpr double kDefaultAlpha = 0.1;
  static constexpr int kDefaultHops = 5;
  static constexpr double kDefaultHeatTime = 1.0;

  /// Plain attention, theta = (0, 1).
  Diffusion();

  /// Plain attention Z = A V: theta = (0, 1), degree 1.
  static Diffusion plain();

  /// Truncated personalised PageRank (the paper's diffusion): theta_k = alpha (1 - alpha)^k for
  /// k < K and theta_K = (1 - alpha)^K, which sums to 1 and equals K steps of Z_0 = V,
  /// Z_{k+1} = (1 - alpha) A Z_k + alpha V. f(mu) = (1-alpha)^K mu^K + alpha sum_{k<K}
  /// (1-alpha)^k mu^k. alpha in [0, 1]; hops in [0, kMaxHops]; hops = 0 gives plain().
  static Diffusion ppr(double alpha, int hops);

  /// Untruncated PPR (K = infinity, spectral maps only): f(mu) = alpha / (1 - (1 - alpha) mu).
  /// alpha in (0, 1]. Not a polynomial: theta() throws.
  static Diffusion ppr(double alpha);

  /// Heat kernel exp(-t (I - A)) truncated at K = hops terms and renormalised:
  /// theta_k = (t^k / k!) / sum_{m<=K} t^m / m! (the e^{-t} factor cancels). t in
  /// [0, kMaxHeatTime]; t = 0 gives theta = (1, 0, ..., 0), i.e. Z = V. hops = 0 gives plain().
  static Diffusion heat(double t, int hops);

  /// Untruncated heat kernel (K = infinity, spectral maps only): f(mu) = exp(-t (1 - mu)).
  /// t in [0, kMaxHeatTime]. Not a polynomial: theta() throws.
  static Diffusion heat(double t);

  /// An explicit list theta_0..theta_K (1 to kMaxHops + 1 finite values). The sum is not
  /// forced to 1 (learnable coefficients may leave the simplex); sum = 1 keeps Z an average.
  static Diffusion from_coefficients(std::vector<double> theta);

  Family family() const { return family_; }
  /// False only for the untruncated PPR and heat kernel.
  bool is_polynomial() const { return !theta_.empty(); }
  /// PPR teleport alpha (PPR family), NaN otherwise.
  double alpha() const { return alpha_; }
  /// Heat-kernel time t (heat family), NaN otherwise.
  double t() const { return t_; }
  /// Hops K of the PPR/heat families (0 for plain attention, degree() for explicit lists);
  /// -1 for the untruncated ones.
  int hops() const { return hops_; }

  /// theta_0..theta_K (size degree() + 1). Throws for the untruncated families.
  const std::vector<double>& theta() const;

  /// K, the polynomial degree = number of A·Y products per forward pass (throws for the
  /// untruncated families).
  int degree() const { return static_cast<int>(theta().size()) - 1; }

  /// Long form, as the attention outputs print it: "plain (theta=[0, 1])",
  /// "ppr(alpha=0.1, hops=5)", "heat(t=1.5, hops=4)", "theta=[0.5, 0.5]", "ppr(alpha=0.1)",
  /// "heat(t=2)".
  const std::string& describe() const { return description_; }

  /// Compact form, as the spectral outputs print it: "none" (plain), "ppr(alpha=0.1,K=5)",
  /// "ppr(alpha=0.1)", "heat(t=1,K=5)", "heat(t=1)", "theta=[0.5,0.5]".
  std::string compact() const;

  /// f(mu) for a real eigenvalue mu of A.
  double map(double mu) const;
  /// f(mu) for a complex eigenvalue (non-symmetric operators).
  std::complex<double> map(std::complex<double> mu) const;

  /// max_{mu in [lo, hi]} f(mu), found numerically for polynomials: the endpoints plus a grid
  /// of max(4096, 64 K) points refined by golden-section search around every local maximum
  /// (accurate to ~1e-12 for the degrees allowed). For plain attention and the untruncated
  /// families f is increasing on [-1, 1] and the maximum is f(hi) exactly.
  double max_on_interval(double lo, double hi) const;
  /// max_{mu in [lo, hi]} |f(mu)|, same method.
  double max_abs_on_interval(double lo, double hi) const;

  /// Polynomials: equal coefficient lists (plain() == from_coefficients({0, 1})). Untruncated
  /// families: same family and parameter.
  friend bool operator==(const Diffusion& a, const Diffusion& b);

 private:
  Diffusion(Family family, double alpha, double t, int hops, std::vector<double> theta,
            std::string description);

  Family family_ = Family::kPlain;
  double alpha_ = 0.0;
  double t_ = 0.0;
  int hops_ = 0;
  std::vector<double> theta_;  ///< empty for the untruncated families
  std::string description_;
};

/// Named fields of a diffusion, as an experiment config section or a command line gives them;
/// Diffusion::from_fields checks them with messages that name the field (`names`).
struct DiffusionFields {
  /// "plain", "ppr", "heat" or "theta" (explicit coefficients).
  std::string family = "ppr";
  double alpha = Diffusion::kDefaultAlpha;      ///< ppr
  double t = Diffusion::kDefaultHeatTime;       ///< heat
  std::int64_t hops = Diffusion::kDefaultHops;  ///< ppr, heat (checked before narrowing)
  std::vector<double> theta;                    ///< theta: theta_0..theta_K, non-empty
  /// ppr / heat with K = infinity (spectral maps only); hops is then ignored.
  bool untruncated = false;
  /// How the fields are called in error messages, e.g. "--alpha" on the command line or
  /// "config key 'attention.alpha'" in a config.
  struct Names {
    std::string family = "family", alpha = "alpha", t = "t", hops = "hops", theta = "theta";
  } names;
};

/// The diffusion named by `fields` (fields of other families are ignored). Throws
/// diffuser::Error naming the field: an unknown family, a value outside its limit (see
/// Diffusion), an empty theta, untruncated with family plain or theta.
Diffusion diffusion_from_fields(const DiffusionFields& fields);

}  // namespace diffuser
