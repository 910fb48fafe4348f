// Why: one plain description of a model (shape, attention variant, pattern, diffusion) shared
// by the model builder, the trainer (which fills it from an experiment config) and checkpoints.
#pragma once

#include <cstdint>
#include <string>

#include "attention/AttentionOptions.hpp"
#include "core/Diffusion.hpp"
#include "graph/PatternSpec.hpp"
#include "nn/Pooling.hpp"

namespace diffuser::nn {

/// What the model predicts.
enum class ModelKind {
  kClassifier,   ///< one label per sequence: embedding -> encoder -> pooling -> linear head
  kDualEncoder,  ///< one label per pair of sequences (retrieval): shared encoder on both,
                 ///< pooled u, v combined as [u, v, u*v, u-v] -> linear head
  kCausalLm,     ///< next-byte prediction at every position; the pattern is made causal
};

/// Which attention each encoder layer uses (docs/design.md §1).
enum class AttentionVariant {
  kDiffuser,  ///< pattern + diffusion (theta from `diffusion`)
  kSparse,    ///< same pattern, no diffusion (Z = A V)
  kFull,      ///< dense softmax attention over all valid keys
};

/// LayerNorm placement in an encoder layer.
enum class NormPlacement {
  kPre,   ///< x + Drop(Attn(LN(x))); x + Drop(MLP(LN(x))); final LN after the stack (default)
  kPost,  ///< LN(x + Drop(Attn(x))); LN(h + Drop(MLP(h))) (RoBERTa / the original code)
};

/// A model's full description.
struct ModelConfig {
  ModelKind kind = ModelKind::kClassifier;
  std::int64_t vocab = 0;        ///< token ids in [0, vocab)
  std::int64_t num_classes = 0;  ///< classifier / dual encoder; LM: = vocab
  std::int64_t max_len = 0;      ///< longest sequence (size of the position embedding)
  std::int64_t layers = 2;
  std::int64_t dim = 64;  ///< d = heads * head_dim
  std::int64_t heads = 4;
  std::int64_t mlp_dim = 128;
  NormPlacement norm = NormPlacement::kPre;
  double ln_eps = 1e-5;
  double dropout = 0.1;  ///< embeddings, attention output, MLP output
  Pooling pool = Pooling::kCls;
  /// Classification head hidden width: > 0 gives RoBERTa's dense -> tanh -> out head, 0 a single
  /// linear projection (the LRA baselines). Unused by the causal LM (always one projection).
  std::int64_t head_hidden = 0;
  AttentionVariant variant = AttentionVariant::kDiffuser;
  graph::PatternSpec pattern;  ///< for diffuser/sparse
  Diffusion diffusion =
      Diffusion::ppr(Diffusion::kDefaultAlpha, Diffusion::kDefaultHops);  ///< for diffuser
  bool learn_theta = false;  ///< theta per layer learnable (diffuser variant only)
  double attention_dropout = 0.0;
  attention::MemoryMode memory = attention::MemoryMode::kStoreHops;
};

/// "classifier", "dual_encoder", "causal_lm".
const char* to_string(ModelKind kind);
/// "diffuser", "sparse", "full".
const char* to_string(AttentionVariant variant);
/// "pre", "post".
const char* to_string(NormPlacement norm);

/// Parse the names above; diffuser::Error names the bad value and lists the accepted ones.
ModelKind parse_model_kind(const std::string& name);
AttentionVariant parse_attention_variant(const std::string& name);
NormPlacement parse_norm_placement(const std::string& name);

/// Throws diffuser::Error naming the field for inconsistent configs (heads not dividing dim,
/// non-positive sizes, vocab/num_classes/max_len unset or past 2^31-1, layers past 65535,
/// dropout outside [0, 1), ln_eps <= 0, learn_theta without the diffuser variant, an invalid
/// pattern spec; a causal LM's num_classes must be 0 or vocab).
void validate_model_config(const ModelConfig& config);

}  // namespace diffuser::nn
