// Why: the one command-line parser of the diffusion options (see DiffusionOptions.hpp).
#include "cli/DiffusionOptions.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>

#include "core/Error.hpp"

namespace diffuser::cli {

namespace {

DiffusionFields cli_fields() {
  DiffusionFields f;
  f.names = {"diffusion", "--alpha", "--heat", "--hops", "--theta"};
  return f;
}

}  // namespace

void DiffusionOptions::add_to(CLI::App* cmd, bool untruncated) {
  o_alpha_ = cmd->add_option("--alpha", alpha_,
                             "Diffusion: PPR teleport probability alpha in [0, 1] (default 0.1)");
  o_hops_ = cmd->add_option("--hops", hops_,
                            "Diffusion hops K in [0, 1024]; 0 = plain attention (default 5)");
  o_heat_ = cmd->add_option("--heat", heat_,
                            "Diffusion: heat kernel with time t in [0, 1e4] instead of PPR");
  o_theta_ = cmd->add_option("--theta", theta_,
                             "Diffusion: explicit coefficients t0,t1,...,tK (comma-separated, "
                             "taken as is; sets K)");
  if (untruncated) {
    o_infinite_ = cmd->add_flag("--infinite", infinite_,
                                "Diffusion: the untruncated PPR / heat kernel (K = infinity)");
  }
}

bool DiffusionOptions::given() const {
  for (const CLI::Option* o : {o_alpha_, o_heat_, o_hops_, o_theta_, o_infinite_}) {
    if (o != nullptr && o->count() > 0) return true;
  }
  return false;
}

Diffusion DiffusionOptions::resolve() const {
  const bool ppr = o_alpha_->count() > 0, heat = o_heat_->count() > 0,
             theta = o_theta_->count() > 0, hops = o_hops_->count() > 0,
             infinite = o_infinite_ != nullptr && o_infinite_->count() > 0;
  std::vector<std::string> given;
  if (ppr) given.emplace_back("--alpha");
  if (heat) given.emplace_back("--heat");
  if (theta) given.emplace_back("--theta");
  DIFFUSER_CHECK(given.size() <= 1, "--alpha, --heat and --theta exclude each other (got {})",
                 fmt::join(given, " and "));
  DiffusionFields f = cli_fields();
  if (theta) {
    DIFFUSER_CHECK(!hops, "--hops does not go with --theta (the list t0..tK sets K)");
    DIFFUSER_CHECK(!infinite, "--infinite does not go with --theta (a finite list)");
    f.family = "theta";
    f.theta = parse_theta(theta_);
    return diffusion_from_fields(f);
  }
  DIFFUSER_CHECK(!(infinite && hops), "--infinite does not go with --hops (K = infinity)");
  f.family = heat ? "heat" : "ppr";
  f.alpha = alpha_;
  f.t = heat_;
  f.hops = hops_;
  f.untruncated = infinite;
  return diffusion_from_fields(f);
}

std::vector<double> parse_theta(const std::string& text) {
  DIFFUSER_CHECK(!text.empty(), "--theta is empty: give the coefficients t0,t1,...,tK");
  std::vector<double> theta;
  std::size_t start = 0;
  for (int entry = 1;; ++entry) {
    const std::size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto first = item.find_first_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, item.find_last_not_of(" \t") + 1);
    DIFFUSER_CHECK(!item.empty(), "--theta '{}': entry {} is empty", text, entry);
    double value = 0.0;
    const char* end = item.data() + item.size();
    const auto [ptr, ec] = std::from_chars(item.data(), end, value);
    DIFFUSER_CHECK(ec != std::errc::result_out_of_range,
                   "--theta '{}': entry {} '{}' is out of range for a double", text, entry, item);
    DIFFUSER_CHECK(ec == std::errc() && ptr == end, "--theta '{}': entry {} '{}' is not a number",
                   text, entry, item);
    DIFFUSER_CHECK(std::isfinite(value), "--theta '{}': entry {} '{}' is not finite", text, entry,
                   item);
    theta.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  DIFFUSER_CHECK(theta.size() <= static_cast<std::size_t>(Diffusion::kMaxHops) + 1,
                 "--theta has {} coefficients; at most {} (K <= {})", theta.size(),
                 Diffusion::kMaxHops + 1, Diffusion::kMaxHops);
  return theta;
}

CLI::Option* add_hops_list(CLI::App* cmd, std::vector<int>& hops, const std::string& what) {
  return cmd
      ->add_option("--hops", hops,
                   "Diffusion hops K in [0, 1024], comma-separated; 0 = plain attention" +
                       (what.empty() ? std::string() : " (" + what + ")"))
      ->delimiter(',')
      ->capture_default_str();
}

CLI::Option* add_alpha_list(CLI::App* cmd, std::vector<double>& alphas) {
  return cmd
      ->add_option("--alpha", alphas, "PPR teleport probabilities alpha in [0, 1], comma-separated")
      ->delimiter(',')
      ->capture_default_str();
}

CLI::Option* add_heat_list(CLI::App* cmd, std::vector<double>& times) {
  return cmd->add_option("--heat", times, "Heat-kernel times t in [0, 1e4], comma-separated")
      ->delimiter(',');
}

std::vector<Diffusion> diffusion_grid(const std::vector<int>& hops,
                                      const std::vector<double>& alphas,
                                      const std::vector<double>& heats, bool infinite) {
  std::vector<Diffusion> out;
  DiffusionFields f = cli_fields();
  const auto add = [&](const char* family, double alpha, double t, int k, bool untruncated) {
    f.family = family;
    f.alpha = alpha;
    f.t = t;
    f.hops = k;
    f.untruncated = untruncated;
    out.push_back(diffusion_from_fields(f));
  };
  for (const int k : hops) {
    if (k == 0) {
      add("plain", 0.0, 0.0, 0, false);
      continue;
    }
    for (const double a : alphas) add("ppr", a, 0.0, k, false);
    for (const double t : heats) add("heat", 0.0, t, k, false);
  }
  if (infinite) {
    for (const double a : alphas) add("ppr", a, 0.0, 0, true);
    for (const double t : heats) add("heat", 0.0, t, 0, true);
  }
  return out;
}

}  // namespace diffuser::cli
