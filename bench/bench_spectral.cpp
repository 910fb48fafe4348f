// Why: the spectral issue's benchmark — the gap (lambda2 of the normalised Laplacian) of the
// n = 100,000 `diffuser` preset pattern and of the window 64 + 64 global + 64 random pattern:
// time and peak memory, side by side in the same run with SciPy's eigsh on the same matrix and
// tolerance (the named baseline). Target: <= 10 s on the 2-core machine and faster than SciPy.
//
// What is timed (median over repeats): building M = D^-1/2 S D^-1/2 from the CSR pattern
// (symmetrisation) plus second_eigenvalue() (Lanczos with D^1/2 1 deflated, shift-invert
// fallback). SciPy gets M itself (written as CSR .npy arrays: indptr int64, indices int32, data
// float64) and runs eigsh(M, k=2, which='LA', tol) — the usual way to get mu2 — in
// scripts/bench_spectral_scipy.py.
//
// Usage: bench_spectral [--n N] [--pattern SPEC]... [--tol T] [--repeats R] [--out FILE.json]
//                       [--scipy-repeats R] [--python PY] [--script PATH] [--workdir DIR]
//                       [--no-scipy] [--block-size B] [--block-basis M] [--block-stats]
// --scipy-repeats (default: --repeats) lets the slow baseline run fewer times than ours.
// --block-size B (>= 2) times the block Lanczos method (spectral/BlockEigensolver.hpp) next to
// the single-vector Lanczos method in the same run: "ours" is then block_size = 1 and "block"
// block_size = B, each with its own symmetrisation, both in the JSON.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/BenchUtil.hpp"
#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"
#include "spectral/BlockEigensolver.hpp"
#include "spectral/GraphSpectrum.hpp"
#include "spectral/NormalizedAdjacency.hpp"

using namespace diffuser;
using graph::Index;

namespace {

using bench::Clock;
using bench::cpu_model;
using bench::median;
using bench::proc_status_bytes;
using bench::seconds_since;

/// Resets the peak-RSS counter VmHWM to the current RSS (Linux >= 4.0); false when refused.
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  return static_cast<bool>(f);
}

/// The 1-, 5- and 15-minute load averages (/proc/loadavg), "" when unavailable: the machine is
/// shared, and a timing means little without the load it was measured under.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  if (!(in >> a >> b >> c)) return "";
  return fmt::format("{} {} {}", a, b, c);
}

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// Writes M as CSR arrays <dir>/<prefix>_{indptr,indices,data}.npy.
void write_csr(const spectral::NormalizedAdjacency& m, const std::string& dir,
               const std::string& prefix) {
  const graph::CsrGraph& s = m.pattern();
  const Index n = s.n();
  std::vector<std::int64_t> indptr(s.offsets().begin(), s.offsets().end());
  std::vector<std::int32_t> indices(s.columns().begin(), s.columns().end());
  std::vector<double> data(static_cast<std::size_t>(s.nnz()));
  const auto& sq = m.sqrt_degree();
  for (Index i = 0; i < n; ++i) {
    for (Index e = s.offsets()[i]; e < s.offsets()[i + 1]; ++e) {
      data[e] = 1.0 / (sq[i] * sq[s.columns()[e]]);
    }
  }
  write_npy(dir + "/" + prefix + "_indptr.npy",
            NpyArray::from<std::int64_t>(indptr, {static_cast<std::int64_t>(indptr.size())}));
  write_npy(dir + "/" + prefix + "_indices.npy",
            NpyArray::from<std::int32_t>(indices, {static_cast<std::int64_t>(indices.size())}));
  write_npy(dir + "/" + prefix + "_data.npy",
            NpyArray::from<double>(data, {static_cast<std::int64_t>(data.size())}));
}

// One timed solve: building M from the pattern (symmetrisation, row-sum plan), then mu2;
// `after(m)` runs once the clock has stopped (it sees M, e.g. to write it for SciPy).
struct TimedSolve {
  double symmetrise_s = 0.0;
  double total_s = 0.0;
  spectral::EigenResult result;
};

template <typename After>
TimedSolve timed_solve(const graph::CsrGraph& g, const spectral::SolverOptions& opts,
                       After&& after) {
  TimedSolve t;
  const auto t0 = Clock::now();
  const spectral::NormalizedAdjacency m(g);
  t.symmetrise_s = seconds_since(t0);
  t.result = spectral::second_eigenvalue(m, opts);
  t.total_s = seconds_since(t0);
  after(m);
  return t;
}

// Appends one solve's times to the per-repeat lists.
void record(const TimedSolve& t, std::vector<double>& symmetrise, std::vector<double>& solve,
            std::vector<double>& total) {
  symmetrise.push_back(t.symmetrise_s);
  solve.push_back(t.total_s - t.symmetrise_s);
  total.push_back(t.total_s);
}

}  // namespace

constexpr const char* kUsage =
    "bench_spectral: spectral gap of large patterns against SciPy's eigsh on the same matrix\n"
    "(docs/benchmarks.md).\n"
    "Options (value, default):\n"
    "  --n N (100000)  --pattern SPEC (repeatable; preset=diffuser and\n"
    "  window=64,global=64,random=64)  --tol T (1e-8)  --repeats R (3)\n"
    "  --scipy-repeats R (--repeats)  --out PATH (bench-out/bench_spectral.json)\n"
    "  --python PY (/usr/bin/python3)  --script PATH (scripts/bench_spectral_scipy.py)\n"
    "  --workdir DIR (bench-out/spectral_matrices)  --no-scipy\n"
    "  --block-size B (0: off; B >= 2 also times the block Lanczos method, and \"ours\" is\n"
    "  then the single-vector method)  --block-basis M (0: automatic basis columns)\n"
    "  --block-stats (one more, untimed block solve that prints where its time goes)\n";

int main(int argc, char** argv) {
  if (bench::help_requested(argc, argv, kUsage)) return 0;
  try {
    Index n = 100000;
    std::vector<std::string> patterns;
    double tol = 1e-8;
    int repeats = 3;
    int scipy_repeats = 0;
    std::string out = "bench-out/bench_spectral.json";
    std::string python = "/usr/bin/python3";
    std::string script = "scripts/bench_spectral_scipy.py";
    std::string workdir = "bench-out/spectral_matrices";
    bool scipy = true;
    int block_size = 0;
    int block_basis = 0;
    bool block_stats = false;
    for (int a = 1; a < argc; ++a) {
      const std::string arg = argv[a];
      if (arg == "--no-scipy") {
        scipy = false;
        continue;
      }
      if (arg == "--block-stats") {
        block_stats = true;
        continue;
      }
      DIFFUSER_CHECK(a + 1 < argc, "bench_spectral: option {} needs a value", arg);
      const std::string value = argv[++a];
      if (arg == "--n") {
        n = bench::int_option(arg, value, 1);
      } else if (arg == "--pattern") {
        patterns.push_back(value);
      } else if (arg == "--tol") {
        tol = bench::number_option(arg, value);
      } else if (arg == "--repeats") {
        repeats = bench::int_option(arg, value, 1);
      } else if (arg == "--scipy-repeats") {
        scipy_repeats = bench::int_option(arg, value, 1);
      } else if (arg == "--out") {
        out = value;
      } else if (arg == "--python") {
        python = value;
      } else if (arg == "--script") {
        script = value;
      } else if (arg == "--workdir") {
        workdir = value;
      } else if (arg == "--block-size") {
        block_size = bench::int_option(arg, value, 0);
        DIFFUSER_CHECK(block_size == 0 || (block_size >= 2 && block_size <= 16),
                       "bench_spectral: --block-size must be 0 or in [2, 16] (got {})", block_size);
      } else if (arg == "--block-basis") {
        block_basis = bench::int_option(arg, value, 0);
      } else {
        fail(
            "bench_spectral: unknown option {} (use --n, --pattern, --tol, --repeats, "
            "--scipy-repeats, --out, --python, --script, --workdir, --no-scipy, --block-size, "
            "--block-basis)",
            arg);
      }
    }
    if (patterns.empty()) patterns = {"preset=diffuser", "window=64,global=64,random=64"};
    if (scipy_repeats == 0) scipy_repeats = repeats;
    const int threads = num_threads();
    const std::string load_start = load_average();
    fmt::print("bench_spectral: n = {}, tol = {}, {} repeats, {} threads, {}, load average {}\n", n,
               tol, repeats, threads, cpu_model(), load_start);
    std::filesystem::create_directories(workdir);
    spectral::SolverOptions opts;
    opts.tol = tol;
    opts.block_basis = block_basis;
    if (block_size >= 2) opts.block_size = 1;  // "ours" = the single-vector method
    spectral::SolverOptions block_opts = opts;
    block_opts.block_size = block_size;

    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    bool all_met = true;
    for (const std::string& text : patterns) {
      const graph::PatternSpec spec = graph::parse_pattern_spec(text);
      const std::string name = graph::format_pattern_spec(spec);
      auto tb = Clock::now();
      const graph::CsrGraph g = graph::build_pattern(n, spec);
      const double build_s = seconds_since(tb);
      fmt::print("pattern {}: nnz = {}, built in {:.2f} s\n", name, g.nnz(), build_s);

      std::vector<double> sym_s, solve_s, total_s, extra_peak;
      spectral::EigenResult r;
      std::int64_t nnz_sym = 0;
      bool peak_ok = true;
      for (int rep = 0; rep < repeats; ++rep) {
        peak_ok = reset_peak_rss() && peak_ok;
        const double rss0 = proc_status_bytes("VmRSS:");
        const TimedSolve t = timed_solve(g, opts, [&](const spectral::NormalizedAdjacency& m) {
          extra_peak.push_back(proc_status_bytes("VmHWM:") - rss0);
          nnz_sym = m.pattern().nnz();
          if (rep == 0 && scipy) write_csr(m, workdir, slug(name));
        });
        r = t.result;
        const double t_sym = t.symmetrise_s;
        record(t, sym_s, solve_s, total_s);
        fmt::print(
            "  ours {}: symmetrise {:.3f} s + solve {:.3f} s = {:.3f} s, lambda2 = {:.10g} "
            "({}, {} matvecs, residual {:.2e}{}), extra peak {:.0f} MB\n",
            rep, t_sym, solve_s.back(), total_s.back(), 1.0 - r.value,
            spectral::to_string(r.method), r.matvecs, r.residual,
            r.converged ? "" : ", NOT CONVERGED", extra_peak.back() / 1e6);
      }
      // The block method, same repeats, its own symmetrisation.
      nlohmann::ordered_json block_entry;
      if (block_size >= 2) {
        std::vector<double> bsym_s, bsolve_s, btotal_s;
        spectral::EigenResult br;
        for (int rep = 0; rep < repeats; ++rep) {
          const TimedSolve t =
              timed_solve(g, block_opts, [](const spectral::NormalizedAdjacency&) {});
          br = t.result;
          const double t_sym = t.symmetrise_s;
          record(t, bsym_s, bsolve_s, btotal_s);
          fmt::print(
              "  block(b={}) {}: symmetrise {:.3f} s + solve {:.3f} s = {:.3f} s, lambda2 = "
              "{:.10g} ({} matvecs = {} block products, residual {:.2e}{})\n    note: {}\n",
              block_size, rep, t_sym, bsolve_s.back(), btotal_s.back(), 1.0 - br.value, br.matvecs,
              br.matvecs / block_size, br.residual, br.converged ? "" : ", NOT CONVERGED", br.note);
        }
        if (block_stats) {
          // Untimed extra solve for the breakdown of the block method's time.
          const spectral::NormalizedAdjacency m(g);
          spectral::BlockSolveStats st;
          spectral::SolverOptions so = block_opts;
          so.block_size = block_size;
          const auto t0 = Clock::now();
          const spectral::EigenResult sr = spectral::block_second_eigenvalue(m, so, &st);
          fmt::print(
              "  block stats: {:.3f} s: {} block products {:.3f} s, orthogonalise {:.3f} s, "
              "Rayleigh-Ritz {:.3f} s, {} restarts, {} single products, residual {:.2e}\n",
              seconds_since(t0), st.block_products, st.product_seconds, st.orthogonalise_seconds,
              st.rayleigh_ritz_seconds, st.restarts, st.single_products, sr.residual);
        }
        const double rel = std::abs(br.value - r.value) / std::abs(r.value);
        const double rel_l2 =
            std::abs((1.0 - br.value) - (1.0 - r.value)) / std::abs(1.0 - r.value);
        fmt::print(
            "  block vs single: solve {:.3f} s vs {:.3f} s ({:.2f}x), mu2 relative difference "
            "{:.2e}, lambda2 relative difference {:.2e}\n",
            median(bsolve_s), median(solve_s), median(solve_s) / median(bsolve_s), rel, rel_l2);
        block_entry = {{"block_size", block_size},
                       {"lambda2", 1.0 - br.value},
                       {"mu2", br.value},
                       {"residual", br.residual},
                       {"converged", br.converged},
                       {"method", spectral::to_string(br.method)},
                       {"matvecs", br.matvecs},
                       {"block_products", br.matvecs / block_size},
                       {"note", br.note},
                       {"symmetrise_s", {{"median", median(bsym_s)}, {"all", bsym_s}}},
                       {"solve_s", {{"median", median(bsolve_s)}, {"all", bsolve_s}}},
                       {"total_s", {{"median", median(btotal_s)}, {"all", btotal_s}}},
                       {"mu2_relative_difference_to_ours", rel},
                       {"lambda2_relative_difference_to_ours", rel_l2},
                       {"solve_speedup_over_ours", median(solve_s) / median(bsolve_s)}};
      }
      nlohmann::ordered_json entry;
      entry["pattern"] = name;
      entry["n"] = n;
      entry["nnz"] = g.nnz();
      entry["nnz_symmetric"] = nnz_sym;
      entry["build_pattern_s"] = build_s;
      entry["ours"] = {
          {"lambda2", 1.0 - r.value},
          {"mu2", r.value},
          {"residual", r.residual},
          {"converged", r.converged},
          {"method", spectral::to_string(r.method)},
          {"matvecs", r.matvecs},
          {"note", r.note},
          {"symmetrise_s", {{"median", median(sym_s)}, {"all", sym_s}}},
          {"solve_s", {{"median", median(solve_s)}, {"all", solve_s}}},
          {"total_s", {{"median", median(total_s)}, {"all", total_s}}},
          {"extra_peak_rss_bytes", *std::max_element(extra_peak.begin(), extra_peak.end())},
          {"peak_rss_measured", peak_ok}};
      if (block_size >= 2) entry["block"] = block_entry;
      const double ours = median(total_s);
      bool met = ours <= 10.0 && r.converged;
      if (scipy) {
        const std::string json_path = workdir + "/" + slug(name) + "_scipy.json";
        std::filesystem::remove(json_path);
        const std::string cmd =
            fmt::format("{} {} --dir {} --prefix {} --tol {} --repeats {} --out {}", python, script,
                        workdir, slug(name), tol, scipy_repeats, json_path);
        fmt::print("  running SciPy: {}\n", cmd);
        std::fflush(stdout);
        const int rc = std::system(cmd.c_str());
        if (rc == 0 && std::filesystem::exists(json_path)) {
          const auto sj = nlohmann::ordered_json::parse(read_text_file(json_path));
          entry["scipy"] = sj;
          const double sec = sj.at("seconds").at("median").get<double>();
          const bool sconv = sj.at("converged").get<bool>();
          entry["ratios"] = {{"scipy_over_ours_total", sec / ours},
                             {"scipy_over_ours_solve", sec / median(solve_s)}};
          if (sj.contains("lambda2") && !sj.at("lambda2").is_null()) {
            const double sl2 = sj.at("lambda2").get<double>();
            entry["lambda2_relative_difference"] = std::abs(sl2 - (1.0 - r.value)) / std::abs(sl2);
          }
          met = met && (sec > ours || !sconv);
          fmt::print("  SciPy eigsh: {:.3f} s ({}), lambda2 = {}; SciPy / ours = {:.2f}x\n", sec,
                     sconv ? "converged" : "DID NOT CONVERGE", sj.value("lambda2", 0.0),
                     sec / ours);
        } else {
          entry["scipy"] = {{"error", fmt::format("script failed (exit status {})", rc)}};
          fmt::print("  SciPy baseline failed (exit status {})\n", rc);
        }
      }
      entry["target"] = {{"seconds_max", 10.0}, {"faster_than_scipy", scipy}, {"met", met}};
      all_met = all_met && met;
      results.push_back(entry);
    }
    nlohmann::ordered_json j;
    j["benchmark"] = "bench_spectral";
    j["config"] = {{"n", n},
                   {"tol", tol},
                   {"repeats", repeats},
                   {"scipy_repeats", scipy_repeats},
                   {"threads", threads},
                   {"patterns", patterns},
                   {"scipy", scipy},
                   {"block_size", block_size},
                   {"block_basis", block_basis}};
    j["machine"] = bench::machine_json();
    j["machine"]["load_average_start"] = load_start;
    j["machine"]["load_average_end"] = load_average();
    j["results"] = results;
    j["all_targets_met"] = all_met;
    const std::filesystem::path parent = std::filesystem::path(out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    write_text_atomic(out, j.dump(2) + "\n");
    fmt::print("wrote {}\n", out);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_spectral: error: %s\n", e.what());
    return 1;
  }
}
