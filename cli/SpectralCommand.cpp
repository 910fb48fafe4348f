// Why: `diffuser spectral FILE` prints the spectral summary of one pattern (gap, lambda_max,
// walk mixing, expander metrics, optional diffusion map) as one JSON object,
// `diffuser spectral sweep` runs patterns x lengths x diffusion settings into a CSV for plots,
// `diffuser spectral approx` measures the distance to full attention (analysis/SpectralApprox),
// and `diffuser spectral suggest-hops` picks the hops K from the gap (analysis/HopSuggestion).
// Every number names the matrix it is about; non-convergence is reported, never hidden.
// Documented in docs/cli.md; the math in docs/spectral.md.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/HopSuggestion.hpp"
#include "analysis/HopSuggestionJson.hpp"
#include "analysis/SpectralApprox.hpp"
#include "cli/Commands.hpp"
#include "cli/DiffusionOptions.hpp"
#include "cli/Output.hpp"
#include "cli/PatternSource.hpp"
#include "cli/Validators.hpp"
#include "core/AtomicFile.hpp"
#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "core/Threads.hpp"
#include "graph/BoostInterop.hpp"
#include "graph/GraphExport.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/DiffusedSpectrum.hpp"
#include "spectral/ExpanderMetrics.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"
#include "spectral/SpectrumJson.hpp"

namespace diffuser::cli {

namespace {

using graph::Index;
using Json = nlohmann::ordered_json;

// Options shared by both subcommands.
struct SolverArgs {
  double tol = 1e-10;
  std::int64_t max_matvecs = 20000;
  Index dense_max = 512;
  std::string method = "auto";
  bool no_shift_invert = false;
  std::uint64_t solver_seed = 20221021;
  double mixing_tol = 1e-3;
  int threads = 0;

  spectral::SolverOptions options() const {
    return spectral::make_solver_options(tol, max_matvecs, dense_max, method, !no_shift_invert,
                                         solver_seed, spectral::OptionSpelling::kCliFlags);
  }
  void apply_threads() const {
    if (threads > 0) set_num_threads(threads);
  }
};

void add_solver_options(CLI::App* cmd, SolverArgs& s) {
  cmd->add_option("--tol", s.tol, "Convergence tolerance on the residual ||A x - lambda x||")
      ->capture_default_str();
  cmd->add_option("--max-matvecs", s.max_matvecs,
                  "Most operator applications per Krylov solve before reporting non-convergence")
      ->capture_default_str();
  cmd->add_option("--dense-max", s.dense_max,
                  "Dense float64 eigen-solve up to this n (non-symmetric: min(this, 256))")
      ->capture_default_str();
  cmd->add_option("--method", s.method, "Solver path: auto, dense or iterative")
      ->capture_default_str();
  cmd->add_flag("--no-shift-invert", s.no_shift_invert,
                "Never fall back to shift-invert (sparse Cholesky) for small gaps");
  cmd->add_option("--solver-seed", s.solver_seed, "Seed of the Krylov starting vectors")
      ->check(non_negative())
      ->capture_default_str();
  cmd->add_option("--mixing-tol", s.mixing_tol,
                  "Tolerance for mixing_hops: sqrt(d_max/d_min) mu*^K <= tol")
      ->capture_default_str();
  cmd->add_option("--threads", s.threads, "OpenMP threads (default: OMP_NUM_THREADS or all)");
}

Json diffusion_json(const spectral::DiffusedSpectrum& d) {
  Json j = spectral::diffused_json(d);
  j["about"] =
      "eigenvalues of f(P) for the walk P = D^-1 S on the symmetrised pattern (similar to M): "
      "f_mu2 = f(mu2) and f_mu_min = f(mu_min) are eigenvalues; second_largest = max of f over "
      "[mu_min, mu2] bounds every non-trivial eigenvalue (exact when 'exact'); gap = 1 - "
      "second_largest; mu_star bounds every non-trivial |eigenvalue|; mu2_walk = |f(mu2_walk)| "
      "for the directed walk's second eigenvalue";
  return j;
}

struct SpectrumArgs {
  std::string file, out;
  SolverArgs solver;
  DiffusionOptions diffusion;
  Index receptive_hops = 0;
  Index receptive_samples = 256;
};

void run_spectrum(const SpectrumArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const spectral::SolverOptions opts = a.solver.options();
  DIFFUSER_CHECK(a.solver.mixing_tol > 0.0 && a.solver.mixing_tol < 1.0,
                 "--mixing-tol must be in (0, 1) (got {})", a.solver.mixing_tol);
  // Only with a diffusion option does the summary get its "diffused" section.
  const std::optional<Diffusion> diffusion =
      a.diffusion.given() ? std::optional<Diffusion>(a.diffusion.resolve()) : std::nullopt;
  a.solver.apply_threads();
  const graph::CsrGraph g = graph::read_graph(a.file);
  DIFFUSER_CHECK(g.n() >= 2, "{}: the graph has n = {} nodes; a spectral gap needs n >= 2", a.file,
                 g.n());
  const spectral::NormalizedAdjacency m(g);
  const spectral::GraphSpectrum s = spectral::graph_spectrum(g, m, opts);
  const spectral::ExpanderMetrics e = spectral::expander_metrics(s, m, a.solver.mixing_tol);

  Json j;
  j["file"] = a.file;
  const Json summary = spectral::spectrum_json(s, e);
  for (const auto& [key, value] : summary.items()) j[key] = value;
  j["about"] = {{"lambda2, lambda_max, gap",
                 "normalised Laplacian L = I - D^-1/2 S D^-1/2 of the symmetrised 0/1 pattern S "
                 "(gap = lambda2)"},
                {"mu2, mu_min, mu_star, epsilon_complete",
                 "M = D^-1/2 S D^-1/2; mu_star = max(|mu2|, "
                 "|mu_min|) = epsilon of approximating the "
                 "degree-weighted complete graph"},
                {"mu2_walk",
                 "second-largest |eigenvalue| of the walk P = D_out^-1 G on the directed "
                 "pattern"},
                {"residuals",
                 "||A x - lambda x|| / ||x|| on the matrix each number is about (mu2_walk: "
                 "on P)"},
                {"cheeger",
                 "lambda2/2 <= conductance <= sqrt(2 lambda2); sweep_conductance is the exact "
                 "conductance of the best Fiedler sweep set (a certified upper bound)"},
                {"mixing_hops",
                 "smallest K with sqrt(d_max/d_min) mu_star^K <= mixing_tolerance: bounds "
                 "|P^K(i,j) - pi_j| for the reversible walk D^-1 S"}};
  if (diffusion) j["diffused"] = diffusion_json(spectral::diffused_spectrum(s, *diffusion));
  if (a.receptive_hops > 0) {
    graph::HopOptions h;
    h.max_hops = a.receptive_hops;
    h.sample_sources = a.receptive_samples;
    h.seed = a.solver.solver_seed;
    const graph::ReceptiveField rf = graph::receptive_field(g, h);
    j["receptive_field"] = {{"fraction", rf.fraction},
                            {"mean_keys", rf.mean_keys},
                            {"exact", rf.exact},
                            {"sources", rf.sources}};
  }
  j["threads"] = num_threads();
  j["solver_seconds"] = s.seconds;
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string text = j.dump(2);
  if (!a.out.empty()) write_text_atomic(a.out, text + "\n");
  std::printf("%s\n", text.c_str());
  const std::vector<std::pair<std::string, const spectral::EigenResult*>> results{
      {"lambda2", &s.mu2}, {"lambda_max", &s.mu_min}, {"mu2_walk", &s.mu2_walk}};
  for (const auto& [key, r] : results) {
    if (!r->converged) {
      std::fprintf(stderr, "diffuser: warning: %s did not converge (%s)\n", key.c_str(),
                   r->note.c_str());
    }
  }
}

// ---------------------------------------------------------------------------------- sweep ---

struct SweepArgs {
  std::vector<std::string> patterns{"window-only", "window+global", "window+random",
                                    "window+global+random", "diffuser"};
  std::vector<Index> lengths{1024, 4096};
  std::vector<int> hops{0, 1, 2, 3, 5, 10};
  std::vector<double> alphas{0.1};
  std::vector<double> heats;
  bool infinite = false;
  Index window = 64, global = 64, random = 64;
  std::uint64_t seed = 0;
  std::string out;
  SolverArgs solver;
};

// A named pattern of `sweep` / `approx`, or a compact spec (docs/patterns.md); a bare preset
// name ("full", "bigbird", ...) is also accepted.
graph::PatternSpec named_spec(const std::string& name, Index window, Index global, Index random,
                              std::uint64_t seed) {
  std::string text;
  if (name == "window-only") {
    text = fmt::format("window={}", window);
  } else if (name == "window+global") {
    text = fmt::format("window={},global={}", window, global);
  } else if (name == "window+random") {
    text = fmt::format("window={},random={}", window, random);
  } else if (name == "window+global+random") {
    text = fmt::format("window={},global={},random={}", window, global, random);
  } else if (const auto presets = graph::preset_names();
             std::find(presets.begin(), presets.end(), name) != presets.end()) {
    text = "preset=" + name;
  } else {
    text = name;
  }
  graph::PatternSpec s = graph::parse_pattern_spec(text);
  if (text.find("seed=") == std::string::npos) s.seed = seed;
  graph::validate_spec(s);
  return s;
}

graph::PatternSpec sweep_spec(const std::string& name, const SweepArgs& a) {
  return named_spec(name, a.window, a.global, a.random, a.seed);
}

std::vector<Diffusion> sweep_diffusions(const SweepArgs& a) {
  std::vector<Diffusion> out = diffusion_grid(a.hops, a.alphas, a.heats, a.infinite);
  DIFFUSER_CHECK(!out.empty(),
                 "spectral sweep: no diffusion setting (give --hops, and --alpha "
                 "or --heat)");
  return out;
}

void run_sweep(const SweepArgs& a) {
  const spectral::SolverOptions opts = a.solver.options();
  DIFFUSER_CHECK(!a.patterns.empty() && !a.lengths.empty(),
                 "spectral sweep: needs at least one --pattern and one --lengths value");
  for (Index n : a.lengths) {
    DIFFUSER_CHECK(n >= 2, "spectral sweep: length {} is too small (n >= 2)", n);
  }
  DIFFUSER_CHECK(a.solver.mixing_tol > 0.0 && a.solver.mixing_tol < 1.0,
                 "--mixing-tol must be in (0, 1) (got {})", a.solver.mixing_tol);
  std::vector<std::pair<std::string, graph::PatternSpec>> specs;
  for (const std::string& p : a.patterns) specs.emplace_back(p, sweep_spec(p, a));
  const std::vector<Diffusion> diffusions = sweep_diffusions(a);
  a.solver.apply_threads();

  std::string csv =
      "pattern,spec,n,nnz,nnz_symmetric,components,lambda2,lambda_max,mu2_walk,mu_star,"
      "epsilon_complete,cheeger_lower,cheeger_upper,sweep_conductance,mixing_hops,"
      "method_lambda2,method_lambda_max,method_mu2_walk,residual_lambda2,residual_lambda_max,"
      "residual_mu2_walk,converged,build_seconds,solve_seconds,diffusion,alpha,t,hops,"
      "diffused_f_mu2,diffused_second_largest,diffused_gap,diffused_mu_star,diffused_mu2_walk,"
      "diffused_exact\n";
  const std::size_t total = specs.size() * a.lengths.size();
  std::size_t done = 0;
  for (const auto& [name, spec] : specs) {
    for (Index n : a.lengths) {
      const auto t0 = std::chrono::steady_clock::now();
      const graph::CsrGraph g = graph::build_pattern(n, spec);
      const double build_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const spectral::NormalizedAdjacency m(g);
      const spectral::GraphSpectrum s = spectral::graph_spectrum(g, m, opts);
      const spectral::ExpanderMetrics e = spectral::expander_metrics(s, m, a.solver.mixing_tol);
      const double solve_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - build_s;
      const std::string common = fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
          csv_field(name), csv_field(graph::format_pattern_spec(spec)), n, s.nnz, s.nnz_symmetric,
          s.components, csv_number(s.lambda2()), csv_number(s.lambda_max()),
          csv_number(s.mu2_walk.modulus()), csv_number(e.mu_star), csv_number(e.epsilon_complete),
          csv_number(e.cheeger_lower), csv_number(e.cheeger_upper),
          e.sweep ? csv_number(e.sweep->conductance) : "",
          e.mixing_hops ? std::to_string(*e.mixing_hops) : "", spectral::to_string(s.mu2.method),
          spectral::to_string(s.mu_min.method), spectral::to_string(s.mu2_walk.method),
          csv_number(s.mu2.residual), csv_number(s.mu_min.residual),
          csv_number(s.mu2_walk.residual), s.converged() ? "true" : "false", csv_number(build_s),
          csv_number(solve_s));
      for (const Diffusion& d : diffusions) {
        const spectral::DiffusedSpectrum ds = spectral::diffused_spectrum(s, d);
        csv +=
            fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", common, csv_field(d.compact()),
                        csv_number(d.alpha()), csv_number(d.t()),
                        d.is_polynomial() ? std::to_string(d.hops()) : "", csv_number(ds.f_mu2),
                        csv_number(ds.second_largest), csv_number(ds.gap), csv_number(ds.mu_star),
                        csv_number(std::abs(ds.f_mu2_walk)), ds.exact ? "true" : "false");
      }
      ++done;
      std::fprintf(stderr,
                   "[%zu/%zu] %s n=%d: lambda2 = %.6g (%s), lambda_max = %.6g (%s), mu2_walk = "
                   "%.6g (%s)%s, build %.2f s, solve %.2f s\n",
                   done, total, name.c_str(), n, s.lambda2(), spectral::to_string(s.mu2.method),
                   s.lambda_max(), spectral::to_string(s.mu_min.method), s.mu2_walk.modulus(),
                   spectral::to_string(s.mu2_walk.method), s.converged() ? "" : " NOT CONVERGED",
                   build_s, solve_s);
      // Rewrite the whole file after every graph: an interrupted sweep keeps what it computed.
      if (!a.out.empty()) write_text_atomic(a.out, csv);
    }
  }
  if (a.out.empty()) {
    std::printf("%s", csv.c_str());
  } else {
    std::fprintf(stderr, "wrote %s (%zu graphs x %zu diffusion settings)\n", a.out.c_str(), total,
                 diffusions.size());
  }
}

// --------------------------------------------------------------------------------- approx ---

struct ApproxArgs {
  analysis::SpectralApprox config;
  std::string out;
  std::vector<std::string> patterns{"window-only", "window+global", "window+random",
                                    "window+global+random", "diffuser"};
  Index window = 64, global = 64, random = 64;
  std::uint64_t seed = 0;
  int threads = 0;
  CLI::Option* o_lengths = nullptr;
};

void run_approx(ApproxArgs a) {
  DIFFUSER_CHECK(a.threads >= 0, "--threads must be >= 0 (got {})", a.threads);
  for (const std::string& p : a.patterns) {
    a.config.patterns.emplace_back(p, named_spec(p, a.window, a.global, a.random, a.seed));
  }
  // With input files n comes from the files; an explicit --lengths must agree with it.
  if (!a.config.q_file.empty() && a.o_lengths->count() == 0) a.config.lengths.clear();
  if (a.threads > 0) set_num_threads(a.threads);
  std::string csv =
      "pattern,spec,n,nnz,heads,head_dim,inputs,diffusion,alpha,hops,z_rel_error,op_rows,"
      "op_l1_mean,op_l1_max,full_seconds,pattern_seconds\n";
  std::size_t rows = 0;
  analysis::approximate_full_attention(a.config, [&](const analysis::SpectralApproxBlock& b) {
    for (const analysis::SpectralApproxRow& r : b.rows) {
      csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(r.pattern),
                         csv_field(graph::format_pattern_spec(r.spec)), r.n, r.nnz, r.heads,
                         r.head_dim, csv_field(r.inputs), csv_field(r.diffusion.describe()),
                         csv_number(r.diffusion.alpha()), r.diffusion.hops(),
                         csv_number(r.z_rel_error), r.op_rows,
                         r.op_l1_mean ? csv_number(*r.op_l1_mean) : "",
                         r.op_l1_max ? csv_number(*r.op_l1_max) : "", csv_number(r.full_seconds),
                         csv_number(r.pattern_seconds));
    }
    rows += b.rows.size();
    const analysis::SpectralApproxRow& first = b.rows.front();
    const analysis::SpectralApproxRow& last = b.rows.back();
    std::fprintf(stderr,
                 "[%zu/%zu] %s n=%d: nnz %lld, z_rel_error %.4g (K=%d) .. %.4g (K=%d), %zu "
                 "operator rows, %.2f s (full attention %.2f s)\n",
                 b.index, b.total, first.pattern.c_str(), first.n,
                 static_cast<long long>(first.nnz), first.z_rel_error, first.diffusion.hops(),
                 last.z_rel_error, last.diffusion.hops(), first.op_rows, first.pattern_seconds,
                 first.full_seconds);
    // Rewritten after every (pattern, n): an interrupted sweep keeps what it computed.
    if (!a.out.empty()) write_text_atomic(a.out, csv);
  });
  if (a.out.empty()) {
    std::printf("%s", csv.c_str());
  } else {
    std::fprintf(stderr, "wrote %s (%zu rows)\n", a.out.c_str(), rows);
  }
}

void register_approx_command(CLI::App* cmd, Action& action) {
  auto x = std::make_shared<ApproxArgs>();
  analysis::SpectralApprox& c = x->config;
  auto* approx = cmd->add_subcommand(
      "approx",
      "How far sparse attention + diffusion is from full softmax attention on given or random "
      "Q, K, V: relative error of Z and row-l1 distance of the operators (CSV)");
  approx
      ->add_option("--pattern", x->patterns,
                   "Patterns (repeatable): window-only, window+global, window+random, "
                   "window+global+random, a preset (diffuser, bigbird, longformer, full, ...) or "
                   "a compact spec such as window=16,global=4")
      ->capture_default_str();
  x->o_lengths = approx
                     ->add_option("--lengths", c.lengths,
                                  "Sequence lengths n (comma-separated; with --q/--k/--v: the "
                                  "files' n)")
                     ->delimiter(',')
                     ->capture_default_str();
  add_hops_list(approx, c.hops);
  add_alpha_list(approx, c.alphas);
  approx->add_option("--window", x->window, "Window radius of the named patterns")
      ->capture_default_str();
  approx->add_option("--global", x->global, "Global tokens of the named patterns")
      ->capture_default_str();
  approx->add_option("--random", x->random, "Random keys per query of the named patterns")
      ->capture_default_str();
  approx->add_option("--seed", x->seed, "Pattern seed (when a spec names none)")
      ->check(non_negative())
      ->capture_default_str();
  approx->add_option("--heads", c.heads, "Attention heads H")->capture_default_str();
  approx->add_option("--head-dim", c.head_dim, "Head dimension D of random inputs")
      ->capture_default_str();
  approx->add_option("--q", c.q_file, "Queries .npy [n, H*D] (with --k and --v)");
  approx->add_option("--k", c.k_file, "Keys .npy [n, H*D]");
  approx->add_option("--v", c.v_file, "Values .npy [n, H*D]");
  approx
      ->add_option("--input-seed", c.input_seed,
                   "Seed of the random inputs (Q, K ~ N(0, qk-std^2), V ~ N(0, 1)) and of the "
                   "operator row sample")
      ->capture_default_str()
      ->check(non_negative());
  approx->add_option("--qk-std", c.qk_std, "Standard deviation of random Q and K entries")
      ->capture_default_str();
  approx
      ->add_option("--operator-rows", c.operator_rows,
                   "Rows of the operator distance: all when n <= this, else a seeded sample of "
                   "this many; 0 skips it")
      ->capture_default_str();
  approx->add_option("--out", x->out,
                     "CSV file (written atomically after every pattern and length); stdout when "
                     "absent");
  approx->add_option("--threads", x->threads, "OpenMP threads (default: OMP_NUM_THREADS or all)");
  approx->callback([&action, x] { action = [x] { run_approx(*x); }; });
}

// ----------------------------------------------------------------------------- suggest-hops ---

struct SuggestArgs {
  PatternSource source;
  SolverArgs solver;
  double alpha = Diffusion::kDefaultAlpha;
  double epsilon = 0.0;
  CLI::Option* o_epsilon = nullptr;
  double rel_tol = 0.05;
  int max_hops = 64;
  std::string out;
};

void run_suggest(const SuggestArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  DIFFUSER_CHECK(a.alpha >= 0.0 && a.alpha <= 1.0, "--alpha = {} outside [0, 1]", a.alpha);
  DIFFUSER_CHECK(a.rel_tol > 0.0 && a.rel_tol < 1.0, "--rel-tol = {} outside (0, 1)", a.rel_tol);
  DIFFUSER_CHECK(a.max_hops >= 0 && a.max_hops <= Diffusion::kMaxHops,
                 "--max-hops = {} outside [0, {}]", a.max_hops, Diffusion::kMaxHops);
  const bool has_target = a.o_epsilon->count() > 0;
  DIFFUSER_CHECK(!has_target || (a.epsilon > 0.0 && a.epsilon <= 1.0),
                 "--epsilon = {} outside (0, 1]", a.epsilon);
  DIFFUSER_CHECK(a.solver.mixing_tol > 0.0 && a.solver.mixing_tol < 1.0,
                 "--mixing-tol must be in (0, 1) (got {})", a.solver.mixing_tol);
  const spectral::SolverOptions opts = a.solver.options();
  a.solver.apply_threads();
  a.source.check();
  const graph::CsrGraph g = a.source.load();
  DIFFUSER_CHECK(g.n() >= 2, "the pattern has n = {} tokens; a spectral gap needs n >= 2", g.n());
  analysis::HopCriteria c;
  c.alpha = a.alpha;
  if (has_target) c.target_epsilon = a.epsilon;
  c.relative_tolerance = a.rel_tol;
  c.max_hops = a.max_hops;
  // Every eigenvalue when n <= --dense-max (a dense solve): epsilon is then exact.
  const spectral::NormalizedAdjacency m(g);
  const analysis::PatternHops ph = analysis::suggest_hops_for_pattern(g, m, c, opts);
  const spectral::GraphSpectrum& s = ph.spectrum;
  const analysis::HopSuggestion& h = ph.suggestion;
  const spectral::ExpanderMetrics e = spectral::expander_metrics(s, m, a.solver.mixing_tol);

  Json j;
  j["pattern"] = a.source.describe();
  j["n"] = s.n;
  j["nnz"] = s.nnz;
  j["components"] = s.components;
  j["mu2"] = json_number(s.mu2.value);
  j["mu_min"] = json_number(s.mu_min.value);
  j["converged"] = s.mu2.converged && s.mu_min.converged;
  j["eigenvalues"] = h.exact ? "all (dense): epsilon exact"
                             : "mu2 and mu_min only: epsilon is the bound max |p_K| over "
                               "[mu_min, mu2]";
  j["mixing_hops"] = e.mixing_hops ? Json(*e.mixing_hops) : Json(nullptr);
  j["alpha"] = a.alpha;
  j["target_epsilon"] = has_target ? Json(a.epsilon) : Json(nullptr);
  j["relative_tolerance"] = a.rel_tol;
  j["max_hops"] = a.max_hops;
  j.update(analysis::suggestion_json(h, a.alpha));
  j["about"] =
      "epsilon(K) = largest non-trivial |p_K(mu)| over the eigenvalues mu of M = "
      "D^-1/2 S D^-1/2: the operator-norm distance of PPR(alpha, K) diffusion from the "
      "rank-one full-attention projection; rules in docs/spectral.md section 11";
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string text = j.dump(2);
  if (!a.out.empty()) write_text_atomic(a.out, text + "\n");
  std::printf("%s\n", text.c_str());
  std::fprintf(stderr, "suggest-hops: %s\n", h.reasoning.c_str());
  if (!j["converged"].get<bool>()) {
    std::fprintf(stderr, "diffuser: warning: the eigen-solve did not converge (%s)\n",
                 (s.mu2.converged ? s.mu_min.note : s.mu2.note).c_str());
  }
}

void register_suggest_command(CLI::App* cmd, Action& action) {
  auto x = std::make_shared<SuggestArgs>();
  auto* sub = cmd->add_subcommand(
      "suggest-hops",
      "Hops K of PPR diffusion from the spectral gap: the smallest K whose diffused operator is "
      "within --epsilon of full attention, else past which more hops gain < --rel-tol of what "
      "diffusion can gain (JSON with the reasoning)");
  add_pattern_source(sub, x->source);
  sub->add_option("--alpha", x->alpha, "PPR teleport probability alpha in [0, 1]")
      ->capture_default_str();
  x->o_epsilon = sub->add_option(
      "--epsilon", x->epsilon,
      "Target distance epsilon in (0, 1] from the rank-one full-attention operator");
  sub->add_option("--rel-tol", x->rel_tol,
                  "Convergence rule: stop when epsilon(K) is within this fraction of "
                  "epsilon(0) - epsilon(infinity) above the untruncated limit")
      ->capture_default_str();
  sub->add_option("--max-hops", x->max_hops, "Largest K tried")->capture_default_str();
  add_solver_options(sub, x->solver);
  sub->add_option("--out", x->out, "Also write the JSON object to this file (atomically)");
  sub->callback([&action, x] { action = [x] { run_suggest(*x); }; });
}

}  // namespace

void register_spectral_commands(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand(
      "spectral",
      "Spectral gap and expander metrics of a pattern file (one JSON object); `spectral sweep` "
      "for patterns x lengths x diffusion settings (CSV); `spectral approx` for the distance to "
      "full attention (CSV); `spectral suggest-hops` for the hops K from the gap (JSON). Math: "
      "docs/spectral.md");
  cmd->require_subcommand(0, 1);
  auto a = std::make_shared<SpectrumArgs>();
  cmd->add_option("FILE", a->file, "Graph file (.mtx, .txt/.edges, .json, .npy)");
  add_solver_options(cmd, a->solver);
  a->diffusion.add_to(cmd, true);  // any of them adds the "diffused" section
  cmd->add_option("--receptive-field", a->receptive_hops,
                  "Also report the fraction of (query, key) pairs within k = 1..K hops (graph "
                  "module BFS; sampled sources beyond 20000 nodes)");
  cmd->add_option("--receptive-samples", a->receptive_samples,
                  "BFS sources sampled for --receptive-field on large graphs")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Also write the JSON object to this file (atomically)");

  auto w = std::make_shared<SweepArgs>();
  auto* sweep = cmd->add_subcommand(
      "sweep",
      "Patterns x lengths x diffusion settings -> CSV (one row per pattern, n and diffusion)");
  sweep
      ->add_option("--pattern", w->patterns,
                   "Patterns (repeatable): window-only, window+global, window+random, "
                   "window+global+random, diffuser, or a compact spec such as "
                   "window=16,global=4")
      ->capture_default_str();
  sweep->add_option("--lengths", w->lengths, "Sequence lengths n (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  add_hops_list(sweep, w->hops);
  add_alpha_list(sweep, w->alphas);
  add_heat_list(sweep, w->heats);
  sweep->add_flag("--infinite", w->infinite,
                  "Also the untruncated PPR(alpha) and heat(t) maps (K = infinity)");
  sweep->add_option("--window", w->window, "Window radius of the named patterns")
      ->capture_default_str();
  sweep->add_option("--global", w->global, "Global tokens of the named patterns")
      ->capture_default_str();
  sweep->add_option("--random", w->random, "Random keys per query of the named patterns")
      ->capture_default_str();
  sweep->add_option("--seed", w->seed, "Pattern seed (when a spec names none)")
      ->check(non_negative())
      ->capture_default_str();
  sweep->add_option("--out", w->out,
                    "CSV file (written atomically after every graph); stdout "
                    "when absent");
  add_solver_options(sweep, w->solver);
  sweep->callback([&action, w] { action = [w] { run_sweep(*w); }; });

  register_approx_command(cmd, action);
  register_suggest_command(cmd, action);

  cmd->callback([&action, a, sweep, cmd] {
    // `spectral sweep` and `spectral approx` set their own actions.
    if (sweep->parsed() || cmd->get_subcommand("approx")->parsed() ||
        cmd->get_subcommand("suggest-hops")->parsed()) {
      return;
    }
    action = [a] {
      DIFFUSER_CHECK(!a->file.empty(), "spectral: missing FILE (or use `spectral sweep`)");
      run_spectrum(*a);
    };
  });
}

}  // namespace diffuser::cli
