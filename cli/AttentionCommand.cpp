// Why: `diffuser attention` runs one sparse attention call with diffusion on tensors held in
// .npy files (issue 3), so researchers can check the kernels against their own code or get
// gradients without writing C++. Every input is validated here first, with messages that name
// the file or option at fault; the library then computes z (and, with --dz, the gradients of
// sum(z ⊙ dz)), and every output is written atomically. Documented in docs/cli.md.
#include <fmt/ranges.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "attention/AttentionGradients.hpp"
#include "attention/AttentionInputs.hpp"
#include "attention/AttentionOptions.hpp"
#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"
#include "attention/SparseAttention.hpp"
#include "cli/Commands.hpp"
#include "cli/DiffusionOptions.hpp"
#include "core/Diffusion.hpp"
#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "core/Threads.hpp"
#include "graph/CsrGraph.hpp"
#include "graph/GraphExport.hpp"
#ifdef DIFFUSER_HAVE_CUDA
#include "attention/cuda/CudaAttention.hpp"
#include "attention/cuda/CudaDevice.hpp"
#endif

namespace diffuser::cli {

namespace {

using graph::Index;

struct AttentionArgs {
  std::string graph, q, k, v, dz, grads, out;
  std::string device = "cpu";
  int heads = 0, threads = 0;
  DiffusionOptions diffusion;
  CLI::Option *o_dz = nullptr, *o_grads = nullptr, *o_threads = nullptr;
};

const char* dtype_name(DType t) { return t == DType::kFloat32 ? "float32" : "float64"; }

// One input tensor: the option it came from, its file and its content.
struct Input {
  std::string option;  // "--q", ...
  std::string path;
  NpyArray array;

  std::string label() const { return fmt::format("{} ({})", path, option); }
};

// Reads a float32/float64 .npy and checks that it is 2-D.
Input read_input(const std::string& option, const std::string& path) {
  Input in{option, path, read_npy(path)};
  DIFFUSER_CHECK(in.array.dtype == DType::kFloat32 || in.array.dtype == DType::kFloat64,
                 "{}: dtype {}; attention inputs are float32 (<f4) or float64 (<f8)", in.label(),
                 dtype_descr(in.array.dtype));
  DIFFUSER_CHECK(in.array.shape.size() == 2, "{}: shape {} is not 2-D; expected [n, H*D]",
                 in.label(), in.array.shape);
  return in;
}

// Throws naming the file and the [row, column] of the first NaN/Inf.
template <typename T>
void check_finite(const Input& in) {
  const auto values = std::span<const T>(reinterpret_cast<const T*>(in.array.bytes.data()),
                                         static_cast<std::size_t>(in.array.numel()));
  const std::int64_t width = in.array.shape[1];
  for (std::size_t x = 0; x < values.size(); ++x) {
    if (!std::isfinite(values[x])) {
      const auto at = static_cast<std::int64_t>(x);
      fail("{}: element [{}, {}] is {} (inputs must be finite)", in.label(), at / width, at % width,
           values[x]);
    }
  }
}

// The consistency checks of issue 3, in the order a user fixes them: shapes against q, one
// dtype, rows against the pattern, heads against the width, finiteness, empty pattern rows.
void check_inputs(const AttentionArgs& a, const graph::CsrGraph& pattern,
                  const std::vector<const Input*>& inputs) {
  const Input& q = *inputs.front();
  for (const Input* in : inputs) {
    DIFFUSER_CHECK(in->array.shape == q.array.shape,
                   "{} has shape {} but {} has {}; q, k, v and dz must all be [n, H*D]",
                   in->label(), in->array.shape, q.label(), q.array.shape);
  }
  for (const Input* in : inputs) {
    DIFFUSER_CHECK(in->array.dtype == q.array.dtype,
                   "mixed dtypes: {} is {} but {} is {}; give q, k, v and dz in one dtype",
                   q.label(), dtype_name(q.array.dtype), in->label(), dtype_name(in->array.dtype));
  }
  const std::int64_t rows = q.array.shape[0], width = q.array.shape[1];
  DIFFUSER_CHECK(rows == pattern.n(), "{} has {} rows but the pattern {} has n = {} tokens",
                 q.label(), rows, a.graph, pattern.n());
  DIFFUSER_CHECK(pattern.n() > 0, "{}: empty pattern (n = 0)", a.graph);
  DIFFUSER_CHECK(width > 0 && width % a.heads == 0,
                 "--heads {} does not divide the width {} of {} (width = H*D)", a.heads, width,
                 q.label());
  for (const Input* in : inputs) {
    if (in->array.dtype == DType::kFloat32) {
      check_finite<float>(*in);
    } else {
      check_finite<double>(*in);
    }
  }
  for (Index i = 0; i < pattern.n(); ++i) {
    DIFFUSER_CHECK(pattern.degree(i) > 0,
                   "{}: pattern row {} has no keys (every query needs at least one key, e.g. "
                   "its self-loop)",
                   a.graph, i);
  }
}

// --device cuda: refused early when this build has no CUDA backend.
void check_cuda_built(const AttentionArgs& a) {
#ifndef DIFFUSER_HAVE_CUDA
  DIFFUSER_CHECK(a.device != "cuda",
                 "--device cuda: this diffuser was built without CUDA (configure with "
                 "-DDIFFUSER_CUDA=ON where nvcc is installed), use --device cpu");
#else
  (void)a;
#endif
}

template <typename T>
void write_output(const std::string& path, const std::vector<T>& data,
                  const std::vector<std::int64_t>& shape) {
  write_npy(path, NpyArray::from<T>(std::span<const T>(data), shape));
}

// Forward (and backward) in the inputs' dtype, then the atomic writes: z to outputs[0] and,
// with dz, dq, dk, dv to outputs[1..3].
template <typename T>
void run_typed(const AttentionArgs& a, const graph::CsrGraph& pattern, const Input& qi,
               const Input& ki, const Input& vi, const Input* dzi, const Diffusion& diffusion,
               const std::vector<std::string>& outputs) {
  const std::vector<T> q = qi.array.to_vector<T>(), k = ki.array.to_vector<T>(),
                       v = vi.array.to_vector<T>();
  const std::vector<T> dz = dzi ? dzi->array.to_vector<T>() : std::vector<T>{};
  const attention::AttentionPlan plan(pattern);
  attention::AttentionOptions options;
  options.heads = a.heads;
  options.diffusion = diffusion;
  const attention::AttentionInputs<T> inputs{q, k, v, 1, {}};
  std::vector<T> z(q.size()), dq, dk, dv;
  if (dzi) {
    dq.resize(q.size());
    dk.resize(q.size());
    dv.resize(q.size());
  }
  const attention::AttentionGradients<T> grads{dq, dk, dv, {}};
  attention::AttentionSaved<T> saved;
  if (a.device == "cpu") {
    attention::sparse_attention_forward<T>(plan, options, inputs, z, dzi ? &saved : nullptr);
    if (dzi) attention::sparse_attention_backward<T>(plan, inputs, saved, dz, grads);
  } else {
#ifdef DIFFUSER_HAVE_CUDA
    if constexpr (std::is_same_v<T, float>) {
      std::string reason;
      DIFFUSER_CHECK(attention::cuda::cuda_available(&reason), "--device cuda: no CUDA device: {}",
                     reason);
      attention::cuda::CudaAttention cuda(plan);
      cuda.forward(options, inputs, z, dzi ? &saved : nullptr);
      if (dzi) cuda.backward(inputs, saved, dz, grads);
    } else {
      fail(
          "--device cuda: the CUDA backend is float32 only, but {} is float64; convert the "
          "inputs to float32 or use --device cpu",
          qi.label());
    }
#else
    fail("--device cuda: this diffuser was built without CUDA");  // refused before reading
#endif
  }
  write_output(outputs[0], z, qi.array.shape);
  if (dzi) {
    write_output(outputs[1], dq, qi.array.shape);
    write_output(outputs[2], dk, qi.array.shape);
    write_output(outputs[3], dv, qi.array.shape);
  }
}

void run_attention(const AttentionArgs& a) {
  // Argument checks first: they cost nothing and need no file.
  const Diffusion diffusion = a.diffusion.resolve();
  const bool have_dz = a.o_dz->count() > 0, have_grads = a.o_grads->count() > 0;
  DIFFUSER_CHECK(!have_dz || have_grads,
                 "--dz needs --grads PREFIX (gradients go to PREFIX_dq.npy, PREFIX_dk.npy, "
                 "PREFIX_dv.npy)");
  DIFFUSER_CHECK(!have_grads || have_dz, "--grads needs --dz FILE (the upstream gradient dL/dz)");
  DIFFUSER_CHECK(!have_grads || !a.grads.empty(), "--grads PREFIX is empty");
  DIFFUSER_CHECK(a.heads >= 1, "--heads {} must be >= 1", a.heads);
  if (a.o_threads->count() > 0) {
    DIFFUSER_CHECK(a.threads >= 1, "--threads {} must be >= 1", a.threads);
    set_num_threads(a.threads);
  }
  check_cuda_built(a);
  // Outputs go to existing folders only: found out now, not after the work.
  std::vector<std::string> outputs{a.out};
  if (have_grads) {
    for (const char* suffix : {"_dq.npy", "_dk.npy", "_dv.npy"}) {
      outputs.push_back(a.grads + suffix);
    }
  }
  for (const std::string& path : outputs) {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    DIFFUSER_CHECK(folder.empty() || std::filesystem::is_directory(folder),
                   "cannot write '{}': folder '{}' does not exist", path, folder.string());
  }

  const graph::CsrGraph pattern = graph::read_graph(a.graph);
  const Input q = read_input("--q", a.q), k = read_input("--k", a.k), v = read_input("--v", a.v);
  std::unique_ptr<Input> dz;
  if (have_dz) dz = std::make_unique<Input>(read_input("--dz", a.dz));
  std::vector<const Input*> inputs{&q, &k, &v};
  if (dz) inputs.push_back(dz.get());
  check_inputs(a, pattern, inputs);

  if (q.array.dtype == DType::kFloat32) {
    run_typed<float>(a, pattern, q, k, v, dz.get(), diffusion, outputs);
  } else {
    run_typed<double>(a, pattern, q, k, v, dz.get(), diffusion, outputs);
  }
  const std::int64_t n = q.array.shape[0], width = q.array.shape[1];
  std::printf("wrote %s: n = %lld, nnz = %lld, heads = %d, head dim = %lld, %s, %s, device %s\n",
              fmt::format("{}", fmt::join(outputs, ", ")).c_str(), static_cast<long long>(n),
              static_cast<long long>(pattern.nnz()), a.heads,
              static_cast<long long>(width / a.heads), dtype_name(q.array.dtype),
              diffusion.describe().c_str(), a.device.c_str());
}

}  // namespace

void register_attention_commands(CLI::App& app, Action& action) {
  auto a = std::make_shared<AttentionArgs>();
  auto* cmd = app.add_subcommand(
      "attention",
      "Sparse attention with diffusion on .npy tensors: z = sum_k theta_k A^k v, and with --dz "
      "the gradients of sum(z * dz) (docs/cli.md)");
  cmd->add_option("--graph", a->graph,
                  "Attention pattern, row i = query i, columns = its keys (.mtx, .txt/.edges, "
                  ".json, .npy)")
      ->required();
  cmd->add_option("--q", a->q, "Queries, [n, H*D] float32 or float64 .npy")->required();
  cmd->add_option("--k", a->k, "Keys, [n, H*D], same dtype as --q")->required();
  cmd->add_option("--v", a->v, "Values, [n, H*D], same dtype as --q")->required();
  cmd->add_option("--heads", a->heads, "Number of heads H (must divide the width H*D)")->required();
  a->diffusion.add_to(cmd);
  a->o_dz = cmd->add_option("--dz", a->dz, "Upstream gradient dL/dz, [n, H*D] (needs --grads)");
  a->o_grads = cmd->add_option("--grads", a->grads,
                               "Write PREFIX_dq.npy, PREFIX_dk.npy, PREFIX_dv.npy (needs --dz)");
  cmd->add_option("--device", a->device, "cpu or cuda (CUDA builds, float32 only)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  a->o_threads =
      cmd->add_option("--threads", a->threads, "OpenMP threads (default: OMP_NUM_THREADS or all)");
  cmd->add_option("--out", a->out, "Output z, [n, H*D] .npy in the inputs' dtype")->required();
  cmd->callback([&action, a] { action = [a] { run_attention(*a); }; });
}

}  // namespace diffuser::cli
