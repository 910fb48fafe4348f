// Why: --alpha, --heat, --hops and --theta used to be parsed four ways, with different defaults,
// limits and meanings per command. One parser gives them one meaning and one default everywhere
// (docs/cli.md, "Diffusion options"); the checks are core/Diffusion's, shared with the configs.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/Diffusion.hpp"

namespace diffuser::cli {

/// One diffusion from the command line. Meaning (the same in every command):
///   --alpha A       PPR teleport probability alpha in [0, 1]        (default 0.1)
///   --hops K        diffusion hops K in [0, 1024]; 0 = plain attention (default 5)
///   --heat T        heat kernel with time t in [0, 1e4] instead of PPR
///   --theta t0,...  explicit coefficients theta_0..theta_K (K = count - 1); excludes the others
///   --infinite      (only where registered: spectral maps) the untruncated PPR / heat kernel
/// With none of them the diffusion is the paper's, PPR alpha = 0.1, K = 5.
class DiffusionOptions {
 public:
  /// Registers the options on `cmd`; `untruncated` adds --infinite.
  void add_to(CLI::App* cmd, bool untruncated = false);

  /// True when any of the options was given on the command line.
  bool given() const;

  /// The diffusion the options name. Throws diffuser::Error naming the option: --alpha with
  /// --heat or --theta, --hops or --infinite with --theta, a value outside its limit, a bad
  /// --theta entry.
  Diffusion resolve() const;

 private:
  double alpha_ = Diffusion::kDefaultAlpha;
  double heat_ = Diffusion::kDefaultHeatTime;
  std::int64_t hops_ = Diffusion::kDefaultHops;
  std::string theta_;
  bool infinite_ = false;
  CLI::Option *o_alpha_ = nullptr, *o_heat_ = nullptr, *o_hops_ = nullptr, *o_theta_ = nullptr,
              *o_infinite_ = nullptr;
};

/// --theta text "t0,t1,...,tK": every entry a finite number, at most Diffusion::kMaxHops + 1.
/// Throws diffuser::Error naming the entry.
std::vector<double> parse_theta(const std::string& text);

/// Sweep forms of the same options, for the commands that run several diffusions: comma-
/// separated lists of the same quantities, with the same limits (checked by diffusion_grid or
/// by the analysis that takes them). `what` ends the help text (e.g. "of error_vs_k.csv").
CLI::Option* add_hops_list(CLI::App* cmd, std::vector<int>& hops, const std::string& what = "");
CLI::Option* add_alpha_list(CLI::App* cmd, std::vector<double>& alphas);
CLI::Option* add_heat_list(CLI::App* cmd, std::vector<double>& times);

/// The diffusions of a sweep, in order: for every K in `hops`, K = 0 gives plain attention
/// once, K >= 1 gives PPR(alpha, K) for every alpha and heat(t, K) for every t; with
/// `infinite`, then the untruncated PPR(alpha) and heat(t). Throws naming the option.
std::vector<Diffusion> diffusion_grid(const std::vector<int>& hops,
                                      const std::vector<double>& alphas,
                                      const std::vector<double>& heats, bool infinite);

}  // namespace diffuser::cli
