// Why: full softmax attention (and the same diffusion over a dense A) is the test oracle for
// small n, the dense baseline of the benchmarks and the `full` variant of the nn models. It is
// built on blocked, multi-threaded Eigen GEMMs, and it refuses up front with a clear error when
// its n x n buffers would not fit a memory limit, instead of failing inside an allocation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "attention/AttentionGeometry.hpp"
#include "attention/AttentionGradients.hpp"
#include "attention/AttentionInputs.hpp"
#include "attention/AttentionOptions.hpp"
#include "graph/CsrGraph.hpp"

namespace diffuser::attention {

/// What a dense attention forward saves for backward.
/// Memory per sequence (s = sizeof(T)): attn H·n²·s, attn_dropped another H·n²·s when
/// dropout > 0, hops (K-1)·n·H·D·s in MemoryMode::kStoreHops.
template <typename T>
struct DenseAttentionSaved {
  AttentionGeometry geometry;
  AttentionOptions options;
  /// Softmax weights before dropout, [batch, H, n, n] row-major (row = query, column = key);
  /// 0 outside the pattern, on padded keys and on padded query rows.
  std::vector<T> attn;
  /// The weights after dropout; empty when options.dropout == 0.
  std::vector<T> attn_dropped;
  /// Hop states Y_1..Y_{K-1}, [batch, K-1, n, H·D] (kStoreHops, K > 1), else empty.
  std::vector<T> hops;

  std::size_t bytes() const {
    return (attn.size() + attn_dropped.size() + hops.size()) * sizeof(T);
  }
  const std::vector<T>& diffusion_weights() const {
    return attn_dropped.empty() ? attn : attn_dropped;
  }
};

/// Half of the machine's physical memory: the default limit on the dense path's n x n buffers.
std::uint64_t default_dense_memory_limit();

/// Bytes of n x n buffers a dense call holds at its peak: the saved weights (batch·H·n², twice
/// with dropout) when saving (or one head's n² when not), plus one n² workspace. The hop states
/// (O(n·H·D)) are not counted.
std::uint64_t dense_attention_bytes(const AttentionGeometry& g, std::size_t scalar_size,
                                    bool dropout, bool saving);

/// Dense attention forward: for each sequence b and head h,
///   S = Q_h K_h^T / sqrt(D) restricted to the pattern (every key when pattern is null) and to
///   valid keys j < len; A = row softmax of S (rows i >= len and rows without a valid key: 0);
///   attention dropout as on the sparse path, edge index e = the pattern's CSR edge index of
///   (i, j), which for the full pattern is i·n + j; Z_h = sum_k theta_k A^k V_h by Horner with
///   GEMMs, rows i >= len set to 0.
/// n is the sequence length; `pattern`, when given, must be an n-node graph without empty rows.
/// The same contract and errors as sparse_attention_forward, plus diffuser::Error when
/// dense_attention_bytes exceeds memory_limit (0 means default_dense_memory_limit()).
template <typename T>
void dense_attention_forward(graph::Index n, const graph::CsrGraph* pattern,
                             const AttentionOptions& options, const AttentionInputs<T>& inputs,
                             std::span<T> z, DenseAttentionSaved<T>* saved = nullptr,
                             std::uint64_t memory_limit = 0);

/// Dense attention backward (docs/design.md §1 with GEMMs): dY_0 = dZ, dY_{k+1} = A^T dY_k,
/// dV = sum_k theta_k dY_k, dA = [dY_0 .. dY_{K-1}] [Y_1 .. Y_K]^T (one GEMM of inner size K·D),
/// dropout and softmax backward, dQ = dS K / sqrt(D), dK = dS^T Q / sqrt(D).
template <typename T>
void dense_attention_backward(graph::Index n, const graph::CsrGraph* pattern,
                              const AttentionInputs<T>& inputs, const DenseAttentionSaved<T>& saved,
                              std::span<const T> dz, const AttentionGradients<T>& grads,
                              std::uint64_t memory_limit = 0);

}  // namespace diffuser::attention
