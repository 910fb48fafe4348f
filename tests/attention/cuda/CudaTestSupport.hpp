// Why: shared pieces of the CUDA backend tests — the visible skip when no device is usable, the
// parity cases (skewed rows, padding, causal, dropout, all diffusion families) and helpers that
// run one forward/backward on the CPU reference or the GPU with poisoned outputs.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "attention/SparseAttention.hpp"
#include "attention/cuda/CudaAttention.hpp"
#include "attention/cuda/CudaDevice.hpp"
#include "tests/Testing.hpp"
#include "tests/attention/AttentionTestSupport.hpp"

namespace diffuser::attention::cuda::test {

using attention::test::PatternKind;
using graph::Index;

/// True when a CUDA device is usable. Otherwise prints "SKIPPED: no CUDA device (<reason>)" on
/// stdout (ctest's SKIP_REGULAR_EXPRESSION for this executable turns it into a visible
/// "Skipped") and as a Catch2 warning, and the caller returns without asserting anything.
inline bool have_cuda_device() {
  std::string reason;
  if (cuda_available(&reason)) return true;
  std::printf("SKIPPED: no CUDA device (%s)\n", reason.c_str());
  std::fflush(stdout);
  WARN("SKIPPED: no CUDA device (" << reason << ")");
  return false;
}

/// One parity case: a pattern, a shape, a batch with lengths and the options.
struct ParityCase {
  const char* name;
  Index n;
  PatternKind kind;
  bool full = false;  ///< use the full pattern instead of `kind`
  int heads;
  int dim;
  std::vector<Index> lengths;  ///< one per sequence
  Diffusion diffusion;
  double dropout;
  MemoryMode memory;
};

/// The cases every path and row split is checked on.
inline std::vector<ParityCase> parity_cases() {
  return {
      {"skewed rows: 2 global rows of degree n, D = 8 (float4 loads)",
       150,
       PatternKind{0.05, true, false, 2, 0},
       false,
       3,
       8,
       {150, 150},
       Diffusion::ppr(0.1, 5),
       0.0,
       MemoryMode::kStoreHops},
      {"padding, dropout, self-only rows, D = 5 (scalar loads)",
       97,
       PatternKind{0.1, true, false, 1, 7},
       false,
       2,
       5,
       {97, 60, 1},
       Diffusion::ppr(0.2, 3),
       0.2,
       MemoryMode::kRecompute},
      {"causal with a global row, heat kernel, dropout",
       120,
       PatternKind{0.1, true, true, 1, 0},
       false,
       4,
       16,
       {120, 75},
       Diffusion::heat(1.5, 4),
       0.1,
       MemoryMode::kStoreHops},
      {"full pattern, plain attention (K = 1)",
       40,
       PatternKind{},
       true,
       2,
       12,
       {40},
       Diffusion::plain(),
       0.0,
       MemoryMode::kStoreHops},
      {"no self-loops: valid rows whose keys are all padded",
       64,
       PatternKind{0.05, false, false, 0, 0},
       false,
       2,
       4,
       {64, 20},
       Diffusion::ppr(0.1, 2),
       0.0,
       MemoryMode::kStoreHops},
      {"degree-0 polynomial (Z = V) and K = 0 backward",
       30,
       PatternKind{0.2, true, false, 0, 0},
       false,
       1,
       4,
       {30},
       Diffusion::from_coefficients({1.0}),
       0.0,
       MemoryMode::kStoreHops},
  };
}

inline graph::CsrGraph case_pattern(const ParityCase& c, std::uint64_t seed) {
  return c.full ? attention::test::full_pattern(c.n)
                : attention::test::random_pattern(c.n, c.kind, seed);
}

inline AttentionOptions case_options(const ParityCase& c) {
  AttentionOptions o;
  o.heads = c.heads;
  o.diffusion = c.diffusion;
  o.dropout = c.dropout;
  o.seed = 1234;
  o.stream = 7;
  o.memory = c.memory;
  return o;
}

/// Inputs and upstream gradient of a case.
struct CaseTensors {
  std::vector<float> q, k, v, dz;
};

inline CaseTensors case_tensors(const ParityCase& c, std::uint64_t seed) {
  const std::size_t size = c.lengths.size() * static_cast<std::size_t>(c.n) * c.heads * c.dim;
  return CaseTensors{attention::test::random_tensor<float>(size, seed),
                     attention::test::random_tensor<float>(size, seed + 1),
                     attention::test::random_tensor<float>(size, seed + 2),
                     attention::test::random_tensor<float>(size, seed + 3)};
}

/// Everything one forward + backward produces.
struct RunOutputs {
  std::vector<float> z;
  AttentionSaved<float> saved;
  std::vector<float> dq, dk, dv;
  std::vector<double> dtheta;
};

inline AttentionInputs<float> case_inputs(const ParityCase& c, const CaseTensors& t) {
  return AttentionInputs<float>{t.q, t.k, t.v, static_cast<std::int64_t>(c.lengths.size()),
                                c.lengths};
}

inline void poison_gradients(RunOutputs& out, std::size_t size, int degree) {
  out.dq = testing::poisoned<float>(size);
  out.dk = testing::poisoned<float>(size);
  out.dv = testing::poisoned<float>(size);
  out.dtheta = testing::poisoned<double>(static_cast<std::size_t>(degree) + 1);
}

/// The CPU reference (plain loops, double accumulation): the oracle.
inline RunOutputs run_reference(const AttentionPlan& plan, const ParityCase& c,
                                const CaseTensors& t) {
  RunOutputs out;
  const AttentionOptions o = case_options(c);
  const AttentionInputs<float> in = case_inputs(c, t);
  out.z = testing::poisoned<float>(t.q.size());
  sparse_attention_forward<float>(plan, o, in, out.z, &out.saved, Kernels::kReference);
  poison_gradients(out, t.q.size(), c.diffusion.degree());
  sparse_attention_backward<float>(plan, in, out.saved, t.dz,
                                   AttentionGradients<float>{out.dq, out.dk, out.dv, out.dtheta},
                                   Kernels::kReference);
  return out;
}

/// The GPU through the host API (copies in and out).
inline RunOutputs run_gpu(CudaAttention& gpu, const ParityCase& c, const CaseTensors& t) {
  RunOutputs out;
  const AttentionOptions o = case_options(c);
  const AttentionInputs<float> in = case_inputs(c, t);
  out.z = testing::poisoned<float>(t.q.size());
  gpu.forward(o, in, out.z, &out.saved);
  poison_gradients(out, t.q.size(), c.diffusion.degree());
  gpu.backward(in, out.saved, t.dz, AttentionGradients<float>{out.dq, out.dk, out.dv, out.dtheta});
  return out;
}

/// Row splits the GPU is checked with: the default (no long rows in these small cases) and a
/// tiny threshold that makes most rows long (block-per-row softmax, segmented hops + fix-up).
inline std::vector<CudaAttentionConfig> split_configs(CudaPath path) {
  CudaAttentionConfig normal;
  normal.path = path;
  CudaAttentionConfig tiny = normal;
  tiny.long_row_degree = 8;
  tiny.segment_edges = 3;
  return {normal, tiny};
}

}  // namespace diffuser::attention::cuda::test
