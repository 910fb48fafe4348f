// Why: issue 2 acceptance 3 — the n = 1,000,000 pattern (window 64, 64 global, 64 random) must be
// built in memory in under 5 s and 3 GB on the 2-core machine. This program measures the build
// (median of repeats), its peak resident memory, and the transposition, against two baselines
// measured in the same run: the same build on one thread, and the output-write floor (allocating
// and writing nnz int32 column indices once, which any O(nnz) builder must pay).
//
// Usage: bench_patterns [--n N] [--spec SPEC] [--repeats R] [--out FILE.json]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "bench/BenchUtil.hpp"
#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"

using namespace diffuser;
using namespace diffuser::graph;

namespace {

using bench::Clock;
using bench::median;
using bench::proc_status_bytes;
using bench::seconds_since;

}  // namespace

constexpr const char* kUsage =
    "bench_patterns: building an attention pattern (CSR) at large n, medians over repeats\n"
    "(docs/benchmarks.md).\n"
    "Options (value, default):\n"
    "  --n N (1000000)  --spec SPEC (window=64,global=64,random=64,seed=0)  --repeats R (3)\n"
    "  --out PATH (bench-out/bench_patterns.json)\n";

int main(int argc, char** argv) {
  if (diffuser::bench::help_requested(argc, argv, kUsage)) return 0;
  try {
    Index n = 1000000;
    std::string spec_text = "window=64,global=64,random=64,seed=0";
    int repeats = 3;
    std::string out = "bench-out/bench_patterns.json";
    for (int a = 1; a < argc; ++a) {
      const std::string arg = argv[a];
      DIFFUSER_CHECK(a + 1 < argc, "bench_patterns: option {} needs a value", arg);
      const std::string value = argv[++a];
      if (arg == "--n") {
        n = bench::int_option(arg, value, 1);
      } else if (arg == "--spec") {
        spec_text = value;
      } else if (arg == "--repeats") {
        repeats = bench::int_option(arg, value, 1);
      } else if (arg == "--out") {
        out = value;
      } else {
        fail("bench_patterns: unknown option {} (use --n, --spec, --repeats, --out)", arg);
      }
    }
    const PatternSpec spec = parse_pattern_spec(spec_text);
    const int threads = num_threads();
    fmt::print("bench_patterns: n = {}, pattern {}, {} repeats, {} threads, {}\n", n,
               format_pattern_spec(spec), repeats, threads, bench::cpu_model());
    const double rss_start = proc_status_bytes("VmRSS:");

    // 1. The build on all threads (the measured configuration). Peak memory is read right
    //    after this phase, before anything else allocates.
    std::vector<double> build_s;
    std::int64_t nnz = 0;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = Clock::now();
      const CsrGraph g = build_pattern(n, spec);
      build_s.push_back(seconds_since(t0));
      nnz = g.nnz();
      fmt::print("  build {}: {:.3f} s, nnz = {}\n", r, build_s.back(), nnz);
    }
    const double peak_build = proc_status_bytes("VmHWM:");
    const double graph_bytes = 4.0 * (static_cast<double>(n) + 1 + static_cast<double>(nnz));

    // 2. Baselines: one thread; and the output-write floor.
    std::vector<double> single_s;
    {
      ThreadCountGuard one(1);
      for (int r = 0; r < repeats; ++r) {
        const auto t0 = Clock::now();
        const CsrGraph g = build_pattern(n, spec);
        single_s.push_back(seconds_since(t0));
        fmt::print("  build, 1 thread {}: {:.3f} s\n", r, single_s.back());
      }
    }
    std::vector<double> floor_s;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = Clock::now();
      std::vector<Index> columns(static_cast<std::size_t>(nnz));
      std::iota(columns.begin(), columns.end(), 0);
      floor_s.push_back(seconds_since(t0));
      if (columns[static_cast<std::size_t>(nnz / 2)] != nnz / 2) return 3;  // keep the work
    }

    // 3. Transposition (with the edge permutation) of the built graph.
    std::vector<double> transpose_s;
    {
      const CsrGraph g = build_pattern(n, spec);
      for (int r = 0; r < repeats; ++r) {
        const auto t0 = Clock::now();
        const Transposed t = transpose(g);
        transpose_s.push_back(seconds_since(t0));
        fmt::print("  transpose {}: {:.3f} s\n", r, transpose_s.back());
      }
    }
    const double peak_total = proc_status_bytes("VmHWM:");

    const double build_med = median(build_s), single_med = median(single_s),
                 floor_med = median(floor_s), transpose_med = median(transpose_s);
    nlohmann::ordered_json j;
    j["benchmark"] = "bench_patterns";
    j["config"] = {{"n", n},
                   {"pattern", format_pattern_spec(spec)},
                   {"repeats", repeats},
                   {"threads", threads}};
    j["machine"] = bench::machine_json();
    j["nnz"] = nnz;
    j["graph_bytes"] = graph_bytes;
    j["build_s"] = {{"median", build_med}, {"all", build_s}};
    j["peak_rss_bytes_build"] = peak_build;
    j["rss_bytes_at_start"] = rss_start;
    j["baselines"] = {
        {"build_1_thread_s", {{"median", single_med}, {"all", single_s}}},
        {"output_write_floor_s", {{"median", floor_med}, {"all", floor_s}}},
    };
    j["ratios"] = {{"speedup_vs_1_thread", single_med / build_med},
                   {"build_over_output_write_floor", build_med / floor_med}};
    j["transpose_s"] = {{"median", transpose_med}, {"all", transpose_s}};
    j["transpose_over_build"] = transpose_med / build_med;
    j["peak_rss_bytes_with_transpose"] = peak_total;
    j["targets"] = {{"build_s_max", 5.0},
                    {"peak_rss_bytes_max", 3e9},
                    {"met", build_med < 5.0 && peak_build < 3e9}};
    const std::filesystem::path parent = std::filesystem::path(out).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    write_text_atomic(out, j.dump(2) + "\n");
    fmt::print(
        "build median {:.3f} s ({} threads; 1 thread {:.3f} s, speedup {:.2f}x; output-write floor "
        "{:.3f} s, ratio {:.2f}x)\npeak RSS after build {:.2f} GB (graph {:.2f} GB)\ntranspose "
        "median {:.3f} s ({:.2f}x build), peak RSS with transpose {:.2f} GB\nwrote {}\n",
        build_med, threads, single_med, single_med / build_med, floor_med, build_med / floor_med,
        peak_build / 1e9, graph_bytes / 1e9, transpose_med, transpose_med / build_med,
        peak_total / 1e9, out);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_patterns: error: %s\n", e.what());
    return 1;
  }
}
