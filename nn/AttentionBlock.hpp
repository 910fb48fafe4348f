// Why: the multi-head attention sub-layer of an encoder layer: Q, K, V projections, the
// attention core of the configured variant (Diffuser's pattern + diffusion, the same pattern
// without diffusion, or dense softmax attention) and the output projection, with an explicit
// backward that also yields the gradient of learnable diffusion coefficients.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "attention/AttentionPlan.hpp"
#include "attention/AttentionSaved.hpp"
#include "attention/DenseAttention.hpp"
#include "core/Diffusion.hpp"
#include "core/Rng.hpp"
#include "nn/Linear.hpp"
#include "nn/ModelConfig.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// y = Z W_o^T + b_o with Z = Attn(x W_q^T + b_q, x W_k^T + b_k, x W_v^T + b_v), all Linears
/// d -> d, H heads of width D = d / H (head h = columns h·D .. h·D+D-1, docs/design.md §3).
/// Attn per variant (docs/design.md §1):
///  - kDiffuser: sparse attention on the call's pattern plan, Z = sum_k theta_k A^k V with theta
///    from config.diffusion, or the learnable "<name>.theta" ([K+1], kNorm: no weight decay)
///    when config.learn_theta (initialised to config.diffusion's coefficients);
///  - kSparse: the same pattern, Z = A V (Diffusion::plain());
///  - kFull: dense softmax attention over every valid key (or over the call's plan pattern when
///    one is given: the causal LM passes the causal full pattern), Z = A V.
/// Registers "<name>.q", "<name>.k", "<name>.v", "<name>.out" (weights and biases) and, when
/// learnable, "<name>.theta".
struct AttentionBlock {
  std::int64_t dim = 0;
  int heads = 0;
  AttentionVariant variant = AttentionVariant::kDiffuser;
  Diffusion diffusion;  ///< fixed coefficients (initial values when learnable)
  bool learn_theta = false;
  double attention_dropout = 0.0;  ///< on the edge weights a_e, training only
  attention::MemoryMode memory = attention::MemoryMode::kStoreHops;
  Linear q;
  Linear k;
  Linear v;
  Linear out;
  ParamRef theta;  ///< valid only when learn_theta

  AttentionBlock() = default;
  /// Takes dim, heads, variant, diffusion, learn_theta, attention_dropout and memory from
  /// `config` (which must have passed validate_model_config).
  template <typename T>
  AttentionBlock(ParameterStore<T>& store, const std::string& name, const ModelConfig& config);
};

/// The four Linears with linear_init(stddev) in the order q, k, v, out; theta (if learnable) set
/// to the configured diffusion coefficients.
template <typename T>
void attention_block_init(const AttentionBlock& block, ParameterStore<T>& store, Rng& rng,
                          double stddev = 0.02);

/// The coefficients a forward pass uses now: the learnable tensor's values, or the fixed ones.
template <typename T>
Diffusion attention_block_diffusion(const AttentionBlock& block, const ParameterStore<T>& store);

/// Shape, pattern and dropout of one attention block call.
struct AttentionCall {
  std::int64_t batch = 1;  ///< sequences
  graph::Index n = 0;      ///< padded length of every sequence
  /// [batch] valid lengths in [1, n] (keys j >= length are masked, query rows j >= length give
  /// zero attention output); empty: every sequence has length n. Copied by the forward.
  std::span<const graph::Index> lengths;
  /// kDiffuser / kSparse: the pattern's plan at length n (required). kFull: null for all keys,
  /// or a plan whose pattern restricts the keys (e.g. the causal full pattern).
  const attention::AttentionPlan* plan = nullptr;
  bool training = false;     ///< attention-weight dropout only when training
  std::uint64_t seed = 0;    ///< dropout seed
  std::uint64_t stream = 0;  ///< dropout stream (nn/DropoutSite.hpp)
};

/// What the forward keeps for the backward. Memory per call (rows = batch·n, s = sizeof(T)):
/// 4·rows·d·s for q, k, v, z, plus the attention core's saved state (AttentionSaved: H·nnz·s
/// per sequence, twice with dropout, plus (K-1)·n·d·s hop states per sequence with kStoreHops;
/// DenseAttentionSaved: H·n²·s per sequence, twice with dropout).
template <typename T>
struct AttentionBlockSaved {
  std::int64_t batch = 0;
  graph::Index n = 0;
  std::vector<graph::Index> lengths;
  const attention::AttentionPlan* plan = nullptr;
  std::vector<T> q, k, v, z;  ///< [batch, n, d] each
  attention::AttentionSaved<T> sparse;
  attention::DenseAttentionSaved<T> dense;

  std::size_t bytes() const {
    return (q.size() + k.size() + v.size() + z.size()) * sizeof(T) + sparse.bytes() +
           dense.bytes() + lengths.size() * sizeof(graph::Index);
  }
};

/// x: [batch, n, d]; y: [batch, n, d] (overwritten, may not alias x). Fills `saved`.
/// Throws diffuser::Error for shape mismatches, a missing plan (sparse variants), a plan of the
/// wrong length, bad lengths, or non-finite q/k/v (named by the attention core).
template <typename T>
void attention_block_forward(const AttentionBlock& block, const ParameterStore<T>& store,
                             const AttentionCall& call, std::span<const T> x, std::span<T> y,
                             AttentionBlockSaved<T>& saved);

/// Given dy = dL/dy [batch, n, d] and the forward's x and saved state: accumulates the gradients
/// of W_q, b_q, W_k, b_k, W_v, b_v, W_o, b_o (and theta: dtheta_k = <dZ, A^k V> summed over
/// sequences and heads) into the store; dx = dq W_q + dk W_k + dv W_v [batch, n, d]
/// (overwritten). `scratch` is resized to 4·batch·n·d as needed; its contents are undefined on
/// return (one scratch can serve every layer).
template <typename T>
void attention_block_backward(const AttentionBlock& block, ParameterStore<T>& store,
                              std::span<const T> x, std::span<const T> dy, std::span<T> dx,
                              const AttentionBlockSaved<T>& saved, std::vector<T>& scratch);

}  // namespace diffuser::nn
