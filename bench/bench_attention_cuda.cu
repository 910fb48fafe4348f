// Why: measures the CUDA backend where Diffuser claims its advantage, long sequences on a GPU:
// the cuSPARSE path (SDDMM + SpMM per head per hop), the fused path (own kernels, all heads per
// launch) and a dense full-attention baseline through cuBLAS, all in the same run, at
// n = 4K, 16K, 64K with H = 8, D = 64 by default, on the pattern of the CPU benchmark
// (bench_attention: window 64 + 64 global + 64 random keys). Reports medians over repeats,
// per-hop achieved bandwidth against the device's measured copy bandwidth, peak device memory,
// and the ratios to the named baselines; prints a table and writes JSON (atomically).
//
//   bench_attention_cuda --device cuda [--n 4096,16384,65536] [--heads 8] [--head-dim 64]
//       [--window 64] [--global 64] [--random 64] [--pattern SPEC] [--alpha 0.1] [--hops 5]
//       [--repeats 10] [--warmup 2] [--dense auto|on|off] [--dense-repeats 3] [--seed 0]
//       [--json bench_attention_cuda.json]
// (same option names as bench_attention; --pattern, a compact PatternSpec such as
// "preset=diffuser", replaces --window/--global/--random.)
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attention/AttentionPlan.hpp"
#include "attention/cuda/AttentionKernels.hpp"
#include "attention/cuda/CublasHandle.hpp"
#include "attention/cuda/CudaAttention.hpp"
#include "attention/cuda/CudaCheck.hpp"
#include "attention/cuda/CudaDevice.hpp"
#include "attention/cuda/CudaEvent.hpp"
#include "attention/cuda/CudaStream.hpp"
#include "attention/cuda/CusparseBackend.hpp"
#include "attention/cuda/DeviceBuffer.hpp"
#include "attention/cuda/DevicePlan.hpp"
#include "attention/cuda/WarpReduce.cuh"
#include "core/AtomicFile.hpp"
#include "core/Diffusion.hpp"
#include "core/Rng.hpp"
#include "graph/PatternSpec.hpp"
#include "graph/Patterns.hpp"

namespace {

using namespace diffuser;
using namespace diffuser::attention;
using namespace diffuser::attention::cuda;

// ---- Options ---------------------------------------------------------------------------------

struct Options {
  std::string device = "cuda";
  std::vector<graph::Index> sizes{4096, 16384, 65536};
  int heads = 8;
  int head_dim = 64;
  graph::Index window = 64, global = 64, random = 64;
  std::string pattern;  // compact PatternSpec; empty: window/global/random/seed
  double alpha = 0.1;
  int hops = 5;
  int repeats = 10;
  int warmup = 2;
  int dense_repeats = 3;
  std::string dense = "auto";  // auto: when the n x n scores fit; on: fail otherwise; off
  std::uint64_t seed = 0;
  std::string json = "bench_attention_cuda.json";
  std::string command;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "bench_attention_cuda: %s\n"
               "usage: bench_attention_cuda --device cuda [--n 4096,16384,65536] [--heads 8]\n"
               "       [--head-dim 64] [--window 64] [--global 64] [--random 64] [--pattern SPEC]\n"
               "       [--alpha 0.1] [--hops 5] [--repeats 10] [--warmup 2] [--dense auto|on|off]\n"
               "       [--dense-repeats 3] [--seed 0] [--json bench_attention_cuda.json]\n",
               problem.c_str());
  std::exit(2);
}

long long parse_integer(const std::string& key, const std::string& text, long long low,
                        long long high) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    usage(key + ": '" + text + "' is not an integer");
  }
  if (used != text.size() || value < low || value > high) {
    usage(key + ": '" + text + "' must be an integer in [" + std::to_string(low) + ", " +
          std::to_string(high) + "]");
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int a = 0; a < argc; ++a) o.command += (a ? " " : "") + std::string(argv[a]);
  for (int a = 1; a < argc; ++a) {
    const std::string key = argv[a];
    if (key == "--help" || key == "-h") usage("help");
    if (a + 1 >= argc) usage(key + " needs a value");
    const std::string value = argv[++a];
    if (key == "--device") {
      if (value != "cuda")
        usage("--device " + value + ": this benchmark measures the CUDA backend");
      o.device = value;
    } else if (key == "--n") {
      o.sizes.clear();
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) {
        o.sizes.push_back(static_cast<graph::Index>(parse_integer("--n", item, 1, 1 << 24)));
      }
      if (o.sizes.empty()) usage("--n needs at least one size");
    } else if (key == "--heads") {
      o.heads = static_cast<int>(parse_integer(key, value, 1, 1024));
    } else if (key == "--head-dim") {
      o.head_dim = static_cast<int>(parse_integer(key, value, 1, 4096));
    } else if (key == "--pattern") {
      o.pattern = value;
    } else if (key == "--window") {
      o.window = static_cast<graph::Index>(parse_integer(key, value, 0, 1 << 24));
    } else if (key == "--global") {
      o.global = static_cast<graph::Index>(parse_integer(key, value, 0, 1 << 24));
    } else if (key == "--random") {
      o.random = static_cast<graph::Index>(parse_integer(key, value, 0, 1 << 24));
    } else if (key == "--dense") {
      if (value != "auto" && value != "on" && value != "off")
        usage("--dense must be auto, on or off");
      o.dense = value;
    } else if (key == "--alpha") {
      char* end = nullptr;
      o.alpha = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !(o.alpha >= 0.0 && o.alpha <= 1.0)) {
        usage("--alpha must be a number in [0, 1]");
      }
    } else if (key == "--hops") {
      o.hops = static_cast<int>(parse_integer(key, value, 1, Diffusion::kMaxHops));
    } else if (key == "--repeats") {
      o.repeats = static_cast<int>(parse_integer(key, value, 1, 100000));
    } else if (key == "--warmup") {
      o.warmup = static_cast<int>(parse_integer(key, value, 0, 100000));
    } else if (key == "--dense-repeats") {
      o.dense_repeats = static_cast<int>(parse_integer(key, value, 1, 100000));
    } else if (key == "--seed") {
      o.seed = static_cast<std::uint64_t>(parse_integer(key, value, 0, 1LL << 62));
    } else if (key == "--json") {
      o.json = value;
    } else {
      usage("unknown option " + key);
    }
  }
  return o;
}

// The pattern: --pattern when given, else window/global/random with the seed.
graph::PatternSpec pattern_spec(const Options& o) {
  if (!o.pattern.empty()) return graph::parse_pattern_spec(o.pattern);
  graph::PatternSpec spec;
  spec.window = o.window;
  spec.global = o.global;
  spec.random = o.random;
  spec.seed = o.seed;
  return spec;
}

// ---- Kernels of the benchmark itself ---------------------------------------------------------

// Uniform inputs in [-1, 1) from the counter-based generator (reproducible for a seed).
__global__ void fill_uniform_kernel(float* out, std::int64_t count, std::uint64_t seed,
                                    std::uint64_t stream) {
  for (std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < count;
       t += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[t] = 2.0f * counter_uniform(seed, stream, static_cast<std::uint64_t>(t)) - 1.0f;
  }
}

// Dense row softmax in place (one block per row of an n x n row-major matrix).
__global__ void __launch_bounds__(kBlockThreads) dense_softmax_kernel(float* s, std::int64_t n) {
  __shared__ float scratch[32];
  const BlockRow row{scratch};
  float* r = s + static_cast<std::int64_t>(blockIdx.x) * n;
  float m = -INFINITY;
  for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, r[j]);
  m = row.max(m);
  float total = 0.0f;
  for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) total += expf(r[j] - m);
  total = row.sum(total);
  for (std::int64_t j = threadIdx.x; j < n; j += blockDim.x) r[j] = expf(r[j] - m) / total;
}

void fill_uniform(DeviceBuffer<float>& buffer, std::uint64_t seed, std::uint64_t stream,
                  cudaStream_t s) {
  const std::int64_t count = static_cast<std::int64_t>(buffer.size());
  fill_uniform_kernel<<<1024, kBlockThreads, 0, s>>>(buffer.data(), count, seed, stream);
  DIFFUSER_CUDA_CHECK_LAUNCH("fill_uniform_kernel");
}

// ---- Timing ---------------------------------------------------------------------------------

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Median milliseconds of `work` queued on `stream`, timed with events.
double time_stream_ms(cudaStream_t stream, int warmup, int repeats,
                      const std::function<void()>& work) {
  for (int r = 0; r < warmup; ++r) work();
  CudaEvent start, stop;
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    start.record(stream);
    work();
    stop.record(stream);
    times.push_back(stop.elapsed_ms_since(start));
  }
  return median(times);
}

// Median milliseconds of a synchronous call, timed on the host.
double time_call_ms(int warmup, int repeats, const std::function<void()>& work) {
  for (int r = 0; r < warmup; ++r) work();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    work();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(times);
}

std::size_t device_used_bytes() {
  std::size_t free_bytes = 0, total_bytes = 0;
  DIFFUSER_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  return total_bytes - free_bytes;
}

// Device copy bandwidth (read + write bytes per second), the roofline for the hop kernels.
double copy_bandwidth_gbs(cudaStream_t stream) {
  std::size_t free_bytes = 0, total_bytes = 0;
  DIFFUSER_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const std::size_t bytes = std::min<std::size_t>(std::size_t{1} << 30, free_bytes / 4);
  DeviceBuffer<char> a(bytes, "copy source"), b(bytes, "copy target");
  DIFFUSER_CUDA_CHECK(cudaMemsetAsync(a.data(), 1, bytes, stream));
  const double ms = time_stream_ms(stream, 2, 10, [&] {
    DIFFUSER_CUDA_CHECK(
        cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice, stream));
  });
  return 2.0 * static_cast<double>(bytes) / (ms * 1e-3) / 1e9;
}

// ---- Results ---------------------------------------------------------------------------------

struct PathResult {
  std::string name;
  double forward_ms = 0, backward_ms = 0, scores_ms = 0, hop_ms = 0, hop_spmm_ms = 0;
  double hop_bandwidth_gbs = 0, hop_bandwidth_fraction = 0;
  std::size_t working_bytes = 0, plan_bytes = 0, device_used_peak = 0;
  std::string note;
};

struct DenseResult {
  bool ran = false;
  std::string skipped;
  double forward_ms = 0, hop_ms = 0;
  std::size_t working_bytes = 0, device_used_peak = 0;
};

struct SizeResult {
  graph::Index n = 0;
  std::int64_t nnz = 0;
  graph::Index max_degree = 0;
  std::int32_t long_rows = 0;
  PathResult cusparse, fused;
  DenseResult dense;
  double fused_vs_cusparse_rel_error = 0;
};

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// ---- One size ----------------------------------------------------------------------------------

double relative_error(const DeviceBuffer<float>& a, const DeviceBuffer<float>& b) {
  std::vector<float> x(a.size()), y(b.size());
  DIFFUSER_CUDA_CHECK(cudaMemcpy(x.data(), a.data(), a.bytes(), cudaMemcpyDeviceToHost));
  DIFFUSER_CUDA_CHECK(cudaMemcpy(y.data(), b.data(), b.bytes(), cudaMemcpyDeviceToHost));
  double num = 0, den = 0;
  for (std::size_t t = 0; t < x.size(); ++t) {
    num += (static_cast<double>(x[t]) - y[t]) * (static_cast<double>(x[t]) - y[t]);
    den += static_cast<double>(y[t]) * y[t];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-300);
}

SizeResult run_size(const Options& o, graph::Index n, double copy_gbs) {
  SizeResult result;
  result.n = n;
  const graph::CsrGraph pattern = graph::build_pattern(n, pattern_spec(o));
  const AttentionPlan plan(pattern);
  result.nnz = plan.nnz();
  result.max_degree = plan.max_degree();

  const HeadShape shape{o.heads, o.head_dim, o.heads * o.head_dim};
  const std::int64_t N = static_cast<std::int64_t>(n) * shape.width;
  CudaStream stream;
  DeviceBuffer<float> q(N, "q"), k(N, "k"), v(N, "v"), dz(N, "dz"), dq(N, "dq"), dk(N, "dk"),
      dv(N, "dv");
  DeviceBuffer<float> z_sparse(N, "z (cuSPARSE path)"), z_fused(N, "z (fused path)");
  fill_uniform(q, o.seed, 1, stream.get());
  fill_uniform(k, o.seed, 2, stream.get());
  fill_uniform(v, o.seed, 3, stream.get());
  fill_uniform(dz, o.seed, 4, stream.get());
  stream.synchronize();

  AttentionOptions options;
  options.heads = o.heads;
  options.diffusion = Diffusion::ppr(o.alpha, o.hops);
  const AttentionInputs<float> in{std::span<const float>(q.data(), q.size()),
                                  std::span<const float>(k.data(), k.size()),
                                  std::span<const float>(v.data(), v.size()),
                                  1,
                                  {}};
  const AttentionGradients<float> grads{std::span<float>(dq.data(), dq.size()),
                                        std::span<float>(dk.data(), dk.size()),
                                        std::span<float>(dv.data(), dv.size()),
                                        {}};

  // Whole forward / backward through the public device-pointer API, per path.
  for (const CudaPath path : {CudaPath::kCusparse, CudaPath::kFused}) {
    PathResult& r = path == CudaPath::kCusparse ? result.cusparse : result.fused;
    r.name = cuda_path_name(path);
    const std::size_t before = device_bytes_in_use();
    reset_device_peak_bytes();
    CudaAttentionConfig config;
    config.path = path;
    config.check_device_inputs = false;  // time the attention, not the input scan
    CudaAttention attention(plan, config);
    r.plan_bytes = attention.plan_device_bytes();
    CudaSaved saved;
    DeviceBuffer<float>& z = path == CudaPath::kCusparse ? z_sparse : z_fused;
    const std::span<float> z_span(z.data(), z.size());
    r.forward_ms = time_call_ms(o.warmup, o.repeats,
                                [&] { attention.forward_device(options, in, z_span, &saved); });
    r.device_used_peak = device_used_bytes();
    r.backward_ms = time_call_ms(o.warmup, o.repeats, [&] {
      attention.backward_device(in, saved, std::span<const float>(dz.data(), dz.size()), grads);
    });
    r.device_used_peak = std::max(r.device_used_peak, device_used_bytes());
    r.working_bytes = device_peak_bytes() - before;
  }
  result.fused_vs_cusparse_rel_error = relative_error(z_fused, z_sparse);

  // One hop and the scores, per path, on realistic weights (the fused softmax of q, k).
  const DevicePlan device_plan(plan, CudaAttentionConfig{}.long_row_degree,
                               CudaAttentionConfig{}.segment_edges);
  const DeviceGraphView& g = device_plan.pattern().view();
  result.long_rows = g.num_long;
  DeviceBuffer<float> weights(static_cast<std::size_t>(plan.nnz() * o.heads), "weights");
  DeviceBuffer<float> scores(weights.size(), "scores"), out(N, "hop output");
  DeviceBuffer<float> partial(static_cast<std::size_t>(std::max(g.num_slots, 1)) * shape.width,
                              "partial");
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(o.head_dim)));
  const float a = static_cast<float>(1.0 - o.alpha), b = static_cast<float>(o.alpha);
  launch_fused_scores_softmax(g, shape, q.data(), k.data(), scale, n, EdgeDropout{}, weights.data(),
                              nullptr, stream.get());
  CusparseBackend cusparse(device_plan, stream.get());
  cudaStream_t s = stream.get();
  result.fused.hop_ms = time_stream_ms(s, o.warmup, o.repeats, [&] {
    launch_spmm(g, shape, weights.data(), nullptr, v.data(), a, v.data(), b, n, out.data(),
                partial.data(), s);
  });
  result.fused.hop_spmm_ms = result.fused.hop_ms;
  result.cusparse.hop_ms = time_stream_ms(s, o.warmup, o.repeats, [&] {
    cusparse.hop(shape, weights.data(), v.data(), a, v.data(), b, n, out.data());
  });
  result.cusparse.hop_spmm_ms = time_stream_ms(s, o.warmup, o.repeats, [&] {
    cusparse.spmm(false, shape, weights.data(), v.data(), a, b, out.data());
  });
  result.cusparse.note = cusparse.describe();  // the operand forms cuSPARSE accepted
  result.fused.scores_ms = time_stream_ms(s, o.warmup, o.repeats, [&] {
    launch_fused_scores_softmax(g, shape, q.data(), k.data(), scale, n, EdgeDropout{},
                                scores.data(), nullptr, s);
  });
  result.cusparse.scores_ms = time_stream_ms(s, o.warmup, o.repeats, [&] {
    cusparse.sddmm(shape, q.data(), k.data(), scale, 0.0f, scores.data());
    launch_softmax_forward(g, shape, scores.data(), n, EdgeDropout{}, scores.data(), nullptr, s);
  });
  // Compulsory bytes of one hop: offsets, columns, H weights per edge, read x and V once, write
  // the output once.
  const double hop_bytes = 4.0 * (n + 1) + 4.0 * plan.nnz() + 4.0 * plan.nnz() * o.heads +
                           3.0 * 4.0 * static_cast<double>(N);
  for (PathResult* r : {&result.cusparse, &result.fused}) {
    r->hop_bandwidth_gbs = hop_bytes / (r->hop_ms * 1e-3) / 1e9;
    r->hop_bandwidth_fraction = r->hop_bandwidth_gbs / copy_gbs;
  }

  // Dense full attention with the same diffusion through cuBLAS (FP32 GEMMs), head by head.
  if (o.dense != "off") {
    const std::size_t s_bytes = static_cast<std::size_t>(n) * n * sizeof(float);
    std::size_t free_bytes = 0, total_bytes = 0;
    DIFFUSER_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (s_bytes + 3 * static_cast<std::size_t>(N) * sizeof(float) + (std::size_t{1} << 30) >
        free_bytes) {
      result.dense.skipped = "needs " + std::to_string(s_bytes >> 20) + " MiB for n x n scores, " +
                             std::to_string(free_bytes >> 20) + " MiB free";
      if (o.dense == "on") {
        throw std::runtime_error("dense baseline at n = " + std::to_string(n) + " " +
                                 result.dense.skipped + " (--dense on)");
      }
    } else {
      const std::size_t before = device_bytes_in_use();
      reset_device_peak_bytes();
      CublasHandle blas(s);
      DeviceBuffer<float> scores_dense(static_cast<std::size_t>(n) * n, "dense scores");
      DeviceBuffer<float> y0(N, "dense hop"), y1(N, "dense hop"), zd(N, "dense z");
      const std::vector<double>& theta = options.diffusion.theta();
      const int K = options.diffusion.degree();
      const std::size_t pitch = static_cast<std::size_t>(shape.width) * sizeof(float);
      auto hop_gemm = [&](int h, const float* src, float alpha_k, float beta_k, float* dst) {
        // dst_h = alpha_k * P src_h + beta_k * dst_h (row-major through column-major GEMM).
        DIFFUSER_CUBLAS_CHECK(cublasSgemm(
            blas.get(), CUBLAS_OP_N, CUBLAS_OP_N, o.head_dim, n, n, &alpha_k, src + h * o.head_dim,
            shape.width, scores_dense.data(), n, &beta_k, dst + h * o.head_dim, shape.width));
      };
      auto dense_forward = [&] {
        for (int h = 0; h < o.heads; ++h) {
          const float zero = 0.0f;
          // S^T (column-major) = K_h Q_h^T, i.e. S = Q_h K_h^T row-major, scaled by 1/sqrt(D).
          DIFFUSER_CUBLAS_CHECK(cublasSgemm(blas.get(), CUBLAS_OP_T, CUBLAS_OP_N, n, n, o.head_dim,
                                            &scale, k.data() + h * o.head_dim, shape.width,
                                            q.data() + h * o.head_dim, shape.width, &zero,
                                            scores_dense.data(), n));
          dense_softmax_kernel<<<static_cast<unsigned>(n), kBlockThreads, 0, s>>>(
              scores_dense.data(), n);
          DIFFUSER_CUDA_CHECK_LAUNCH("dense_softmax_kernel");
          const float* src = v.data();
          float alpha_k = static_cast<float>(theta[K]);
          for (int kk = K - 1; kk >= 0; --kk) {
            float* dst = kk == 0 ? zd.data() : (kk % 2 == 0 ? y0.data() : y1.data());
            DIFFUSER_CUDA_CHECK(
                cudaMemcpy2DAsync(dst + h * o.head_dim, pitch, v.data() + h * o.head_dim, pitch,
                                  static_cast<std::size_t>(o.head_dim) * sizeof(float), n,
                                  cudaMemcpyDeviceToDevice, s));
            hop_gemm(h, src, alpha_k, static_cast<float>(theta[kk]), dst);
            src = dst;
            alpha_k = 1.0f;
          }
        }
      };
      result.dense.forward_ms = time_stream_ms(s, 1, o.dense_repeats, dense_forward);
      result.dense.hop_ms = time_stream_ms(s, 1, o.dense_repeats, [&] {
        for (int h = 0; h < o.heads; ++h) hop_gemm(h, v.data(), a, 0.0f, y0.data());
      });
      result.dense.device_used_peak = device_used_bytes();
      result.dense.working_bytes = device_peak_bytes() - before;
      result.dense.ran = true;
    }
  }
  return result;
}

void print_size(const SizeResult& r) {
  std::printf("\nn = %d  nnz = %lld  max degree = %d  long rows (> 1024 keys) = %d\n", r.n,
              static_cast<long long>(r.nnz), r.max_degree, r.long_rows);
  std::printf("  %-9s %11s %11s %10s %10s %10s %9s %12s\n", "path", "forward ms", "backward ms",
              "scores ms", "hop ms", "hop GB/s", "% copy", "work MiB");
  for (const PathResult* p : {&r.cusparse, &r.fused}) {
    std::printf("  %-9s %11.3f %11.3f %10.3f %10.3f %10.1f %8.1f%% %12.1f\n", p->name.c_str(),
                p->forward_ms, p->backward_ms, p->scores_ms, p->hop_ms, p->hop_bandwidth_gbs,
                100.0 * p->hop_bandwidth_fraction, p->working_bytes / 1048576.0);
  }
  if (r.dense.ran) {
    std::printf("  %-9s %11.3f %11s %10s %10.3f %10s %9s %12.1f\n", "dense", r.dense.forward_ms,
                "-", "-", r.dense.hop_ms, "-", "-", r.dense.working_bytes / 1048576.0);
  } else {
    std::printf("  dense     skipped: %s\n", r.dense.skipped.c_str());
  }
  std::printf(
      "  hop: cuSPARSE / fused = %.2fx (SpMM calls alone: %.3f ms); forward: %.2fx; "
      "backward: %.2fx\n",
      r.cusparse.hop_ms / r.fused.hop_ms, r.cusparse.hop_spmm_ms,
      r.cusparse.forward_ms / r.fused.forward_ms, r.cusparse.backward_ms / r.fused.backward_ms);
  if (r.dense.ran) {
    std::printf("  dense / fused forward = %.2fx\n", r.dense.forward_ms / r.fused.forward_ms);
  }
  std::printf("  check: ||z_fused - z_cusparse|| / ||z_cusparse|| = %.3g  (%s)\n",
              r.fused_vs_cusparse_rel_error, r.cusparse.note.c_str());
}

std::string to_json(const Options& o, const CudaDeviceInfo& info, int driver, int runtime,
                    double copy_gbs, const std::vector<SizeResult>& results) {
  std::ostringstream j;
  j << std::setprecision(6);
  j << "{\n  \"benchmark\": \"attention_cuda\",\n  \"command\": " << json_string(o.command)
    << ",\n  \"device\": {\"name\": " << json_string(info.name) << ", \"compute_capability\": \""
    << info.major << "." << info.minor << "\", \"multiprocessors\": " << info.multiprocessors
    << ", \"memory_bytes\": " << info.total_bytes << ", \"driver_version\": " << driver
    << ", \"runtime_version\": " << runtime << "},\n";
  j << "  \"config\": {\"batch\": 1, \"heads\": " << o.heads << ", \"head_dim\": " << o.head_dim
    << ", \"pattern\": " << json_string(graph::format_pattern_spec(pattern_spec(o)))
    << ", \"diffusion\": " << json_string(Diffusion::ppr(o.alpha, o.hops).describe())
    << ", \"dropout\": 0"
    << ", \"repeats\": " << o.repeats << ", \"warmup\": " << o.warmup
    << ", \"dense_repeats\": " << o.dense_repeats << ", \"statistic\": \"median\"},\n";
  j << "  \"copy_bandwidth_gbs\": " << copy_gbs << ",\n  \"results\": [\n";
  for (std::size_t x = 0; x < results.size(); ++x) {
    const SizeResult& r = results[x];
    j << "    {\"n\": " << r.n << ", \"nnz\": " << r.nnz << ", \"max_degree\": " << r.max_degree
      << ", \"long_rows\": " << r.long_rows << ",\n     \"paths\": {";
    for (const PathResult* p : {&r.cusparse, &r.fused}) {
      j << (p == &r.fused ? ", " : "") << json_string(p->name)
        << ": {\"forward_ms\": " << p->forward_ms << ", \"backward_ms\": " << p->backward_ms
        << ", \"scores_ms\": " << p->scores_ms << ", \"hop_ms\": " << p->hop_ms
        << ", \"hop_spmm_only_ms\": " << p->hop_spmm_ms
        << ", \"hop_bandwidth_gbs\": " << p->hop_bandwidth_gbs
        << ", \"hop_bandwidth_fraction_of_copy\": " << p->hop_bandwidth_fraction
        << ", \"working_device_bytes\": " << p->working_bytes
        << ", \"plan_device_bytes\": " << p->plan_bytes
        << ", \"device_used_bytes\": " << p->device_used_peak
        << ", \"note\": " << json_string(p->note) << "}";
    }
    j << "},\n     \"dense\": ";
    if (r.dense.ran) {
      j << "{\"forward_ms\": " << r.dense.forward_ms << ", \"hop_ms\": " << r.dense.hop_ms
        << ", \"working_device_bytes\": " << r.dense.working_bytes
        << ", \"device_used_bytes\": " << r.dense.device_used_peak << "}";
    } else {
      j << "{\"skipped\": " << json_string(o.dense != "off" ? r.dense.skipped : "--dense off")
        << "}";
    }
    j << ",\n     \"ratios\": {\"hop_cusparse_over_fused\": " << r.cusparse.hop_ms / r.fused.hop_ms
      << ", \"forward_cusparse_over_fused\": " << r.cusparse.forward_ms / r.fused.forward_ms
      << ", \"backward_cusparse_over_fused\": " << r.cusparse.backward_ms / r.fused.backward_ms;
    if (r.dense.ran) {
      j << ", \"forward_dense_over_fused\": " << r.dense.forward_ms / r.fused.forward_ms
        << ", \"hop_dense_over_fused\": " << r.dense.hop_ms / r.fused.hop_ms;
    }
    j << "},\n     \"check\": {\"fused_vs_cusparse_forward_rel_error\": "
      << r.fused_vs_cusparse_rel_error << "}}" << (x + 1 < results.size() ? "," : "") << "\n";
  }
  j << "  ]\n}\n";
  return j.str();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  try {
    std::string reason;
    if (!cuda_available(&reason)) {
      std::fprintf(stderr, "bench_attention_cuda: no usable CUDA device (%s)\n", reason.c_str());
      return 1;
    }
    DIFFUSER_CUDA_CHECK(cudaSetDevice(0));
    const CudaDeviceInfo info = cuda_device_info(0);
    int driver = 0, runtime = 0;
    DIFFUSER_CUDA_CHECK(cudaDriverGetVersion(&driver));
    DIFFUSER_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    double copy_gbs = 0;
    {
      CudaStream stream;
      copy_gbs = copy_bandwidth_gbs(stream.get());
    }
    std::printf("device: %s (sm_%d%d, %d SMs, %.1f GiB); copy bandwidth %.1f GB/s\n",
                info.name.c_str(), info.major, info.minor, info.multiprocessors,
                info.total_bytes / 1073741824.0, copy_gbs);
    std::printf("config: H = %d, D = %d, pattern %s, %s, batch 1, medians of %d (dense %d)\n",
                o.heads, o.head_dim, graph::format_pattern_spec(pattern_spec(o)).c_str(),
                Diffusion::ppr(o.alpha, o.hops).describe().c_str(), o.repeats, o.dense_repeats);
    std::vector<SizeResult> results;
    for (const graph::Index n : o.sizes) {
      results.push_back(run_size(o, n, copy_gbs));
      print_size(results.back());
      std::fflush(stdout);
    }
    write_text_atomic(o.json, to_json(o, info, driver, runtime, copy_gbs, results));
    std::printf("\nwrote %s\n", o.json.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_attention_cuda: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
