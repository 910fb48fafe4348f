// Why: see CapturedAttention.hpp. The layers are registered in nn::Model's order and restored by
// name from the checkpoint (restore_parameters refuses any missing or extra tensor), so a model
// this code does not rebuild exactly is an error, never a silently different model.
#include "viz/CapturedAttention.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/Error.hpp"
#include "core/Npy.hpp"
#include "core/Threads.hpp"
#include "experiments/config/Config.hpp"
#include "experiments/data/ListOps.hpp"
#include "experiments/tasks/TaskData.hpp"
#include "experiments/training/ExperimentModel.hpp"
#include "experiments/training/TrainedCheckpoint.hpp"
#include "graph/Patterns.hpp"
#include "nn/AttentionPlanCache.hpp"
#include "nn/Checkpoint.hpp"
#include "nn/ClassificationHead.hpp"
#include "nn/CrossEntropy.hpp"
#include "nn/Embedding.hpp"
#include "nn/Encoder.hpp"
#include "nn/LayerNorm.hpp"
#include "nn/Model.hpp"

namespace diffuser::viz {

using graph::Index;
namespace fs = std::filesystem;

namespace {

// Model input ids from a .npy file: 1-D, integral values.
std::vector<std::int32_t> read_token_file(const std::string& path) {
  const NpyArray a = read_npy(path);
  DIFFUSER_CHECK(a.shape.size() == 1, "{}: token ids must be a 1-D array, got {} dimensions", path,
                 a.shape.size());
  const std::vector<double> v = a.to_vector<double>();
  std::vector<std::int32_t> out(v.size());
  for (std::size_t t = 0; t < v.size(); ++t) {
    DIFFUSER_CHECK(std::isfinite(v[t]) && v[t] == std::floor(v[t]) && std::abs(v[t]) < 2e9,
                   "{}: element {} = {} is not an integer token id", path, t, v[t]);
    out[t] = static_cast<std::int32_t>(v[t]);
  }
  return out;
}

std::vector<std::string> token_names(const std::string& task, const experiments::TaskShape& shape,
                                     std::span<const std::int32_t> tokens) {
  std::vector<std::string> names;
  for (const std::int32_t id : tokens) {
    if (shape.has_cls && id == shape.vocab - 1) {
      names.emplace_back("<cls>");
    } else if (task == "listops" && id >= 0 && id < experiments::kListOpsVocabSize) {
      names.emplace_back(experiments::listops_token_name(id));
    } else {
      names.push_back(std::to_string(id));
    }
  }
  return names;
}

}  // namespace

graph::CsrGraph CapturedAttention::head_graph(std::int64_t layer, std::int64_t head) const {
  DIFFUSER_CHECK(layer >= 0 && layer < layers, "layer {} is outside [0, {})", layer, layers);
  DIFFUSER_CHECK(head >= 0 && head < heads, "head {} is outside [0, {})", head, heads);
  graph::CsrGraph g = pattern.pattern();
  g.set_values(weights[static_cast<std::size_t>(layer * heads + head)]);
  return g;
}

CapturedAttention capture_attention(const std::string& checkpoint, const CaptureInput& input,
                                    int threads) {
  const experiments::TrainedCheckpoint trained = experiments::TrainedCheckpoint::load(checkpoint);
  const nn::Checkpoint& ck = trained.checkpoint;
  const experiments::Config& c = trained.config;
  const experiments::TaskShape& shape = trained.shape;
  nn::ModelConfig mc = experiments::experiment_model_config(trained.experiment, shape);
  if (mc.kind == nn::ModelKind::kCausalLm) mc.num_classes = mc.vocab;
  std::optional<ThreadCountGuard> guard;
  const int t = threads > 0 ? threads : static_cast<int>(trained.experiment.train.threads);
  if (t > 0) guard.emplace(t);

  CapturedAttention out;
  out.checkpoint = checkpoint;
  out.task = trained.experiment.task.name;
  out.variant = nn::to_string(mc.variant);
  out.step = trained.step;
  out.layers = mc.layers;
  out.heads = mc.heads;

  // The sequence.
  if (!input.tokens_file.empty()) {
    out.tokens = read_token_file(input.tokens_file);
  } else {
    DIFFUSER_CHECK(mc.kind == nn::ModelKind::kClassifier,
                   "{}: the model is a {}; pick its input with a tokens file (--tokens)",
                   checkpoint, nn::to_string(mc.kind));
    const bool is_split = input.data == "train" || input.data == "val" || input.data == "test";
    const std::string split = is_split ? input.data : input.split;
    experiments::check_split_name(split);
    experiments::Config cd = c;
    if (!is_split) {
      DIFFUSER_CHECK(fs::exists(input.data), "--data {}: no such split (train, val, test) or path",
                     input.data);
      cd.apply_override("task.data_dir=" + input.data);
      cd.apply_override("task." + split + "_size=0");
    }
    const std::string run_dir = fs::path(checkpoint).parent_path().string();
    const experiments::TaskData data = experiments::load_task_data(cd, run_dir, {split});
    DIFFUSER_CHECK(data.shape == shape,
                   "--data {}: the data has shape {} but the checkpoint {} was trained on {}",
                   input.data, data.shape.to_json().dump(), checkpoint, shape.to_json().dump());
    const experiments::SequenceDataset& d = split == "train" ? data.train
                                            : split == "val" ? data.val
                                                             : data.test;
    DIFFUSER_CHECK(input.example >= 0 && static_cast<std::size_t>(input.example) < d.size(),
                   "--example {} is outside [0, {}) (the {} split of {})", input.example, d.size(),
                   split, input.data);
    const auto tok = d.tokens(static_cast<std::size_t>(input.example));
    out.tokens.assign(tok.begin(), tok.end());
    out.label = d.label(static_cast<std::size_t>(input.example));
  }
  const auto n64 = static_cast<std::int64_t>(out.tokens.size());
  DIFFUSER_CHECK(n64 >= 1 && n64 <= mc.max_len,
                 "the input has {} tokens; the model takes 1 to max_len = {}", n64, mc.max_len);
  for (std::size_t i = 0; i < out.tokens.size(); ++i) {
    DIFFUSER_CHECK(out.tokens[i] >= 0 && out.tokens[i] < mc.vocab,
                   "input token {} = {} is outside the vocabulary [0, {})", i, out.tokens[i],
                   mc.vocab);
  }
  const auto n = static_cast<Index>(n64);
  out.n = n;
  out.token_names = token_names(out.task, shape, out.tokens);
  DIFFUSER_CHECK(mc.variant != nn::AttentionVariant::kFull || n <= 8192,
                 "full attention on n = {} tokens: the dense weights would need {} floats per "
                 "head (limit n = 8192)",
                 n, static_cast<std::int64_t>(n) * n);

  // The model's layers, registered in nn::Model's order, restored by name.
  nn::ParameterStore<float> store;
  const nn::Embedding embed(store, "embed", mc.vocab, mc.max_len, mc.dim);
  nn::LayerNorm embed_ln;
  if (mc.norm == nn::NormPlacement::kPost) {
    embed_ln = nn::LayerNorm(store, "embed.ln", mc.dim, mc.ln_eps);
  }
  const nn::Encoder encoder(store, mc);
  const bool lm = mc.kind == nn::ModelKind::kCausalLm;
  const nn::ClassificationHead head(store, "head",
                                    mc.kind == nn::ModelKind::kDualEncoder ? 4 * mc.dim : mc.dim,
                                    lm ? mc.vocab : mc.num_classes, lm ? 0 : mc.head_hidden);
  nn::restore_parameters(ck, store);

  // Embedding (+ LayerNorm for post-LN); no dropout in evaluation.
  const auto rd = static_cast<std::size_t>(n64 * mc.dim);
  std::vector<float> emb(rd), x0(rd), hidden(rd);
  nn::embedding_forward(embed, store, std::span<const std::int32_t>(out.tokens), 1, n64,
                        std::span<float>(emb));
  if (mc.norm == nn::NormPlacement::kPost) {
    std::vector<float> mean(static_cast<std::size_t>(n64)), rstd(mean.size());
    nn::layernorm_forward(embed_ln, store, std::span<const float>(emb), std::span<float>(x0),
                          std::span<float>(mean), std::span<float>(rstd), n64);
  } else {
    x0 = emb;
  }

  // Encoder, on the plan nn::Model would use.
  const bool needs_plan = mc.variant != nn::AttentionVariant::kFull || lm;
  graph::PatternSpec spec = mc.pattern;
  if (mc.variant == nn::AttentionVariant::kFull) {
    spec = graph::PatternSpec{};
    spec.full = true;
  }
  nn::AttentionPlanCache plans(spec, lm);
  const std::vector<Index> lengths{n};
  nn::EncoderCall call;
  call.batch = 1;
  call.n = n;
  call.lengths = lengths;
  call.plan = needs_plan ? &plans.get(n) : nullptr;
  nn::EncoderSaved<float> saved;
  nn::encoder_forward(encoder, store, call, std::span<const float>(x0), std::span<float>(hidden),
                      saved);

  out.pattern = needs_plan ? call.plan->pattern() : graph::build_pattern(n, spec);
  const std::int64_t nnz = out.pattern.nnz();
  const auto offsets = out.pattern.offsets();
  const auto columns = out.pattern.columns();
  for (std::int64_t l = 0; l < mc.layers; ++l) {
    const auto& layer = saved.layers[static_cast<std::size_t>(l)];
    out.theta.push_back(
        nn::attention_block_diffusion(encoder.layers[static_cast<std::size_t>(l)].attn, store)
            .theta());
    for (std::int64_t h = 0; h < mc.heads; ++h) {
      std::vector<float> w(static_cast<std::size_t>(nnz));
      if (mc.variant == nn::AttentionVariant::kFull) {
        const float* a = layer.attn.dense.attn.data() + h * n64 * n64;
        for (Index i = 0; i < n; ++i) {
          for (Index e = offsets[i]; e < offsets[i + 1]; ++e) {
            w[static_cast<std::size_t>(e)] = a[static_cast<std::int64_t>(i) * n64 + columns[e]];
          }
        }
      } else {
        for (std::int64_t e = 0; e < nnz; ++e) {
          w[static_cast<std::size_t>(e)] = layer.attn.sparse.weight(0, static_cast<int>(h), e);
        }
      }
      out.weights.push_back(std::move(w));
    }
  }

  // The classifier's prediction, through nn::Model itself.
  if (mc.kind == nn::ModelKind::kClassifier) {
    nn::Model<float> model(mc);
    nn::restore_parameters(ck, model.params());
    nn::Batch b;
    b.batch = 1;
    b.len = n64;
    b.tokens = out.tokens;
    b.lengths = {static_cast<std::int32_t>(n)};
    b.labels = {out.label >= 0 && out.label < mc.num_classes ? out.label : nn::kIgnoreLabel};
    model.forward(b, false, 0, 0);
    const auto logits = model.logits();
    out.prediction =
        static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  return out;
}

}  // namespace diffuser::viz
