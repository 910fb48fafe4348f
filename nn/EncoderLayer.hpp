// Why: one transformer encoder layer (attention sub-layer + MLP sub-layer, each with a residual,
// dropout and LayerNorm), in the pre-LN placement that trains stably without warm-up tricks and
// in the post-LN placement of RoBERTa and the original Diffuser code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/Rng.hpp"
#include "nn/AttentionBlock.hpp"
#include "nn/Dropout.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/Mlp.hpp"
#include "nn/ModelConfig.hpp"
#include "nn/ParameterStore.hpp"

namespace diffuser::nn {

/// Encoder layer `index` (0-based) on x [rows, d], rows = batch·n:
///   pre-LN:  h = x + Drop_a(Attn(LN1(x)));  y = h + Drop_m(MLP(LN2(h)))
///   post-LN: h = LN1(x + Drop_a(Attn(x)));  y = LN2(h + Drop_m(MLP(h)))
/// MLP = fc2(GELU(fc1(.))) with d -> mlp_dim -> d. Drop_a and Drop_m use probability
/// config.dropout with the streams of nn/DropoutSite.hpp (LayerSite::kAttentionOutput,
/// kMlpOutput); the attention weights use config.attention_dropout (kAttentionWeights).
/// Registers "<name>.attn.*", "<name>.ln1.*", "<name>.mlp.*", "<name>.ln2.*" in that order.
struct EncoderLayer {
  std::int64_t index = 0;
  std::int64_t dim = 0;
  std::int64_t mlp_dim = 0;
  NormPlacement norm = NormPlacement::kPre;
  float dropout = 0.0f;
  AttentionBlock attn;
  LayerNorm ln1;
  Mlp mlp;
  LayerNorm ln2;

  EncoderLayer() = default;
  template <typename T>
  EncoderLayer(ParameterStore<T>& store, const std::string& name, std::int64_t index,
               const ModelConfig& config);
};

/// attention_block_init, LN1 = (1, 0), mlp_init, LN2 = (1, 0), in that order.
template <typename T>
void encoder_layer_init(const EncoderLayer& layer, ParameterStore<T>& store, Rng& rng,
                        double stddev = 0.02);

/// Shape, pattern and dropout state of one pass through the encoder (the same for all layers).
struct EncoderCall {
  std::int64_t batch = 1;                          ///< sequences
  graph::Index n = 0;                              ///< padded length
  std::span<const graph::Index> lengths;           ///< [batch] valid lengths (empty: all n)
  const attention::AttentionPlan* plan = nullptr;  ///< see AttentionCall::plan
  bool training = false;                           ///< dropout on
  std::uint64_t seed = 0;                          ///< dropout seed
  std::uint64_t step = 0;                          ///< optimiser step (selects the dropout streams)
};

/// What one layer's forward keeps for its backward (rows = batch·n, each vector [rows, ·]):
/// the attention block's state, LN1's output and statistics, the first residual sum, LN2's
/// output (pre-LN) and statistics, the MLP's pre-activation and activation, and (post-LN) the
/// second residual sum. About (6 to 7)·rows·d + 2·rows·mlp_dim values plus the attention state.
template <typename T>
struct EncoderLayerSaved {
  AttentionBlockSaved<T> attn;
  std::vector<T> ln1_y, ln1_mean, ln1_rstd;  ///< pre: LN1(x); post: LN1(x + a) = h
  std::vector<T> res1;                       ///< x + Drop_a(a) (post-LN: LN1's input)
  std::vector<T> ln2_y, ln2_mean, ln2_rstd;  ///< pre: LN2(h) (post: LN2's output is y itself)
  std::vector<T> mlp_pre, mlp_act;
  std::vector<T> res2;  ///< post-LN only: h + Drop_m(m), LN2's input
  Dropout drop_attn;    ///< the two residual-branch dropouts of the forward (masks recomputed)
  Dropout drop_mlp;

  std::size_t bytes() const;
};

/// Backward temporaries, reused across calls and layers (contents undefined between calls).
template <typename T>
struct EncoderLayerScratch {
  std::vector<T> layer;      ///< 3·rows·d + rows·mlp_dim
  std::vector<T> attention;  ///< the attention block's 4·rows·d
};

/// x, y: [rows, d] (y overwritten; may not alias x). Fills `saved`.
template <typename T>
void encoder_layer_forward(const EncoderLayer& layer, const ParameterStore<T>& store,
                           const EncoderCall& call, std::span<const T> x, std::span<T> y,
                           EncoderLayerSaved<T>& saved);

/// Given dy [rows, d], the forward's input x and saved state: accumulates every parameter
/// gradient of the layer and writes dx [rows, d] (overwritten; may not alias dy). `scratch` is
/// resized as needed; one scratch can serve every layer.
template <typename T>
void encoder_layer_backward(const EncoderLayer& layer, ParameterStore<T>& store,
                            std::span<const T> x, std::span<const T> dy, std::span<T> dx,
                            const EncoderLayerSaved<T>& saved, EncoderLayerScratch<T>& scratch);

}  // namespace diffuser::nn
