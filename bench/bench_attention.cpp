// Why: issue 3's performance targets — sparse attention with diffusion (PPR alpha 0.1, K 5) on the
// window 64 + 64 global + 64 random pattern against dense softmax attention measured in the same
// run: forward + backward time (median of repeats), peak memory, speedup and memory ratio; the
// SpMM hop's achieved GFLOP/s and GB/s next to the machine's copy bandwidth (measured here too);
// and the timing of the two candidate edge-value layouts ([H, nnz] vs [nnz, H]).
//
// Usage: bench_attention [--n N] [--heads H] [--head-dim D] [--repeats R] [--json FILE]
//   [--alpha A] [--hops K] [--window W] [--global G] [--random R] [--seed S] [--spec SPEC]
//   [--dense auto|on|off] [--dense-diffusion auto|on|off] [--dense-limit-mb MB]
//
// Peak memory of a variant = the process's resident-set high-water mark (VmHWM, reset through
// /proc/self/clear_refs) during the variant minus the resident set just before it; inputs
// (q, k, v, dz, the pattern) are resident before and not counted; the plan, outputs, saved
// state and every temporary are.
#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attention/DenseAttention.hpp"
#include "attention/SparseAttention.hpp"
#include "attention/cpu/OptimizedKernels.hpp"
#include "bench/BenchUtil.hpp"
#include "core/AtomicFile.hpp"
#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "core/Threads.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"

using namespace diffuser;
using namespace diffuser::attention;
using graph::Index;
using Json = nlohmann::json;

namespace {

using bench::Clock;
using bench::kMiB;
using bench::median;
using bench::ms_since;
using bench::PeakMeter;

struct Measurement {
  std::vector<double> fwd_ms, bwd_ms, total_ms;
  double peak_mb = 0, saved_mb = 0, plan_ms = 0;

  Json json() const {
    Json j;
    j["fwd_ms"] = median(fwd_ms);
    j["bwd_ms"] = median(bwd_ms);
    j["fwd_bwd_ms"] = median(total_ms);
    j["fwd_bwd_ms_all"] = total_ms;
    j["peak_mb"] = peak_mb;
    j["saved_mb"] = saved_mb;
    if (plan_ms > 0) j["plan_build_ms"] = plan_ms;
    return j;
  }
};

struct Inputs {
  std::vector<float> q, k, v, dz;
};

Measurement run_sparse(const graph::CsrGraph& pattern, const AttentionOptions& o, const Inputs& x,
                       int repeats) {
  Measurement m;
  PeakMeter meter;
  const auto t0 = Clock::now();
  const AttentionPlan plan(pattern);
  m.plan_ms = ms_since(t0);
  std::vector<float> z(x.q.size()), dq(x.q.size()), dk(x.q.size()), dv(x.q.size());
  std::vector<double> dtheta(o.diffusion.theta().size());
  AttentionSaved<float> saved;
  const AttentionInputs<float> in{x.q, x.k, x.v, 1, {}};
  for (int r = 0; r < repeats; ++r) {
    const auto t1 = Clock::now();
    sparse_attention_forward<float>(plan, o, in, z, &saved);
    const double f = ms_since(t1);
    const auto t2 = Clock::now();
    sparse_attention_backward<float>(plan, in, saved, x.dz,
                                     AttentionGradients<float>{dq, dk, dv, dtheta});
    const double b = ms_since(t2);
    m.fwd_ms.push_back(f);
    m.bwd_ms.push_back(b);
    m.total_ms.push_back(f + b);
  }
  m.peak_mb = meter.peak_mb();
  m.saved_mb = saved.bytes() / kMiB;
  return m;
}

Measurement run_dense(Index n, const AttentionOptions& o, const Inputs& x, int repeats,
                      std::uint64_t limit) {
  Measurement m;
  PeakMeter meter;
  std::vector<float> z(x.q.size()), dq(x.q.size()), dk(x.q.size()), dv(x.q.size());
  std::vector<double> dtheta(o.diffusion.theta().size());
  DenseAttentionSaved<float> saved;
  const AttentionInputs<float> in{x.q, x.k, x.v, 1, {}};
  for (int r = 0; r < repeats; ++r) {
    const auto t1 = Clock::now();
    dense_attention_forward<float>(n, nullptr, o, in, z, &saved, limit);
    const double f = ms_since(t1);
    const auto t2 = Clock::now();
    dense_attention_backward<float>(n, nullptr, in, saved, x.dz,
                                    AttentionGradients<float>{dq, dk, dv, dtheta}, limit);
    const double b = ms_since(t2);
    m.fwd_ms.push_back(f);
    m.bwd_ms.push_back(b);
    m.total_ms.push_back(f + b);
  }
  m.peak_mb = meter.peak_mb();
  m.saved_mb = saved.bytes() / kMiB;
  return m;
}

// Median time of `body` over `repeats` calls after one warm-up call.
template <typename Body>
double kernel_ms(int repeats, Body&& body) {
  body();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    body();
    t.push_back(ms_since(t0));
  }
  return median(t);
}

// STREAM-style copy bandwidth: (bytes read + bytes written) / time of a parallel copy of a
// 256 MiB buffer, median of 5.
double copy_bandwidth_gbs() {
  const std::size_t count = std::size_t{64} << 20;  // floats
  std::vector<float> src(count, 1.0f), dst(count, 0.0f);
  const std::int64_t chunks = 256;
  const std::size_t chunk = count / chunks;
  const double ms = kernel_ms(5, [&] {
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      std::memcpy(dst.data() + c * chunk, src.data() + c * chunk, chunk * sizeof(float));
    }
  });
  return 2.0 * count * sizeof(float) / (ms * 1e-3) / 1e9;
}

std::string on_off_auto(const std::string& option, const std::string& value) {
  DIFFUSER_CHECK(value == "auto" || value == "on" || value == "off",
                 "bench_attention: {} must be auto, on or off (got '{}')", option, value);
  return value;
}

}  // namespace

constexpr const char* kUsage =
    "bench_attention: sparse attention with diffusion on the CPU (optimised kernels) against the\n"
    "dense reference, forward + backward, medians over repeats (docs/benchmarks.md).\n"
    "Options (value, default):\n"
    "  --n N (4096)  --heads H (4)  --head-dim D (64)  --repeats R (5)\n"
    "  --alpha A (0.1)  --hops K (5)  --window W (64)  --global G (64)  --random R (64)\n"
    "  --seed S (0)  --dense auto|on|off (auto)  --dense-diffusion auto|on|off (auto)\n"
    "  --dense-limit-mb MB (0: the default limit)  --json PATH (none)\n"
    "  --spec SPEC (none): a pattern spec (docs/patterns.md, e.g. preset=diffuser) instead of\n"
    "    --window/--global/--random; --seed, when given, overrides the spec's seed\n";

int main(int argc, char** argv) {
  if (diffuser::bench::help_requested(argc, argv, kUsage)) return 0;
  try {
    Index n = 4096;
    int heads = 4, head_dim = 64, repeats = 5, hops = 5;
    double alpha = 0.1;
    Index window = 64, global = 64, random = 64;
    std::uint64_t seed = 0;
    std::string spec_text;  // --spec: the pattern as a spec string (graph/PatternSpec.hpp)
    bool seed_given = false, components_given = false;
    std::string json_path, dense_mode = "auto", dense_diffusion_mode = "auto";
    double dense_limit_mb = 0;
    for (int a = 1; a < argc; ++a) {
      const std::string arg = argv[a];
      DIFFUSER_CHECK(a + 1 < argc, "bench_attention: option {} needs a value", arg);
      const std::string value = argv[++a];
      if (arg == "--n")
        n = bench::int_option(arg, value, 1);
      else if (arg == "--heads")
        heads = bench::int_option(arg, value, 1);
      else if (arg == "--head-dim")
        head_dim = bench::int_option(arg, value, 1);
      else if (arg == "--repeats")
        repeats = bench::int_option(arg, value, 1);
      else if (arg == "--json")
        json_path = value;
      else if (arg == "--alpha")
        alpha = bench::number_option(arg, value);
      else if (arg == "--hops")
        hops = bench::int_option(arg, value, 0);
      else if (arg == "--spec")
        spec_text = value;
      else if (arg == "--window")
        window = bench::int_option(arg, value, 0), components_given = true;
      else if (arg == "--global")
        global = bench::int_option(arg, value, 0), components_given = true;
      else if (arg == "--random")
        random = bench::int_option(arg, value, 0), components_given = true;
      else if (arg == "--seed")
        seed = bench::uint64_option(arg, value), seed_given = true;
      else if (arg == "--dense")
        dense_mode = on_off_auto(arg, value);
      else if (arg == "--dense-diffusion")
        dense_diffusion_mode = on_off_auto(arg, value);
      else if (arg == "--dense-limit-mb")
        dense_limit_mb = bench::number_option(arg, value);
      else
        fail("bench_attention: unknown option {}", arg);
    }
    DIFFUSER_CHECK(n >= 1 && heads >= 1 && head_dim >= 1 && repeats >= 1,
                   "bench_attention: n, heads, head-dim and repeats must be >= 1");
    const std::int64_t width = static_cast<std::int64_t>(heads) * head_dim;
    const std::size_t size = static_cast<std::size_t>(n) * width;

    graph::PatternSpec spec;
    if (!spec_text.empty()) {
      DIFFUSER_CHECK(!components_given,
                     "bench_attention: --spec cannot be combined with --window/--global/--random");
      spec = graph::parse_pattern_spec(spec_text);
      if (seed_given)
        spec.seed = seed;
      else
        seed = spec.seed;  // the inputs' seed follows the spec's
    } else {
      spec.window = window;
      spec.global = global;
      spec.random = random;
      spec.seed = seed;
    }
    const auto t_pattern = Clock::now();
    const graph::CsrGraph pattern = graph::build_pattern(n, spec);
    const double pattern_ms = ms_since(t_pattern);
    const std::int64_t nnz = pattern.nnz();

    Inputs x;
    {
      Rng rng(seed + 1);
      for (auto* t : {&x.q, &x.k, &x.v, &x.dz}) {
        t->resize(size);
        for (float& value : *t) value = static_cast<float>(rng.normal());
      }
    }
    AttentionOptions diffusion;
    diffusion.heads = heads;
    diffusion.diffusion = Diffusion::ppr(alpha, hops);
    AttentionOptions plain = diffusion;
    plain.diffusion = Diffusion::plain();

    Json out;
    out["benchmark"] = "attention";
    out["config"] = {{"n", n},
                     {"heads", heads},
                     {"head_dim", head_dim},
                     {"pattern", graph::format_pattern_spec(spec)},
                     {"nnz", nnz},
                     {"mean_degree", static_cast<double>(nnz) / n},
                     {"diffusion", diffusion.diffusion.describe()},
                     {"dtype", "float32"},
                     {"repeats", repeats},
                     {"threads", num_threads()},
                     {"pattern_build_ms", pattern_ms}};
    out["machine"] = bench::machine_json();
    const double copy_gbs = copy_bandwidth_gbs();
    out["copy_bandwidth_gbs"] = copy_gbs;
    fmt::print("bench_attention: n={} H={} D={} pattern {} nnz={} ({:.1f}/row), {} threads\n", n,
               heads, head_dim, graph::format_pattern_spec(spec), nnz, static_cast<double>(nnz) / n,
               num_threads());
    fmt::print("copy bandwidth (read + write): {:.1f} GB/s\n", copy_gbs);

    // The SpMM hop alone (one Horner step, all heads), tiled and untiled, and both edge-value
    // layouts; an sgemm rate of the same run as the machine's multiply-add ceiling.
    {
      const AttentionPlan plan(pattern);
      // The same plan without row tiles: the hop gathers row by row.
      const AttentionPlan untiled_plan(pattern, PlanOptions{true, false});
      // The layout comparison times the sparse kernels alone (no dense-run GEMMs).
      const AttentionPlan sparse_plan(pattern, PlanOptions{false});
      const cpu::SequenceShape s{heads, head_dim, width, n};
      std::vector<float> a(static_cast<std::size_t>(nnz * heads), 1.0f / 64), out_rows(size),
          da(a.size(), 0.0f), g_next(size), dv(size, 0.0f);
      std::vector<double> partial(static_cast<std::size_t>(n));
      const int kernel_repeats = std::max(5, repeats);
      auto spmm = [&](EdgeLayout layout, const AttentionPlan& p) {
        return kernel_ms(kernel_repeats, [&] {
          cpu::spmm_hop_forward<float>(p, s, a.data(), layout, x.v.data(), 1.0f, x.v.data(), 0.1f,
                                       out_rows.data());
        });
      };
      auto sddmm = [&](EdgeLayout layout) {
        return kernel_ms(kernel_repeats, [&] {
          cpu::scores_softmax_forward<float>(sparse_plan, s, x.q.data(), x.k.data(), layout,
                                             a.data());
        });
      };
      auto back = [&](EdgeLayout layout) {
        return kernel_ms(kernel_repeats, [&] {
          cpu::transposed_hop_backward<float>(sparse_plan, s, a.data(), layout, x.dz.data(),
                                              x.v.data(), 1.0f, x.v.data(), 0.1f, g_next.data(),
                                              dv.data(), da.data(), partial.data());
        });
      };
      // sgemm ceiling: Eigen float C = A B at 1024^3 (Eigen's own threads), best of 5.
      const Eigen::Index gemm_size = 1024;
      const Eigen::MatrixXf ga = Eigen::MatrixXf::Random(gemm_size, gemm_size),
                            gb = Eigen::MatrixXf::Random(gemm_size, gemm_size);
      Eigen::MatrixXf gc(gemm_size, gemm_size);
      double gemm_best_ms = 0;
      for (int r = 0; r < 6; ++r) {
        const auto t0 = Clock::now();
        gc.noalias() = ga * gb;
        const double ms = ms_since(t0);
        if (r > 0 && (r == 1 || ms < gemm_best_ms)) gemm_best_ms = ms;  // the first is warm-up
      }
      const double gemm_gflops = 2.0 * static_cast<double>(gemm_size) * gemm_size * gemm_size /
                                 (gemm_best_ms * 1e-3) / 1e9;
      const EdgeLayout head_major = EdgeLayout::head_major(nnz);
      const EdgeLayout edge_major = EdgeLayout::edge_major(heads);
      const double hop_ms = spmm(head_major, plan);
      const double untiled_ms = spmm(head_major, untiled_plan);
      const double flops = 2.0 * static_cast<double>(nnz) * width;
      const double hop_gflops = flops / (hop_ms * 1e-3) / 1e9;
      const double untiled_gflops = flops / (untiled_ms * 1e-3) / 1e9;
      // Compulsory traffic: offsets, columns, H edge values per edge, read Y and V once, write
      // the output once.
      const double floor_bytes = 4.0 * (n + 1) + 4.0 * nnz + 4.0 * nnz * heads + 3.0 * 4 * size;
      const double gather_bytes = 4.0 * nnz * width;
      const RowTiles& tiles = plan.row_tiles();
      out["spmm_hop"] = {{"ms", hop_ms},
                         {"flops", flops},
                         {"gflops", hop_gflops},
                         {"untiled_ms", untiled_ms},
                         {"untiled_gflops", untiled_gflops},
                         {"sgemm_gflops", gemm_gflops},
                         {"sgemm_size", gemm_size},
                         {"ratio_to_sgemm", hop_gflops / gemm_gflops},
                         {"untiled_ratio_to_sgemm", untiled_gflops / gemm_gflops},
                         {"tiles", static_cast<std::int64_t>(tiles.tiles().size())},
                         {"tile_bytes", tiles.bytes()},
                         {"tile_shared_edges", tiles.shared_edges()},
                         {"plan_bytes", plan.bytes()},
                         {"untiled_plan_bytes", untiled_plan.bytes()},
                         {"floor_bytes", floor_bytes},
                         {"floor_gbs", floor_bytes / (hop_ms * 1e-3) / 1e9},
                         {"gather_bytes", gather_bytes},
                         {"gather_gbs", gather_bytes / (hop_ms * 1e-3) / 1e9},
                         {"floor_ms_at_copy_bandwidth", floor_bytes / (copy_gbs * 1e9) * 1e3}};
      fmt::print(
          "SpMM hop: {:.2f} ms, {:.1f} GFLOP/s, {:.1f} GB/s over the {:.1f} MB floor "
          "({:.1f} GB/s of gathered rows); floor at copy bandwidth {:.2f} ms\n",
          hop_ms, hop_gflops, floor_bytes / (hop_ms * 1e-3) / 1e9, floor_bytes / 1e6,
          gather_bytes / (hop_ms * 1e-3) / 1e9, floor_bytes / (copy_gbs * 1e9) * 1e3);
      fmt::print(
          "SpMM hop row tiles: tiled {:.2f} ms ({:.1f} GFLOP/s, {:.2f} of sgemm), untiled {:.2f} "
          "ms ({:.1f} GFLOP/s, {:.2f} of sgemm); sgemm {}^3 {:.1f} GFLOP/s; {} tiles, {:.1f}% of "
          "edges in shared slots; plan {:.1f} MB (untiled {:.1f} MB)\n",
          hop_ms, hop_gflops, hop_gflops / gemm_gflops, untiled_ms, untiled_gflops,
          untiled_gflops / gemm_gflops, gemm_size, gemm_gflops, tiles.tiles().size(),
          100.0 * static_cast<double>(tiles.shared_edges()) / static_cast<double>(nnz),
          static_cast<double>(plan.bytes()) / 1e6, static_cast<double>(untiled_plan.bytes()) / 1e6);
      Json layouts;
      for (const auto& [name, layout] :
           {std::pair{"H_nnz", head_major}, std::pair{"nnz_H", edge_major}}) {
        layouts[name] = {{"spmm_hop_ms", spmm(layout, sparse_plan)},
                         {"scores_softmax_ms", sddmm(layout)},
                         {"transposed_hop_backward_ms", back(layout)}};
      }
      layouts["note"] = "sparse kernels only (plan without dense runs)";
      out["edge_layout"] = layouts;
      fmt::print(
          "edge layout [H,nnz]: spmm {:.2f} ms, scores+softmax {:.2f} ms, bwd hop {:.2f} ms\n",
          layouts["H_nnz"]["spmm_hop_ms"].get<double>(),
          layouts["H_nnz"]["scores_softmax_ms"].get<double>(),
          layouts["H_nnz"]["transposed_hop_backward_ms"].get<double>());
      fmt::print(
          "edge layout [nnz,H]: spmm {:.2f} ms, scores+softmax {:.2f} ms, bwd hop {:.2f} ms\n",
          layouts["nnz_H"]["spmm_hop_ms"].get<double>(),
          layouts["nnz_H"]["scores_softmax_ms"].get<double>(),
          layouts["nnz_H"]["transposed_hop_backward_ms"].get<double>());
    }

    Json variants;
    auto report = [&](const std::string& name, const Measurement& m) {
      variants[name] = m.json();
      fmt::print("{:<22} fwd {:9.1f} ms  bwd {:9.1f} ms  fwd+bwd {:9.1f} ms  peak {:8.1f} MB\n",
                 name, median(m.fwd_ms), median(m.bwd_ms), median(m.total_ms), m.peak_mb);
    };
    report("diffusion", run_sparse(pattern, diffusion, x, repeats));
    {
      AttentionOptions recompute = diffusion;
      recompute.memory = MemoryMode::kRecompute;
      report("diffusion_recompute", run_sparse(pattern, recompute, x, repeats));
    }
    report("sparse_plain", run_sparse(pattern, plain, x, repeats));

    // Dense baselines: full softmax attention, and the same diffusion over the dense A.
    const std::uint64_t limit = dense_limit_mb > 0
                                    ? static_cast<std::uint64_t>(dense_limit_mb * kMiB)
                                    : default_dense_memory_limit();
    AttentionGeometry g;
    g.batch = 1;
    g.n = n;
    g.heads = heads;
    const std::uint64_t dense_bytes = dense_attention_bytes(g, sizeof(float), false, true);
    Json skipped = Json::object();
    auto dense_variant = [&](const std::string& name, const std::string& mode,
                             const AttentionOptions& o, bool auto_on) {
      if (mode == "off" || (mode == "auto" && !auto_on)) {
        skipped[name] = mode == "off" ? "disabled by option" : "auto: only run for n <= 4096";
        fmt::print("{:<22} skipped ({})\n", name, skipped[name].get<std::string>());
        return;
      }
      if (dense_bytes > limit) {
        skipped[name] = fmt::format("needs {:.0f} MB of n x n buffers, above the {:.0f} MB limit",
                                    dense_bytes / kMiB, limit / kMiB);
        fmt::print("{:<22} skipped: {}\n", name, skipped[name].get<std::string>());
        return;
      }
      report(name, run_dense(n, o, x, repeats, limit));
    };
    dense_variant("dense", dense_mode, plain, true);
    dense_variant("dense_diffusion", dense_diffusion_mode, diffusion, n <= 4096);
    out["variants"] = variants;
    out["skipped"] = skipped;

    auto ratios = [&](const std::string& baseline) {
      if (!variants.contains(baseline)) return Json();
      const Json& d = variants["diffusion"];
      const Json& b = variants[baseline];
      const double speedup = b["fwd_bwd_ms"].get<double>() / d["fwd_bwd_ms"].get<double>();
      const double memory = d["peak_mb"].get<double>() / b["peak_mb"].get<double>();
      fmt::print("diffusion vs {}: speedup {:.2f}x, memory ratio {:.4f}\n", baseline, speedup,
                 memory);
      return Json{{"baseline", baseline}, {"speedup", speedup}, {"memory_ratio", memory}};
    };
    const Json vs_dense = ratios("dense");
    if (!vs_dense.is_null()) {
      out["speedup"] = vs_dense["speedup"];
      out["memory_ratio"] = vs_dense["memory_ratio"];
    } else {
      out["speedup"] = nullptr;
      out["memory_ratio"] = nullptr;
    }
    const Json vs_dense_diffusion = ratios("dense_diffusion");
    if (!vs_dense_diffusion.is_null()) out["vs_dense_diffusion"] = vs_dense_diffusion;
    if (!json_path.empty()) {
      write_text_atomic(json_path, out.dump(2) + "\n");
      fmt::print("wrote {}\n", json_path);
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_attention: error: {}\n", e.what());
    return 1;
  }
}
