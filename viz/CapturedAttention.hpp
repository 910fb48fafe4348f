// Why: to look at what a trained model attends to, we need the softmax edge weights of every
// layer and head on one real input. nn::Model keeps those inside its forward state; this runs
// the same layers (embedding, encoder) of a checkpoint written by `diffuser train` on one
// sequence, in evaluation mode, and hands the weights out as graphs over the pattern.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/CsrGraph.hpp"

namespace diffuser::viz {

/// Which sequence to run the checkpoint on.
struct CaptureInput {
  /// A split of the run's own data ("train", "val", "test") or a folder with the task's files,
  /// as `diffuser eval --data` takes it (the run folder is the checkpoint's folder).
  std::string data = "test";
  /// The split read from `data` when it is a folder.
  std::string split = "test";
  /// Example index within the split.
  std::int64_t example = 0;
  /// When not empty: a .npy file of model input ids (1-D, any integer or float dtype holding
  /// integers), used as they are (include the CLS token when the model has one); `data`,
  /// `split` and `example` are then ignored.
  std::string tokens_file;
};

/// Attention weights of every layer and head of a model on one sequence of n tokens.
struct CapturedAttention {
  std::string checkpoint;
  std::string task;     ///< task.name of the run
  std::string variant;  ///< diffuser, sparse or full
  std::int64_t step = 0;
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  graph::Index n = 0;
  std::vector<std::int32_t> tokens;      ///< [n] model input ids
  std::vector<std::string> token_names;  ///< [n] readable tokens (ListOps spelling, <cls>, ids)
  std::int32_t label = -1;       ///< the example's label (-1 with a tokens file or no label)
  std::int32_t prediction = -1;  ///< the classifier's argmax (-1 for other model kinds)
  std::vector<std::vector<double>> theta;  ///< per layer: theta_0..theta_K the layer diffuses with
  /// The pattern the sequence attends over (variant full: every key, or j <= i for a causal LM).
  graph::CsrGraph pattern;
  /// weights[l * heads + h][e]: softmax weight a_e of edge e (CSR order of `pattern`) of layer
  /// l, head h; rows sum to 1.
  std::vector<std::vector<float>> weights;

  /// The pattern with the weights of layer l, head h as edge values.
  graph::CsrGraph head_graph(std::int64_t layer, std::int64_t head) const;
};

/// Loads the checkpoint (nn::load_checkpoint: every integrity check), rebuilds the model its
/// config describes, runs embedding + encoder on the chosen sequence (batch 1, no padding, no
/// dropout) and collects the weights. For the full variant n must be at most 8192 (the dense
/// weights are n^2 per head). Throws diffuser::Error naming the file and the problem: not a
/// `diffuser train` checkpoint, example index out of range, token ids outside the vocabulary,
/// a sequence longer than the model's max_len, dual-encoder and LM data splits (use a tokens
/// file for those).
CapturedAttention capture_attention(const std::string& checkpoint, const CaptureInput& input,
                                    int threads = 0);

}  // namespace diffuser::viz
